"""/matches: the best counterparts one card a page, with interest, details and hiding.

Also the outbox renderers that announce a new strong match and tell a delegate that someone
wants to meet them, written at send time in the recipient's language from current data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from babel.numbers import format_percent
from telegram import CallbackQuery, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.domain.autoschedule import Priority
from bot.domain.countries import country_name
from bot.domain.matching import Match
from bot.domain.models import Role
from bot.domain.outbox import Rendered
from bot.i18n import N_, Html, Translator, joined, language_name
from bot.services import Services
from bot.services.matching import INTEREST_TEMPLATE, NEW_MATCH_TEMPLATE, Mark, MatchProfile
from handlers import callbacks, exhibits, wishes
from handlers.common import (
    Buttons,
    Caller,
    close_buttons,
    edit_message,
    page_row,
    refuse_button,
    registered_press,
    send,
)
from handlers.context import BotContext
from handlers.meetings.booking import offer_slots
from handlers.menu import MATCHES_NS, main_menu
from handlers.menu_button import miniapp_url
from handlers.offers import registered
from handlers.registration import role_label
from handlers.views import (
    fit,
    headline,
    language_note,
    pack,
    quote,
    reason_lines,
    their_item,
)

NS = MATCHES_NS
ACTIONS = frozenset({"pg", "det", "int", "hide", wishes.ACTION})
SHOWN = 20  # matches a delegate can page through, best first
MY_ITEM_PREVIEW = 100  # characters of the viewer's own item quoted on a card


# -- cards --------------------------------------------------------------------------------------


def _who_they_are(other: MatchProfile, tr: Translator) -> list[str]:
    lines = [headline(other.name, other.organization, other.country, tr)]
    facts = []
    if other.role in {r.value for r in Role}:
        facts.append(role_label(Role(other.role), tr))
    if other.country:
        facts.append(country_name(other.country, tr.locale))
    if facts:
        lines.append(" · ".join(facts))
    return lines


async def _their_lines(
    services: Services, match: Match, tr: Translator, *, mine_too: bool
) -> list[str]:
    taxonomy = services.matching.taxonomy
    lines: list[str] = []
    if isinstance(match.their_item, int):
        item = await services.items.get(match.their_item)
        if item is not None and item.complete:
            lines += their_item(item, tr, taxonomy)
    if mine_too and isinstance(match.my_item, int):
        mine = await services.items.get(match.my_item)
        if mine is not None:
            text = quote(mine.text, MY_ITEM_PREVIEW)
            if mine.side == "offer":
                lines.append(tr._("↔ Your offer: {text}", text=text))
            else:
                lines.append(tr._("↔ Your need: {text}", text=text))
    lines += reason_lines(match.reasons, tr, taxonomy)
    return lines


NO_MATCHES = N_("No matches yet. I will tell you when a matching delegate joins.")


async def _nothing_yet(
    services: Services, delegate_id: int, tr: Translator
) -> tuple[str, Buttons]:
    if await services.items.count_complete(delegate_id):
        return tr._(NO_MATCHES), main_menu(tr)[1:]
    return tr._(
        "You have not added any offers or needs yet. Add one, and I will find the delegates "
        "who match it."
    ), main_menu(tr)[:1]


def _card_buttons(
    tr: Translator,
    other_id: int,
    number: int,
    total: int,
    *,
    interested: bool,
    wish: Priority | None = None,
) -> Buttons:
    meet = tr.label("✅ Interest sent") if interested else tr.label("🤝 Request a meeting")
    rows: Buttons = [
        [
            (meet, callbacks.make(NS, "int", f"{other_id}-{number}")),
            (tr.label("ℹ️ Details"), callbacks.make(NS, "det", other_id)),
        ],
        wishes.wish_row(NS, tr, other_id, number, wish),
        [(tr.label("🙈 Hide"), callbacks.make(NS, "hide", f"{other_id}-{number}"))],
    ]
    nav = page_row(
        tr,
        callbacks.make(NS, "pg", number - 1) if number > 0 else None,
        callbacks.make(NS, "pg", number + 1) if number < total - 1 else None,
    )
    return [*rows, nav] if nav else rows


async def page(
    services: Services, delegate_id: int, tr: Translator, number: int
) -> tuple[str, Buttons]:
    """One match card, the number-th best (clamped to the list), with its buttons, and the
    exhibits on display that answer the delegate's needs below it."""
    text, rows = await _match_page(services, delegate_id, tr, number)
    shown, buttons = await exhibits.on_display(services, delegate_id, tr)
    if not shown:
        return text, rows
    return fit("\n".join([text, "", *shown])), [*buttons, *rows]


