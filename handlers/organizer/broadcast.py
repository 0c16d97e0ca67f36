"""/broadcast: an organizer writes an announcement step by step and watches it go out.

Every button and text re-checks the organizer role; the draft lives in the database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from telegram import CallbackQuery, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.delivery import Renderer
from bot.domain.countries import country_name, flag
from bot.domain.models import Role
from bot.domain.outbox import Attachment, Rendered
from bot.i18n import LANGUAGE_LABELS, SUPPORTED_LOCALES, Translator, joined, language_both
from bot.services import Services
from bot.services.broadcasts import (
    AUDIENCE_KINDS,
    REPORT_TEMPLATE,
    Audience,
    Broadcast,
    BroadcastError,
    BroadcastService,
    Launched,
    NoRecipients,
    Progress,
    ProgressThrottle,
    TooLongForCaption,
    locale_counts,
    missing_versions,
)
from handlers import callbacks
from handlers.common import (
    Buttons,
    Caller,
    chunk,
    close_buttons,
    edit_message,
    keyboard,
    organizer,
    organizer_press,
    refuse_button,
    send,
    text_html,
    typed_choice,
)
from handlers.context import BotContext
from handlers.registration import role_label
from handlers.views import utf16_len

log = logging.getLogger(__name__)

NS = "bc"
# Before offers (-1) and meeting notes (-2): an organizer writing an announcement is not
# answering any other question.
TEXT_GROUP = -5
# Before the organizer's CSV import (-5): a document the draft waits for is an attachment.
ATTACH_GROUP = -6
PROGRESS_EVERY = 3.0  # seconds between edits of a progress message
MAX_CHOICES = 24
# Telegram's 4096 characters, less room for the header above the announcement.
MAX_TEXT = 3800


def _b(action: str, *parts: object) -> str:
    return callbacks.make(NS, action, "-".join(str(p) for p in parts))


def _audience_label(tr: Translator, kind: str) -> str:
    labels = {
        "all": tr.label("👥 Everyone"),
        "language": tr.label("🌐 By language"),
        "country": tr.label("🏳️ By country"),
        "role": tr.label("🏢 By role"),
        "today": tr.label("📅 With a meeting today"),
        "field": tr.label("🔬 Interested in a field"),
    }
    return labels[kind]


def _value_label(services: Services, tr: Translator, kind: str, value: str) -> str:
    if kind == "language":
        return LANGUAGE_LABELS.get(value, value)
    if kind == "country":
        return f"{flag(value)} {country_name(value, tr.locale)}".strip()
    if kind == "role":
        return role_label(Role(value), tr)
    if kind == "field":
        return services.matching.taxonomy.name(value, tr.locale)
    return value


def _audience_text(services: Services, tr: Translator, audience: Audience) -> str:
    label = _audience_label(tr, audience.kind)
    if audience.value is None:
        return label
    return f"{label}: {_value_label(services, tr, audience.kind, audience.value)}"


# -- screens ---------------------------------------------------------------------------------


def text_prompt(tr: Translator, draft: Broadcast) -> tuple[str, Buttons]:
    """Ask for the first version, with buttons to write it in another language."""
    locale = draft.main_locale or tr.locale
    text = "\n".join(
        [
            tr._("📢 <b>New announcement</b>"),
            tr._(
                "Write the announcement in {language} and send it as one message. "
                "Bold, italics and links are kept.",
                language=language_both(locale, tr),
            ),
        ]
    )
    others = [
        (tr.label("✍️ {language}", language=LANGUAGE_LABELS[code]), _b("lang", draft.id, code))
        for code in SUPPORTED_LOCALES
        if code != locale
    ]
    return text, [*chunk(others, 2), [(tr.label("✖️ Discard"), _b("drop", draft.id))]]


def version_prompt(tr: Translator, locale: str) -> str:
    """Ask for another language's version."""
    return tr._(
        "Send the announcement in {language} as one message.", language=language_both(locale, tr)
    )


def _attached_text(tr: Translator, attachment: Attachment) -> str:
    if attachment.kind == "photo":
        return tr._("📎 Attached: photo")
    return tr._("📎 Attached: document")


