"""What every handler needs: who is talking, in which language, and how to answer."""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
    WebAppInfo,
)
from telegram.error import BadRequest, Forbidden

from bot.domain.models import Delegate
from bot.i18n import Translator, resolve_locale
from bot.services import Services
from handlers import callbacks
from handlers.context import BotContext
from handlers.views import MESSAGE_LIMIT, utf16_len

log = logging.getLogger(__name__)

# The isolates and marks that keep a right-to-left value in place; never part of a choice.
_BIDI_MARKS = dict.fromkeys(map(ord, "\u2066\u2067\u2068\u2069\u200e\u200f\u061c"))
# Telegram's limit of a photo's or file's caption, in UTF-16 code units.
CAPTION_LIMIT = 1024

Buttons = list[list[tuple[str, str]]]
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Caller:
    """The user behind an update, their delegate row if any, and their translator."""

    user_id: int
    chat_id: int
    delegate: Delegate | None
    tr: Translator


async def caller(update: Update, context: BotContext) -> Caller | None:
    """Identify the user of a private update; None for updates without a private chat."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != chat.PRIVATE:
        return None
    services = context.services
    delegate = await services.delegates.by_telegram_user(user.id)
    return Caller(
        user.id, chat.id, delegate, translator_for(services, delegate, user.language_code)
    )


@dataclass(frozen=True)
class Press:
    """A button press by a registered delegate, its data parsed for one feature."""

    query: CallbackQuery
    who: Caller
    delegate: Delegate
    data: callbacks.Callback


@dataclass(frozen=True)
class CallerPress:
    """A button press by anyone in a private chat (registered or not), its data parsed."""

    query: CallbackQuery
    who: Caller
    data: callbacks.Callback


async def caller_press(
    update: Update, context: BotContext, namespace: str, actions: frozenset[str]
) -> CallerPress | None:
    """The press to act on; None when there is none, or once a forged or stale press was
    refused with an alert."""
    query = update.callback_query
    who = await caller(update, context)
    if query is None or who is None:
        return None
    data = callbacks.parse(query.data, namespace, actions)
    if data is None:
        await refuse_button(query, who.tr)
        return None
    return CallerPress(query, who, data)


async def registered_press(
    update: Update, context: BotContext, namespace: str, actions: frozenset[str]
) -> Press | None:
    """The press to act on; None when there is none, or once a forged or stale press, or one by
    someone not registered, was refused with an alert."""
    press = await caller_press(update, context, namespace, actions)
    if press is None:
        return None
    delegate = press.who.delegate
    if delegate is None or not delegate.is_registered:
        await refuse_button(press.query, press.who.tr)
        return None
    return Press(press.query, press.who, delegate, press.data)


async def organizer(update: Update, context: BotContext) -> Caller | None:
    """Return the caller if they are an organizer right now; otherwise refuse politely."""
    who = await caller(update, context)
    if who is None:
        return None
    if await context.services.organizers.is_organizer(who.user_id):
        return who
    refusal = who.tr.label("Sorry, this is only available to the event organizers.")
    if update.callback_query is not None:
        await update.callback_query.answer(refusal, show_alert=True)
    else:
        await send(context, who.chat_id, who.tr._(refusal))
    return None


@dataclass(frozen=True)
class OrganizerPress:
    """A button press by someone who is an organizer at the moment of pressing."""

    query: CallbackQuery
    who: Caller
    data: callbacks.Callback


async def organizer_press(
    update: Update, context: BotContext, namespace: str, actions: frozenset[str]
) -> OrganizerPress | None:
    """The organizer twin of `registered_press`: the role is re-checked on every press, and
    a forged or stale press is refused with an alert."""
    query = update.callback_query
    if query is None:
        return None
    who = await organizer(update, context)
    if who is None:
        return None
    data = callbacks.parse(query.data, namespace, actions)
    if data is None:
        await refuse_button(query, who.tr)
        return None
    return OrganizerPress(query, who, data)


def translator_for(
    services: Services, delegate: Delegate | None, language_code: str | None
) -> Translator:
    """The delegate's saved language, else Telegram's language, else the event default."""
    if delegate is not None and delegate.locale:
        return services.i18n.translator(delegate.locale)
    default = services.settings.default_language
    return services.i18n.translator(resolve_locale(language_code, default))


def _button(label: str, data: str) -> InlineKeyboardButton:
    # An https address opens the Mini App there (handlers/web/menu.py); callback data never
    # starts with one.
    if data.startswith("https://"):
        return InlineKeyboardButton(label, web_app=WebAppInfo(url=data))
    return InlineKeyboardButton(label, callback_data=data)


def keyboard(rows: Buttons) -> InlineKeyboardMarkup | None:
    """Build an inline keyboard from rows of (label, callback data or a Mini App's https URL)."""
    if not rows:
        return None
    return InlineKeyboardMarkup([[_button(label, data) for label, data in row] for row in rows])


def chunk(buttons: list[tuple[str, str]], per_row: int) -> Buttons:
    """Split buttons into rows of at most per_row."""
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


async def send(context: BotContext, chat_id: int, text: str, rows: Buttons | None = None) -> None:
    """Send an HTML message as the direct answer to the user's own action."""
    await context.bot.send_message(chat_id, text, reply_markup=keyboard(rows or []))


def bare_label(label: str) -> str:
    """A button's label without the marks before its words (a tick, a box, an emoji, a flag)
    and without bidi isolates: what was chosen, to echo or to compare with what was typed."""
    text = label.translate(_BIDI_MARKS).strip()
    start = next((i for i, ch in enumerate(text) if ch.isalnum()), len(text))
    return text[start:].strip() or text


def pressed_label(query: CallbackQuery) -> str | None:
    """The label of the button that was pressed, read from the message it is on."""
    message = query.message
    if not isinstance(message, Message) or message.reply_markup is None:
        return None
    for row in message.reply_markup.inline_keyboard:
        for button in row:
            if button.callback_data is not None and button.callback_data == query.data:
                return button.text
    return None


def echo_text(label: str) -> str:
    """The line that stands for a choice under the question it answered: "✅ Русский"."""
    return "✅ " + html.escape(bare_label(label), quote=False)


async def close_buttons(query: CallbackQuery, echo: str | None = None) -> None:
    """Take the buttons off the answered message and write the choice under its text, so the
    chat keeps what was chosen ("✅ Accepted — 09:30, table A3") and nothing can be pressed
    twice. `echo` is HTML; by default the pressed button's label, ticked.

    Every button step that closes its message comes here: the echo is written once, for all.
    """
    message = query.message
    if not isinstance(message, Message) or message.reply_markup is None:
        return
    if echo is None:
        label = pressed_label(query)
        echo = echo_text(label) if label else None
    try:
        if echo and message.text:
            text = f"{text_html(message)}\n\n{echo}"
            if utf16_len(text) <= MESSAGE_LIMIT:
                await query.edit_message_text(text, reply_markup=None)
                return
        elif echo and message.caption:
            caption = f"{message.caption_html}\n\n{echo}"
            if utf16_len(caption) <= CAPTION_LIMIT:
                await query.edit_message_caption(caption, reply_markup=None)
                return
        await query.edit_message_reply_markup(reply_markup=None)
    except (BadRequest, Forbidden) as exc:
        # Old or already edited messages cannot always be edited; the answer still counts.
        log.debug("could not close the buttons: %s", exc)


def typed_choice(text: str, rows: Buttons) -> str | None:
    """The callback data of the button whose label was typed instead of pressed ("中文",
    "기업", "✅ English"): the same words exactly, the marks before them aside; None if none."""
    typed = bare_label(text)
    if not typed:
        return None
    for row in rows:
        for label, data in row:
            if not data.startswith("https://") and bare_label(label) == typed:
                return data
    return None


async def refuse_button(query: CallbackQuery, tr: Translator) -> None:
    """Tell the presser that this button is stale or not theirs; nothing happens."""
    await query.answer(
        tr.label("This button is no longer active. Please use the latest message."),
        show_alert=True,
    )


async def edit_message(query: CallbackQuery, text: str, rows: Buttons | None = None) -> None:
    """Replace the pressed message's text and buttons, unless nothing would change.

    Telegram answers an identical edit with 400 "message is not modified".
    """
    markup = keyboard(rows or [])
    message = query.message
    # Compare what the reader sees: PTB's text_html re-escapes characters (quotes) that our
    # HTML leaves as they are, so comparing HTML would miss identical content.
    if (
        isinstance(message, Message)
        and message.text == html.unescape(_TAG.sub("", text))
        and message.reply_markup == markup
    ):
        return
    await query.edit_message_text(text, reply_markup=markup)


def page_row(tr: Translator, previous: str | None, following: str | None) -> list[tuple[str, str]]:
    """Paging buttons (callback data of the previous and next page, None where there is none).

    The arrows follow the reading direction: in a right-to-left language the previous page
    is on the right and points right, the next one on the left and points left.
    """
    if tr.is_rtl:
        row = [("◀", following) if following else None, ("▶", previous) if previous else None]
    else:
        row = [("◀", previous) if previous else None, ("▶", following) if following else None]
    return [button for button in row if button is not None]


def text_html(message: Message) -> str:
    """The message's text as HTML (its bold, links...), like PTB's text_html, URLs escaped.

    PTB writes a text link's URL into href="..." as it is: a quote in it ends the attribute
    (Telegram then refuses the whole message) and "&amp;" in it loses its "amp;".
    """
    if not any(e.type == MessageEntity.TEXT_LINK and e.url for e in message.entities):
        return message.text_html
    data = message.to_dict()
    for entity in data.get("entities", []):
        if entity.get("type") == MessageEntity.TEXT_LINK and entity.get("url"):
            entity["url"] = html.escape(entity["url"], quote=True)
    return Message.de_json(data, None).text_html
