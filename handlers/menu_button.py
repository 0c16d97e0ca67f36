"""The chat's menu button opens the Mini App, where the web server has a public https URL.

Telegram opens Mini Apps (web_app buttons, the menu button's too) only over https, so without an
https MATCHMAKER_WEB_URL there is no menu button and the cards carry no Mini App button. The
bot-wide button is labelled in the event's default language at start; each chat's own button is
set in its reader's language once that language is known or changed (`label_chat_menu`).
"""

from __future__ import annotations

import logging

from telegram import Bot, MenuButtonWebApp, WebAppInfo
from telegram.error import TelegramError

from bot.i18n import Translator
from bot.services import Services
from handlers.context import BotContext

log = logging.getLogger(__name__)

MENU_LOCALE = "menu_button_locale"  # chat_data: the language the chat's menu button is in


def miniapp_url(services: Services) -> str | None:
    """The Mini App's public URL; None without an https MATCHMAKER_WEB_URL (Telegram needs one)."""
    base = services.settings.web_url
    if not base or not base.startswith("https://"):
        return None
    return f"{base}/app"


def _button(url: str, tr: Translator) -> MenuButtonWebApp:
    return MenuButtonWebApp(text=tr.label("My day"), web_app=WebAppInfo(url=url))


async def publish_menu_button(bot: Bot, services: Services) -> bool:
    """Make the menu button of every private chat open the Mini App; False when there is none."""
    url = miniapp_url(services)
    if url is None:
        return False
    tr = services.i18n.translator(services.settings.default_language)
    await bot.set_chat_menu_button(menu_button=_button(url, tr))
    return True


async def label_chat_menu(context: BotContext, chat_id: int, tr: Translator) -> bool:
    """Label this chat's menu button in the reader's language (once per language and chat);
    False when nothing was set. A failure is logged, never raised: the chat goes on."""
    url = miniapp_url(context.services)
    chat = context.chat_data
    if url is None or chat is None or chat.get(MENU_LOCALE) == tr.locale:
        return False
    try:
        await context.bot.set_chat_menu_button(chat_id=chat_id, menu_button=_button(url, tr))
    except TelegramError as error:
        log.warning("menu button of a chat not set: %s", error)
        return False
    chat[MENU_LOCALE] = tr.locale
    return True
