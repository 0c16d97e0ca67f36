"""The chat's menu button opens the Mini App, where the web server has a public https URL."""

from __future__ import annotations

from telegram import Bot, MenuButtonWebApp, WebAppInfo

from bot.services import Services


def miniapp_url(services: Services) -> str | None:
    """The Mini App's public URL; None without an https MATCHMAKER_WEB_URL (Telegram needs one)."""
    base = services.settings.web_url
    if not base or not base.startswith("https://"):
        return None
    return f"{base}/app"


async def publish_menu_button(bot: Bot, services: Services) -> bool:
    """Make the menu button of every private chat open the Mini App; False when there is none."""
    url = miniapp_url(services)
    if url is None:
        return False
    tr = services.i18n.translator(services.settings.default_language)
    button = MenuButtonWebApp(text=tr.label("My day"), web_app=WebAppInfo(url=url))
    await bot.set_chat_menu_button(menu_button=button)
    return True