async def _match_page(
    services: Services, delegate_id: int, tr: Translator, number: int
) -> tuple[str, Buttons]:
    matches = await services.matching.top(delegate_id, limit=SHOWN)
    number = max(0, min(number, len(matches) - 1))
    other = await services.matching.profile(int(matches[number].key)) if matches else None
    if other is None:  # no matches, or the counterpart left between the ranking and now
        return await _nothing_yet(services, delegate_id, tr)
    match = matches[number]
    percent = format_percent(match.score, locale=tr.babel_locale)
    lines = [
        tr._("Match {n} of {total} · fit {percent}", n=number + 1, total=len(matches),
             percent=percent),
        "",
        *_who_they_are(other, tr),
        *await _their_lines(services, match, tr, mine_too=True),
    ]  # fmt: skip
    note = language_note(match.shared_languages, other.meeting_languages, tr)
    if note:
        lines.append(note)
    me = await services.matching.profile(delegate_id)
    if me is not None and not me.consent:
        hidden = tr._("<i>Your profile is hidden, so others do not see you. See /profile.</i>")
        lines += ["", hidden]
    interested = await services.matches.has_mark(delegate_id, other.id, Mark.INTERESTED)
    wish = await wishes.wishes_of(services).get(delegate_id, other.id)
    rows = _card_buttons(tr, other.id, number, len(matches), interested=interested, wish=wish)
    grid = miniapp_url(services)
    if grid is not None:
        rows = [[(tr.label("📅 Our free times side by side"), f"{grid}?with={other.id}")], *rows]
    return fit("\n".join(lines)), rows


async def details(
    services: Services, delegate_id: int, other: MatchProfile, match: Match, tr: Translator
) -> list[str]:
    """Everything a delegate may see of a counterpart: their items, languages and the reasons."""
    taxonomy = services.matching.taxonomy
    about = _who_they_are(other, tr)
    languages = joined((language_name(code, tr) for code in other.meeting_languages), tr)
    if languages:
        about.append(tr._("Meeting languages: {languages}", languages=languages))
    blocks = ["\n".join(about)]
    for item in await services.items.complete_for(other.id):
        blocks.append("\n".join(their_item(item, tr, taxonomy)))
    why = [tr._("<b>Why you match</b>"), *reason_lines(match.reasons, tr, taxonomy)]
    note = language_note(match.shared_languages, other.meeting_languages, tr)
    if note:
        why.append(note)
    blocks.append("\n".join(why))
    return pack(blocks)


# -- commands and buttons -----------------------------------------------------------------------


async def show_matches(update: Update, context: BotContext) -> None:
    """/matches: the best match first, with buttons to page through the others."""
    who = await registered(update, context)
    if who is None or who.delegate is None:
        return
    text, rows = await page(context.services, who.delegate.id, who.tr, 0)
    await send(context, who.chat_id, text, rows)


def _target(arg: str) -> tuple[int | None, int | None]:
    head, _, tail = arg.partition("-")
    other = int(head) if head.isascii() and head.isdigit() else None
    number = int(tail) if tail.isascii() and tail.isdigit() else None
    return other, number


async def on_button(update: Update, context: BotContext) -> None:
    """Handle match buttons; each re-checks that the counterpart is still a match to show."""
    press = await registered_press(update, context, NS, ACTIONS)
    if press is None:
        return
    query, who, delegate, data = press.query, press.who, press.delegate, press.data
    services = context.services
    if data.action == "pg":
        number = int(data.arg) if data.arg.isascii() and data.arg.isdigit() else None
        if number is None:
            await refuse_button(query, who.tr)
            return
        await query.answer()
        text, rows = await page(services, delegate.id, who.tr, number)
        await edit_message(query, text, rows)
        return
    if data.action == wishes.ACTION:
        await _wish(context, press, data.arg)
        return
    other_id, number = _target(data.arg)
    match = await services.matching.pair(delegate.id, other_id) if other_id is not None else None
    other = await services.matching.profile(other_id) if other_id is not None else None
    if (
        match is None
        or other is None
        or await services.matches.has_mark(delegate.id, other.id, Mark.HIDDEN)
    ):
        await refuse_button(query, who.tr)
        return
    if data.action == "det":
        await query.answer()
        await _send_details(context, who, other, match)
    elif data.action == "int":
        await _interest(context, who, query, other, number)
    else:
        await services.matching.hide(delegate.id, other.id)
        await query.answer(who.tr.label("Hidden: you will not see {name} again.", name=other.name))
        if number is None:
            await close_buttons(query)
        else:
            text, rows = await page(services, delegate.id, who.tr, number)
            await edit_message(query, text, rows)


async def _wish(context: BotContext, press: Any, arg: str) -> None:
    """A wish button on a card: save (or clear) the mark, tell the delegate, redraw the card."""
    services, query, who, delegate = context.services, press.query, press.who, press.delegate
    parsed = wishes.parse_arg(arg)
    other = await services.matching.profile(parsed[0]) if parsed is not None else None
    if parsed is None or other is None or other.id == delegate.id:
        await refuse_button(query, who.tr)
        return
    _, priority, number = parsed
    now = await wishes.toggle(services, delegate.id, other.id, priority)
    await query.answer(wishes.saved_text(now, other.name, who.tr))
    if number is not None:
        text, rows = await page(services, delegate.id, who.tr, number)
        await edit_message(query, text, rows)
    else:
        await close_buttons(query)


