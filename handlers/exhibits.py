"""The achievements catalogue in the chat: /search, the booth QR's card, Save and /saved."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    filters,
)

from bot.domain import links
from bot.i18n import Translator, language_name
from bot.services.exhibits import Exhibit, Hit, title_of
from handlers import callbacks, registration
from handlers import leads as leads_view
from handlers.common import (
    Buttons,
    Caller,
    caller,
    edit_message,
    refuse_button,
    registered_press,
    send,
    translator_for,
)
from handlers.context import BotContext, add_link_resumer
from handlers.meetings.booking import offer_slots, registered_caller

NS = "x"
PAGE = 5
INLINE_PAGE = 20  # results per inline answer (Telegram allows 50)
QUERY = "exhibit_query"  # user_data: the last /search text, for the More button


def _title(exhibit: Exhibit, tr: Translator) -> str:
    lang, title = title_of(exhibit, tr.locale)
    org = exhibit.data.organization
    if lang == tr.locale:
        return tr._("<b>{title}</b>, {organization}", title=title, organization=org)
    # Translators: a title shown in the language the exhibitor wrote it in, named after it.
    return tr._(
        "<b>{title}</b> ({language}), {organization}",
        title=title,
        language=language_name(lang, tr),
        organization=org,
    )


def _booth(exhibit: Exhibit, tr: Translator) -> str:
    d = exhibit.data
    if d.booth and d.hall:
        return tr._("Booth {booth}, hall {hall}", booth=d.booth, hall=d.hall)
    if d.booth:
        return tr._("Booth {booth}", booth=d.booth)
    return ""


def _card(
    exhibit: Exhibit, tr: Translator, *, card_left: bool | None = None
) -> tuple[str, Buttons]:
    """The exhibit's text and buttons; `card_left` (None: not a registered visitor) is whether
    the visitor lets its exhibitor see them."""
    lines = [_title(exhibit, tr)]
    if booth := _booth(exhibit, tr):
        lines.append(booth)
    descriptions = exhibit.data.descriptions
    if descriptions:
        lang = tr.locale if tr.locale in descriptions else next(iter(descriptions))
        if lang == tr.locale:
            lines.append(tr._("About: {description}", description=descriptions[lang]))
        else:
            lines.append(
                tr._(
                    "About, in {language}: {description}",
                    language=language_name(lang, tr),
                    description=descriptions[lang],
                )
            )
    if exhibit.data.trl is not None:
        lines.append(tr._("Technology readiness level: {trl}", trl=exhibit.data.trl))
    if exhibit.data.roadshow:  # a roadshow project: its presenter is the one to meet
        meet = tr.label("🎤 Meet the presenter")
    else:
        meet = tr.label("🤝 Request a meeting")
    rows: Buttons = [
        [
            (meet, callbacks.make(NS, "meet", exhibit.id)),
            (tr.label("Save"), callbacks.make(NS, "save", exhibit.id)),
        ]
    ]
    if card_left is not None:
        lines.append(leads_view.card_line(tr, card_left))
        rows.append([leads_view.card_button(tr, exhibit.id, card_left)])
    return "\n".join(lines), rows


async def _results(context: BotContext, who: Caller, text: str, offset: int) -> None:
    tr = who.tr
    hits: list[Hit] = await context.services.exhibits.search(text, limit=PAGE + 1, offset=offset)
    if not hits:
        await send(context, who.chat_id, tr._("No exhibit matches this search."))
        return
    lines = [tr._("Exhibits for “{query}”:", query=text)]
    rows: Buttons = []
    for n, hit in enumerate(hits[:PAGE], start=offset + 1):
        entry = f"{n}. {_title(hit.exhibit, tr)}"
        if booth := _booth(hit.exhibit, tr):
            entry += f" — {booth}"
        lines.append(entry)
        rows.append([(tr.label("Open {n}", n=n), callbacks.make(NS, "open", hit.exhibit.id))])
    if len(hits) > PAGE:
        rows.append([(tr.label("More"), callbacks.make(NS, "more", offset + PAGE))])
    await send(context, who.chat_id, "\n".join(lines), rows)


async def search(update: Update, context: BotContext) -> None:
    """`/search TEXT`: exhibits answering the need, best first, five at a time."""
    who = await caller(update, context)
    if who is None:
        return
    text = " ".join(context.args or []).strip()
    if not text:
        await send(context, who.chat_id, who.tr._("Send /search and what you are looking for."))
        return
    context.user_data[QUERY] = text  # type: ignore[index]
    await _results(context, who, text, 0)


async def open_exhibit_link(update: Update, context: BotContext) -> None:
    """`/start x_<token>`: the exhibit's card (a booth QR); never binds or books by itself."""
    who = await caller(update, context)
    if who is None:
        return
    token = (context.args or [""])[0]
    await resume_exhibit(context, who, token)
    if who.delegate is None or not who.delegate.is_registered:
        # Saving and booking need a profile: registration follows the card, and the card
        # comes back, its buttons working, once the registration is complete.
        await registration.start_with_link(update, context, token)