def caption_refusal(tr: Translator, error: TooLongForCaption, *, adding: bool = False) -> str:
    """Why a text cannot go with a photo or document (when attaching, or adding a version)."""
    language = language_both(error.locale, tr)
    if adding:
        return tr._(
            "This text is too long to go with the attached photo or document: each version is "
            "sent as its caption, which is limited to {n} characters. Please send a shorter "
            "{language} version, or go back and remove the attachment.",
            n=error.limit,
            language=language,
        )
    return tr._(
        "A photo or document cannot be attached: each version is then sent as its caption, "
        "which is limited to {n} characters, and the {language} version is longer. Please "
        "shorten it first.",
        n=error.limit,
        language=language,
    )


def attach_prompt(tr: Translator, draft: Broadcast) -> tuple[str, Buttons]:
    """Ask for the photo or document to send with the announcement."""
    text = tr._("📎 Send the photo or document to attach, as one message.")
    return text, [[(tr.label("⬅️ Back"), _b("menu", draft.id))]]


def versions_menu(services: Services, tr: Translator, draft: Broadcast) -> tuple[str, Buttons]:
    """Which versions exist and the attachment; add either or go on to the audience."""
    written = joined((LANGUAGE_LABELS[code] for code in draft.versions), tr)
    default = LANGUAGE_LABELS[services.settings.default_language]
    lines = [
        tr._("📢 Versions written: {languages}", languages=written),
        tr._(
            "Each delegate gets the version in their language, else {default}, else "
            "English, else the first one written. Add a version or go on.",
            default=default,
        )
        if services.settings.default_language != "en"
        else tr._(
            "Each delegate gets the version in their language, else English, else the "
            "first one written. Add a version or go on."
        ),
    ]
    if draft.attachment is not None:
        lines.append(_attached_text(tr, draft.attachment))
        attachment_button = (tr.label("✖️ Remove attachment"), _b("unatt", draft.id))
    else:
        attachment_button = (tr.label("📎 Attach a photo or document"), _b("att", draft.id))
    text = "\n".join(lines)
    adds = [
        (tr.label("➕ {language}", language=LANGUAGE_LABELS[code]), _b("add", draft.id, code))
        for code in missing_versions(draft.versions)
    ]
    go_on = (
        tr.label("➡️ Keep one text for all")
        if len(draft.versions) == 1
        else tr.label("➡️ Choose the audience")
    )
    return text, [
        *chunk(adds, 2),
        [attachment_button],
        [(go_on, _b("next", draft.id))],
        [(tr.label("✖️ Discard"), _b("drop", draft.id))],
    ]


def audience_menu(tr: Translator, draft: Broadcast) -> tuple[str, Buttons]:
    """The kinds of audience."""
    buttons = [(_audience_label(tr, kind), _b("aud", draft.id, kind)) for kind in AUDIENCE_KINDS]
    text = "\n".join(
        [
            tr._("👥 Who should receive the announcement?"),
            tr._("Delegates who cannot be reached are left out."),
        ]
    )
    return text, [*chunk(buttons, 2), [(tr.label("✖️ Discard"), _b("drop", draft.id))]]


async def value_menu(
    services: Services, tr: Translator, draft: Broadcast, kind: str
) -> tuple[str, Buttons]:
    """The values of one kind of audience."""
    values: list[str]
    if kind == "language":
        values = list(SUPPORTED_LOCALES)
    elif kind == "role":
        values = [role.value for role in Role]
    elif kind == "country":
        values = (await services.broadcasts.repo.countries())[:MAX_CHOICES]
    else:
        values = (await services.broadcasts.repo.fields())[:MAX_CHOICES]
    positions = {f.code: n for n, f in enumerate(services.matching.taxonomy.fields)}
    buttons = []
    for value in values:
        # Field codes hold dots, which callback data does not: they travel as positions.
        arg = str(positions[value]) if kind == "field" else value
        buttons.append((_value_label(services, tr, kind, value), _b("val", draft.id, kind, arg)))
    text = _audience_label(tr, kind)
    if not values:
        text += "\n" + tr._("Nobody to choose from yet.")
    return text, [*chunk(buttons, 2), [(tr.label("⬅️ Back"), _b("back", draft.id))]]