async def _send_details(
    context: BotContext, who: Caller, other: MatchProfile, match: Match
) -> None:
    assert who.delegate is not None
    tr = who.tr
    messages = await details(context.services, who.delegate.id, other, match, tr)
    rows = [
        [
            (tr.label("🤝 Request a meeting"), callbacks.make(NS, "int", other.id)),
            (tr.label("🙈 Hide"), callbacks.make(NS, "hide", other.id)),
        ],
    ]
    for n, text in enumerate(messages):
        await send(context, who.chat_id, text, rows if n == len(messages) - 1 else None)


async def _interest(
    context: BotContext, who: Caller, query: CallbackQuery, other: MatchProfile, number: int | None
) -> None:
    assert who.delegate is not None
    services, tr = context.services, who.tr
    if await services.meetings.free_slots_for([who.delegate.id, other.id], limit=1):
        # With a schedule and a common free time, the button books a real meeting; the request
        # itself tells the counterpart, so no separate interest notice is sent.
        await query.answer()
        await offer_slots(context, who, other.id)
        return
    new = await services.matching.record_interest(who.delegate.id, other.id)
    if not new and await services.matching.profile(other.id) is None:
        # They deleted their data while this button was being handled: nothing was recorded.
        await refuse_button(query, tr)
        return
    if not new:
        told = tr.label("You already told {name} that you would like to meet.", name=other.name)
    elif other.chat_id is None:
        told = tr.label(
            "Your interest is recorded. {name} has not joined the bot yet.", name=other.name
        )
    else:
        told = tr.label("I told {name} that you would like to meet.", name=other.name)
    await query.answer(told, show_alert=True)
    if number is not None:
        text, rows = await page(services, who.delegate.id, tr, number)
        await edit_message(query, text, rows)


# -- messages sent through the outbox ------------------------------------------------------------


def _generic(tr: Translator) -> Rendered:
    return Rendered(
        tr._("You have news about your matches. Send /matches to see them."),
        (((tr.label("🤝 My matches"), callbacks.make(NS, "pg", 0)),),),
    )


async def _counterpart(
    services: Services, to: int, about: int
) -> tuple[MatchProfile, Match | None] | None:
    other = await services.matching.profile(about)
    if other is None or await services.matches.has_mark(to, about, Mark.HIDDEN):
        return None
    return other, await services.matching.pair(to, about)


async def render_new_match(
    services: Services, tr: Translator, params: Mapping[str, Any]
) -> Rendered:
    """Announce a new strong match to one side, in their language."""
    to, about = int(params["to"]), int(params["about"])
    found = await _counterpart(services, to, about)
    if found is None:
        return _generic(tr)
    other, match = found
    if match is None:
        return _generic(tr)
    lines = [
        tr._("🔔 <b>A new match for you</b>"),
        *_who_they_are(other, tr),
        *await _their_lines(services, match, tr, mine_too=False),
    ]
    buttons = (
        (
            (tr.label("ℹ️ Details"), callbacks.make(NS, "det", about)),
            (tr.label("🤝 My matches"), callbacks.make(NS, "pg", 0)),
        ),
    )
    return Rendered(fit("\n".join(lines)), buttons)


async def render_interest(
    services: Services, tr: Translator, params: Mapping[str, Any]
) -> Rendered:
    """Tell a delegate, in their language, that someone would like to meet them."""
    to, sender = int(params["to"]), int(params["from"])
    found = await _counterpart(services, to, sender)
    if found is None:
        return _generic(tr)
    other, match = found
    who = Html(headline(other.name, other.organization, other.country, tr))
    lines = ["🤝 " + tr._("{who} would like to meet you.", who=who)]
    if match is None:
        # They may have hidden their own profile; the interest is theirs to reveal, the rest not.
        return Rendered(fit("\n".join(lines)))
    lines += _who_they_are(other, tr)[1:]
    lines += await _their_lines(services, match, tr, mine_too=False)
    buttons = (
        (
            (tr.label("🤝 Request a meeting"), callbacks.make(NS, "int", sender)),
            (tr.label("ℹ️ Details"), callbacks.make(NS, "det", sender)),
        ),
    )
    return Rendered(fit("\n".join(lines)), buttons)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add the /matches handlers and the renderers of match messages."""
    services: Services = app.bot_data["services"]

    async def new_match(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        return await render_new_match(services, tr, params)

    async def interest(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        return await render_interest(services, tr, params)

    services.delivery.renderers.add(NEW_MATCH_TEMPLATE, new_match)
    services.delivery.renderers.add(INTEREST_TEMPLATE, interest)
    app.add_handler(CommandHandler("matches", show_matches, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(on_button, pattern=callbacks.pattern(NS)))