async def resume_exhibit(context: BotContext, who: Caller, token: str) -> None:
    """The exhibit's card, for its booth link (at once, or once registration is complete)."""
    exhibit = await context.services.exhibits.by_token(token)
    if exhibit is None:
        await send(context, who.chat_id, who.tr._("This exhibit link is not valid."))
        return
    card_left = None
    if who.delegate is not None and who.delegate.is_registered:
        await context.services.leads.record(exhibit.id, who.delegate.id, "scan")
        card_left = await context.services.leads.opted_in(exhibit.id, who.delegate.id)
    text, rows = _card(exhibit, who.tr, card_left=card_left)
    await send(context, who.chat_id, text, rows)


async def saved(update: Update, context: BotContext) -> None:
    """`/saved`: the visitor's shortlist."""
    who = await registered_caller(update, context)
    if who is None or who.delegate is None:
        return
    found = await context.services.exhibits.saved(who.delegate.id)
    tr = who.tr
    if not found:
        await send(context, who.chat_id, tr._("You have not saved any exhibit yet."))
        return
    lines = [tr._("Your saved exhibits:")]
    rows: Buttons = []
    for n, exhibit in enumerate(found, start=1):
        entry = f"{n}. {_title(exhibit, tr)}"
        if booth := _booth(exhibit, tr):
            entry += f" — {booth}"
        lines.append(entry)
        rows.append([(tr.label("Open {n}", n=n), callbacks.make(NS, "open", exhibit.id))])
    await send(context, who.chat_id, "\n".join(lines), rows)


async def inline_search(update: Update, context: BotContext) -> None:
    """`@bot TEXT` in any chat: exhibits to share, each a card with the booth link."""
    query = update.inline_query
    if query is None:
        return
    services = context.services
    delegate = await services.delegates.by_telegram_user(query.from_user.id)
    tr = translator_for(services, delegate, query.from_user.language_code)
    offset = int(query.offset) if query.offset.isdecimal() else 0
    hits = await services.exhibits.search(query.query, limit=INLINE_PAGE + 1, offset=offset)
    results = []
    for hit in hits[:INLINE_PAGE]:
        exhibit = hit.exhibit
        text, _ = _card(exhibit, tr)
        link = links.start_link(context.bot.username, exhibit.token)
        open_button = InlineKeyboardButton(tr.label("Open in the bot"), url=link)
        lang, title = title_of(exhibit, tr.locale)
        details = [exhibit.data.organization]
        if lang != tr.locale:
            details.append(language_name(lang, tr))
        if exhibit.data.booth:
            details.append(tr.label("Booth {booth}", booth=exhibit.data.booth))
        results.append(
            InlineQueryResultArticle(
                id=f"x{exhibit.id}",
                title=title[:200],
                description=" · ".join(details)[:200],
                input_message_content=InputTextMessageContent(text, parse_mode="HTML"),
                reply_markup=InlineKeyboardMarkup([[open_button]]),
            )
        )
    next_offset = str(offset + INLINE_PAGE) if len(hits) > INLINE_PAGE else None
    await query.answer(results, cache_time=10, is_personal=True, next_offset=next_offset)


@dataclass(frozen=True)
class ExhibitPress:
    """A press on a catalogue button, with what every action needs."""

    query: CallbackQuery
    context: BotContext
    who: Caller
    me: int  # the presser's delegate id
    arg: str