def progress_text(tr: Translator, broadcast: Broadcast, progress: Progress, state: str) -> str:
    """The organizer's live report."""
    status = {
        "sending": tr._("⏳ Sending…"),
        "done": tr._("✅ Finished."),
        "cancelled": tr._("⏹ Stopped by an organizer."),
    }.get(state, "")
    lines = [
        tr._("📤 <b>Announcement #{id}</b>", id=broadcast.id),
        tr._("Sent: {n}", n=progress.sent),
        tr._("Failed: {n}", n=progress.failed),
        tr._("Unreachable: {n}", n=progress.unreachable),
        tr._("Left: {n}", n=progress.left),
    ]
    if progress.cancelled:
        lines.append(tr._("Not sent (stopped): {n}", n=progress.cancelled))
    if broadcast.excluded:
        lines.append(
            tr.ngettext(
                "{n} unreachable delegate was left out.",
                "{n} unreachable delegates were left out.",
                broadcast.excluded,
            )
        )
    lines.append(status)
    return "\n".join(lines)


def _stop_button(tr: Translator, broadcast_id: int) -> Buttons:
    return [[(tr.label("⏹ Stop sending"), _b("stop", broadcast_id))]]


# -- handlers --------------------------------------------------------------------------------


async def start(update: Update, context: BotContext) -> None:
    """/broadcast: begin a new announcement."""
    who = await organizer(update, context)
    if who is None:
        return
    draft = await context.services.broadcasts.start(who.user_id, who.chat_id, who.tr.locale)
    await send(context, who.chat_id, *text_prompt(who.tr, draft))


async def on_text(update: Update, context: BotContext) -> None:
    """Take the text the organizer's draft waits for; let every other text through."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or message.text is None:
        return
    service = context.services.broadcasts
    draft = await service.draft(user.id)
    if draft is None or service.awaited_locale(draft) is None:
        return
    who = await organizer(update, context)
    # Counted as Telegram counts (UTF-16): 2,048 emoji are 4,096, not 2,048.
    if who is not None and utf16_len(message.text) > MAX_TEXT:
        await send(
            context,
            who.chat_id,
            who.tr._(
                "This text is too long for one message: please keep it under {n} characters.",
                n=MAX_TEXT,
            ),
        )
    elif who is not None and await _typed_button(context, who, draft, message.text):
        pass
    elif who is not None:
        # text_html keeps the organizer's bold, italics and links and escapes everything else.
        try:
            draft = await service.add_text(draft, text_html(message))
        except TooLongForCaption as error:
            back = [[(who.tr.label("⬅️ Back"), _b("menu", draft.id))]]
            refusal = caption_refusal(who.tr, error, adding=True)
            await send(context, who.chat_id, refusal, back)
        else:
            await send(context, who.chat_id, *versions_menu(context.services, who.tr, draft))
    raise ApplicationHandlerStop


async def _typed_button(context: BotContext, who: Caller, draft: Broadcast, text: str) -> bool:
    """The exact label of a button of the prompt ("✍️ Русский", "✖️ Discard"), typed rather
    than pressed while the draft waits for its text, is that button; True when taken so."""
    if draft.step != "text":
        return False  # a version's prompt has no buttons
    _, rows = text_prompt(who.tr, draft)
    data = callbacks.parse(typed_choice(text, rows), NS, frozenset(DRAFT_ACTIONS))
    if data is None:
        return False
    size, action = DRAFT_ACTIONS[data.action]
    pieces = _split(data.arg, size + 1)
    if pieces is None or int(pieces[0]) != draft.id:
        return False
    return await action(DraftPress(None, context, who, draft, tuple(pieces[1:])))


def _attachment_of(update: Update) -> Attachment | None:
    message = update.effective_message
    if message is None:
        return None
    if message.photo:
        largest = max(message.photo, key=lambda size: (size.width * size.height, size.file_size))
        return Attachment("photo", largest.file_id)
    if message.document is not None:
        return Attachment("document", message.document.file_id)
    return None


async def on_attachment(update: Update, context: BotContext) -> None:
    """Take the photo or document the organizer's draft waits for; let every other one through."""
    user, attachment = update.effective_user, _attachment_of(update)
    if user is None or attachment is None:
        return
    service = context.services.broadcasts
    draft = await service.draft(user.id)
    if draft is None or draft.step != "attach":
        return
    who = await organizer(update, context)
    if who is not None:
        try:
            draft = await service.attach(draft, attachment)
        except TooLongForCaption as error:
            draft = await service.back_to_versions(who.user_id, draft.id)
            await send(context, who.chat_id, caption_refusal(who.tr, error))
        await send(context, who.chat_id, *versions_menu(context.services, who.tr, draft))
    raise ApplicationHandlerStop


async def _preview(context: BotContext, who: Caller, draft: Broadcast) -> None:
    services = context.services
    audience = services.broadcasts.audience_of(draft)
    assert audience is not None
    recipients, excluded = await services.broadcasts.recipients(audience)
    tr = who.tr
    if not recipients:
        text, rows = audience_menu(tr, draft)
        await send(context, who.chat_id, tr._("Nobody is in this audience.") + "\n\n" + text, rows)
        return
    for locale, n in locale_counts(recipients).items():
        heading = tr.ngettext(
            "👁 Preview as {language} readers see it ({n} recipient):",
            "👁 Preview as {language} readers see it ({n} recipients):",
            n,
            language=language_both(locale, tr),
        )
        if draft.attachment is not None:
            heading += "\n" + _attached_text(tr, draft.attachment)
        await send(context, who.chat_id, heading)
        rendered = services.broadcasts.render_for(draft, services.i18n.translator(locale))
        await send(context, who.chat_id, rendered.text)
    lines = [
        _audience_text(services, tr, audience),
        tr.ngettext(
            "Send the announcement to {n} delegate?",
            "Send the announcement to {n} delegates?",
            len(recipients),
        ),
    ]
    if excluded:
        lines.append(
            tr.ngettext(
                "{n} unreachable delegate is left out.",
                "{n} unreachable delegates are left out.",
                excluded,
            )
        )
    rows = [
        [(tr.label("✅ Send now"), _b("send", draft.id))],
        [(tr.label("👥 Change the audience"), _b("back", draft.id))],
        [(tr.label("✖️ Discard"), _b("drop", draft.id))],
    ]
    await send(context, who.chat_id, "\n".join(lines), rows)


async def _report_launch(context: BotContext, who: Caller, launched: Launched) -> None:
    services = context.services
    broadcast = launched.broadcast
    progress = await services.broadcasts.progress(broadcast.id)
    message = await context.bot.send_message(
        who.chat_id,
        progress_text(who.tr, broadcast, progress, "sending"),
        reply_markup=keyboard(_stop_button(who.tr, broadcast.id)),
    )
    await services.broadcasts.repo.set_progress_message(broadcast.id, message.message_id)


def _valid_value(kind: str, value: str) -> bool:
    if kind == "language":
        return value in SUPPORTED_LOCALES
    return kind == "country" and len(value) == 2 and value.isascii() and value.isupper()


def _split(arg: str, parts: int) -> list[str] | None:
    pieces = arg.split("-")
    if len(pieces) != parts or not pieces[0].isdigit():
        return None
    return pieces


async def on_button(update: Update, context: BotContext) -> None:
    """Wizard and progress buttons; the role is re-checked on every press."""
    press = await organizer_press(update, context, NS, ACTIONS)
    if press is None:
        return
    query, who, data = press.query, press.who, press.data
    try:
        done = await _on_action(update, context, who, data)
    except (BroadcastError, ValueError, KeyError, IndexError) as error:
        log.info("broadcast button refused: %s", error)
        done = False
    if not done:
        await refuse_button(query, who.tr)


@dataclass(frozen=True)
class DraftPress:
    """An organizer's press on a button of their own draft (checked before it gets here)."""

    # None when the button's label was typed while the draft waits for a text (`on_text`).
    query: CallbackQuery | None
    context: BotContext
    who: Caller
    draft: Broadcast
    pieces: tuple[str, ...]  # the argument after the draft id

    @property
    def tr(self) -> Translator:
        return self.who.tr

    @property
    def service(self) -> BroadcastService:
        return self.context.services.broadcasts

    async def show(self, text: str, buttons: Buttons | None = None) -> None:
        """Close the pressed buttons and go on in a new message."""
        if self.query is not None:
            await self.query.answer()
            await close_buttons(self.query)
        await send(self.context, self.who.chat_id, text, buttons)

    async def replace(self, text: str, buttons: Buttons | None = None) -> None:
        """Show the next screen in the pressed message (a new one when the label was typed)."""
        if self.query is None:
            await send(self.context, self.who.chat_id, text, buttons)
            return
        await self.query.answer()
        await edit_message(self.query, text, buttons)