async def _exhibit(press: ExhibitPress) -> Exhibit | None:
    if not callbacks.is_id(press.arg):
        return None
    return await press.context.services.exhibits.get(int(press.arg))


async def _open(press: ExhibitPress) -> bool:
    exhibit = await _exhibit(press)
    if exhibit is None:
        return False
    await press.query.answer()
    card_left = await press.context.services.leads.opted_in(exhibit.id, press.me)
    text, rows = _card(exhibit, press.who.tr, card_left=card_left)
    await send(press.context, press.who.chat_id, text, rows)
    return True


async def _save(press: ExhibitPress) -> bool:
    exhibit = await _exhibit(press)
    if exhibit is None:
        return False
    await press.context.services.exhibits.save(press.me, exhibit.id)
    await press.context.services.leads.record(exhibit.id, press.me, "save")
    await press.query.answer(press.who.tr.label("Saved: see /saved"))
    return True


async def _meet(press: ExhibitPress) -> bool:
    exhibit = await _exhibit(press)
    if exhibit is None:
        return False
    # The owner, else the organization's first representative; all of them are asked.
    team = [m for m in await press.context.services.leads.team(exhibit) if m != press.me]
    await press.query.answer()
    if not team:
        text = press.who.tr._("The exhibitor cannot be booked in the bot; visit the booth.")
        await send(press.context, press.who.chat_id, text)
        return True
    reason = title_of(exhibit, press.who.tr.locale)[1]
    leads_view.remember_exhibit(press.context, team[0], exhibit.id)
    await offer_slots(press.context, press.who, team[0], reason=reason, team=team)
    return True


async def _leave_card(press: ExhibitPress) -> bool:
    exhibit = await _exhibit(press)
    if exhibit is None:
        return False
    service = press.context.services.leads
    wanted = not await service.opted_in(exhibit.id, press.me)
    await service.set_opt_in(exhibit.id, press.me, wanted)
    await press.query.answer(leads_view.card_toast(press.who.tr, wanted))
    text, rows = _card(exhibit, press.who.tr, card_left=wanted)
    await edit_message(press.query, text, rows)
    return True


async def _more(press: ExhibitPress) -> bool:
    text = (press.context.user_data or {}).get(QUERY)
    if not text or not callbacks.is_id(press.arg):
        return False
    await press.query.answer()
    await _results(press.context, press.who, str(text), int(press.arg))
    return True


ExhibitAction = Callable[[ExhibitPress], Awaitable[bool]]
# Callback codes of the catalogue namespace ("x") and their argument.
ACTIONS: Mapping[str, ExhibitAction] = {
    "open": _open,  # exhibit id: its card
    "save": _save,  # exhibit id: onto the presser's shortlist
    "meet": _meet,  # exhibit id: book a meeting with its owner
    "more": _more,  # offset: the next page of the last /search
    "card": _leave_card,  # exhibit id: let its exhibitor see the presser, or stop
}


async def on_button(update: Update, context: BotContext) -> None:
    """Handle every catalogue button."""
    press = await registered_press(update, context, NS, frozenset(ACTIONS))
    if press is None:
        return
    action = ACTIONS[press.data.action]
    handled = await action(
        ExhibitPress(press.query, context, press.who, press.delegate.id, press.data.arg)
    )
    if not handled:
        await refuse_button(press.query, press.who.tr)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add the catalogue's handlers; call before registration.register (it answers /start)."""
    private = filters.ChatType.PRIVATE
    link = filters.Regex(rf"^/start(@\w+)?\s+{links.EXHIBIT_PREFIX}")
    app.add_handler(CommandHandler("start", open_exhibit_link, filters=private & link))
    add_link_resumer(app, links.EXHIBIT_PREFIX, resume_exhibit)
    app.add_handler(CommandHandler("search", search, filters=private))
    app.add_handler(CommandHandler("saved", saved, filters=private))
    app.add_handler(CallbackQueryHandler(on_button, pattern=callbacks.pattern(NS)))
    app.add_handler(InlineQueryHandler(inline_search))


# A title and a booth line as the catalogue writes them, for the roadshow's project lists.
title_text = _title
booth_text = _booth