DraftAction = Callable[[DraftPress], Awaitable[bool]]


async def _discard(press: DraftPress) -> bool:
    await press.service.discard(press.who.user_id)
    await press.replace(press.tr._("The announcement was discarded."))
    return True


async def _write_in(press: DraftPress) -> bool:
    draft = await press.service.write_in(press.who.user_id, press.draft.id, press.pieces[0])
    await press.replace(*text_prompt(press.tr, draft))
    return True


async def _add_version(press: DraftPress) -> bool:
    await press.service.write_in(press.who.user_id, press.draft.id, press.pieces[0])
    await press.show(version_prompt(press.tr, press.pieces[0]))
    return True


async def _ask_attachment(press: DraftPress) -> bool:
    try:
        draft = await press.service.ask_attachment(press.who.user_id, press.draft.id)
    except TooLongForCaption as error:
        if press.query is not None:
            await press.query.answer()
        await send(press.context, press.who.chat_id, caption_refusal(press.tr, error))
        return True
    await press.show(*attach_prompt(press.tr, draft))
    return True


async def _remove_attachment(press: DraftPress) -> bool:
    draft = await press.service.remove_attachment(press.who.user_id, press.draft.id)
    await press.show(*versions_menu(press.context.services, press.tr, draft))
    return True


async def _versions(press: DraftPress) -> bool:
    draft = await press.service.back_to_versions(press.who.user_id, press.draft.id)
    await press.show(*versions_menu(press.context.services, press.tr, draft))
    return True


async def _audiences(press: DraftPress) -> bool:
    draft = await press.service.choose_audience(press.who.user_id, press.draft.id, None)
    await press.show(*audience_menu(press.tr, draft))
    return True


async def _audience_kind(press: DraftPress) -> bool:
    kind = press.pieces[0]
    if kind in ("all", "today"):
        return await _choose(press, Audience(kind))
    if kind not in AUDIENCE_KINDS:
        return False
    services = press.context.services
    await press.replace(*await value_menu(services, press.tr, press.draft, kind))
    return True


async def _audience_value(press: DraftPress) -> bool:
    kind, value = press.pieces
    if kind == "field":
        value = press.context.services.matching.taxonomy.fields[int(value)].code
    elif kind == "role":
        value = Role(value).value
    elif not _valid_value(kind, value):
        return False
    return await _choose(press, Audience(kind, value))


async def _launch(press: DraftPress) -> bool:
    try:
        launched = await press.service.launch(press.who.user_id, press.draft.id)
    except NoRecipients:
        nobody = press.tr.label("Nobody is in this audience.")
        if press.query is not None:
            await press.query.answer(nobody, show_alert=True)
        else:
            await send(press.context, press.who.chat_id, nobody)
        return True
    if press.query is not None:
        await press.query.answer()
        await close_buttons(press.query)
    await _report_launch(press.context, press.who, launched)
    return True


async def _choose(press: DraftPress, audience: Audience) -> bool:
    draft = await press.service.choose_audience(press.who.user_id, press.draft.id, audience)
    if press.query is not None:
        await press.query.answer()
        await close_buttons(press.query)
    await _preview(press.context, press.who, draft)
    return True


# Callback codes of the "bc" namespace that act on the organizer's draft: the argument is the
# draft id, then as many "-"-separated parts as the number says.
DRAFT_ACTIONS: Mapping[str, tuple[int, DraftAction]] = {
    "drop": (0, _discard),  # discard the draft
    "lang": (1, _write_in),  # locale: write the first version in that language
    "add": (1, _add_version),  # locale: add a version in that language
    "att": (0, _ask_attachment),  # ask for a photo or document
    "unatt": (0, _remove_attachment),  # remove the attachment
    "menu": (0, _versions),  # back to the versions
    "next": (0, _audiences),  # on to the audience
    "back": (0, _audiences),  # back to the audience
    "aud": (1, _audience_kind),  # audience kind
    "val": (2, _audience_value),  # audience kind - value (a field or role index/code)
    "send": (0, _launch),  # send to the audience
}
# "stop" (broadcast id) stops a broadcast being sent; it acts on a broadcast, not a draft.
ACTIONS = frozenset({*DRAFT_ACTIONS, "stop"})


async def _stop(query: CallbackQuery, who: Caller, service: BroadcastService, arg: str) -> bool:
    if not arg.isdigit():
        return False
    broadcast = await service.repo.get(int(arg))
    if broadcast is None or broadcast.state != "sending":
        return False
    await service.cancel(who.user_id, broadcast.id)
    await query.answer(who.tr.label("Stopped."))
    progress = await service.progress(broadcast.id)
    await edit_message(query, progress_text(who.tr, broadcast, progress, "cancelled"))
    return True


async def _on_action(
    update: Update, context: BotContext, who: Caller, data: callbacks.Callback
) -> bool:
    query = update.callback_query
    assert query is not None
    service = context.services.broadcasts
    if data.action == "stop":
        return await _stop(query, who, service, data.arg)
    size, action = DRAFT_ACTIONS[data.action]
    pieces = _split(data.arg, size + 1)
    if pieces is None:
        return False
    draft = await service.draft(who.user_id)
    if draft is None or draft.id != int(pieces[0]):
        return False
    return await action(DraftPress(query, context, who, draft, tuple(pieces[1:])))


# -- progress --------------------------------------------------------------------------------


def progress_hook(app: Application[Any, Any, Any, Any, Any, Any]) -> Any:
    """The due-work hook that edits progress messages of broadcasts being sent.

    The final report is owed through the outbox when a broadcast finishes; the final edit of
    the progress message is tried again on later ticks while Telegram fails (5xx, timeouts).
    """
    services: Services = app.bot_data["services"]
    throttle = ProgressThrottle(PROGRESS_EVERY)
    unfinished_edits: dict[int, tuple[Broadcast, Progress]] = {}

    async def edit(broadcast: Broadcast, progress: Progress, finished: bool) -> bool:
        """Edit the progress message; False when Telegram failed and it is worth trying again."""
        if broadcast.progress_message_id is None:
            return True
        tr = services.i18n.translator(broadcast.locale)
        text = progress_text(tr, broadcast, progress, "done" if finished else "sending")
        markup = None if finished else keyboard(_stop_button(tr, broadcast.id))
        try:
            await app.bot.edit_message_text(
                text,
                chat_id=broadcast.chat_id,
                message_id=broadcast.progress_message_id,
                reply_markup=markup,
            )
        except (BadRequest, Forbidden) as error:
            log.info("could not edit the progress of broadcast %d: %s", broadcast.id, error)
        except TelegramError as error:
            log.info("Telegram failed editing broadcast %d's progress: %s", broadcast.id, error)
            return False
        return True

    async def report(now: object) -> int:
        edited = 0
        for broadcast_id, (broadcast, progress) in list(unfinished_edits.items()):
            if await edit(broadcast, progress, True):
                del unfinished_edits[broadcast_id]
        for broadcast, progress, finished in await services.broadcasts.settle():
            if not throttle.due(broadcast.id, progress, time.monotonic(), final=finished):
                continue
            if await edit(broadcast, progress, finished):
                edited += 1
            elif finished:
                unfinished_edits[broadcast.id] = (broadcast, progress)
        return edited

    return report


def report_renderer(services: Services) -> Renderer:
    """The outbox renderer of a finished broadcast's report, in the organizer's language."""

    async def render(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        broadcast_id = int(params["id"])
        broadcast = await services.broadcasts.repo.get(broadcast_id)
        if broadcast is None:
            raise LookupError(f"broadcast {broadcast_id} does not exist")
        progress = await services.broadcasts.progress(broadcast_id)
        mine = services.i18n.translator(broadcast.locale)
        return Rendered(progress_text(mine, broadcast, progress, "done"))

    return render


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add /broadcast, its buttons, its text step and the progress hook and renderer."""
    services: Services = app.bot_data["services"]
    services.delivery.renderers.add("broadcast", services.broadcasts.render)
    services.delivery.renderers.add(REPORT_TEMPLATE, report_renderer(services))
    services.delivery.dispatcher.add_hook("broadcasts", progress_hook(app))
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("broadcast", start, filters=private))
    app.add_handler(CallbackQueryHandler(on_button, pattern=callbacks.pattern(NS)))
    app.add_handler(
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, on_text), group=TEXT_GROUP
    )
    app.add_handler(
        MessageHandler(private & (filters.PHOTO | filters.Document.ALL), on_attachment),
        group=ATTACH_GROUP,
    )
