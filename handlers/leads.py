"""Leads for exhibitors in the chat: the card's opt-in ("Leave my card"), `/leads` with a card
per lead (a 1-5 score by buttons, a note by typed text), and the CSV/XLSX export.

Every button re-checks on the service that the presser answers for the lead's exhibit (its
owner or a delegate of its organization); a press on someone else's lead is refused.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import CallbackQuery, InputFile, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.domain.leads import SCORES, Counts, LeadError, stars
from bot.i18n import Translator, joined
from bot.services import exports
from bot.services.exhibits import Exhibit, title_of
from bot.services.leads import ExhibitCount, Lead
from handlers import callbacks
from handlers.common import Buttons, Caller, chunk, edit_message, page_row, registered_press, send
from handlers.context import BotContext
from handlers.meetings.booking import EXHIBITS, registered_caller
from handlers.views import fit, quote

NS = "ld"
PAGE = 8
NOTE_GROUP = -3  # before the meeting note (-2): a note asked for here is this note
NOTE = "lead_note"  # user_data: the lead whose note the next text is, and when it was asked
NOTE_MINUTES = 15
LIST_TITLE = 60  # characters of an exhibit's title in the list


# -- on the exhibit card (handlers/exhibits.py) ------------------------------------------------


def card_line(tr: Translator, card_left: bool) -> str:
    """The card's line on what the exhibitor sees of the visitor."""
    if card_left:
        return tr._("📇 You left your card: the exhibitor sees your name and contact.")
    return tr._(
        "The exhibitor sees who you are only if you leave your card (name, organization, contact)."
    )


def card_button(tr: Translator, exhibit_id: int, card_left: bool) -> tuple[str, str]:
    """The opt-in button, or the button that takes the card back."""
    if card_left:
        label = tr.label("↩️ Take my card back")
    else:
        label = tr.label("📇 Leave my card with the exhibitor")
    return label, callbacks.make("x", "card", exhibit_id)


def card_toast(tr: Translator, card_left: bool) -> str:
    """What the visitor is told after pressing it."""
    if card_left:
        return tr.label("The exhibitor can now see your name, organization and contact.")
    return tr.label("Card taken back: the exhibitor no longer sees you.")


def remember_exhibit(context: BotContext, invitee: int, exhibit_id: int) -> None:
    """Keep which exhibit a booking with `invitee` comes from, so its whole team is asked."""
    if context.user_data is not None:
        context.user_data.setdefault(EXHIBITS, {})[invitee] = exhibit_id


# -- /stats (handlers/organizer/desk.py) -------------------------------------------------------

STATS_TOP = 10  # exhibits listed in /stats, the busiest first


def _counts_text(tr: Translator, place: str, counts: Counts) -> str:
    return tr._(
        "{place}: scans {scans}, saves {saves}, meeting requests {asks}, cards left {cards}",
        place=place,
        scans=counts.scans,
        saves=counts.saves,
        asks=counts.asks,
        cards=counts.opted_in,
    )


def stats_lines(
    tr: Translator, per_exhibit: Sequence[ExhibitCount], per_hall: Sequence[tuple[str, Counts]]
) -> list[str]:
    """The exhibits' section of /stats: per hall, then the busiest exhibits."""
    if not per_exhibit:
        return []
    lines = ["", tr._("<b>Exhibits</b>")]
    for hall, counts in per_hall:
        place = tr.label("Hall {hall}", hall=hall) if hall else tr.label("No hall")
        lines.append(_counts_text(tr, place, counts))
    busiest = sorted(
        (c for c in per_exhibit if c.counts.total), key=lambda c: (-c.counts.total, c.key)
    )
    for count in busiest[:STATS_TOP]:
        place = f"{count.key} ({count.booth})" if count.booth else count.key
        lines.append("• " + _counts_text(tr, place, count.counts))
    return lines


# -- /leads ------------------------------------------------------------------------------------


def _did(tr: Translator, lead: Lead) -> str:
    done = []
    if lead.scanned_at is not None:
        done.append(tr.label("scanned the QR"))
    if lead.saved_at is not None:
        done.append(tr.label("saved"))
    if lead.asked_at is not None:
        done.append(tr.label("asked for a meeting"))
    if not done:  # opened the card from /search or a shared card, and left their card
        done.append(tr.label("left their card"))
    return joined(done, tr)


def _who(tr: Translator, lead: Lead) -> str:
    if lead.organization:
        return tr._(
            "<b>{name}</b>, {organization}", name=lead.name, organization=lead.organization
        )
    return f"<b>{tr.user_text(lead.name)}</b>"


def _entry(tr: Translator, n: int, lead: Lead, exhibits: Mapping[int, Exhibit]) -> str:
    title = quote(title_of(exhibits[lead.exhibit_id], tr.locale)[1], LIST_TITLE)
    line = tr._("{n}. {who} — {exhibit}: {did}", n=n, who=_who(tr, lead), exhibit=title,
                did=_did(tr, lead))  # fmt: skip
    if lead.score is not None:
        line += f" {stars(lead.score)}"
    if lead.note:
        line += "\n" + tr._("Note: {note}", note=quote(lead.note))
    return line


async def _list(context: BotContext, who: Caller, offset: int) -> tuple[str, Buttons]:
    assert who.delegate is not None
    tr, service = who.tr, context.services.leads
    exhibits = {e.id: e for e in await service.represented(who.delegate.id)}
    if not exhibits:
        return tr._("You do not present any exhibit, so there are no leads to show."), []
    names = quote(joined((title_of(e, tr.locale)[1] for e in exhibits.values()), tr), 300)
    lines = [tr._("<b>Leads</b> for {exhibits}", exhibits=names)]
    leads = await service.leads_of(who.delegate.id)
    if not leads:
        lines.append(tr._("No visitor has left their card yet."))
        return "\n".join(lines), []
    lines.append(
        tr.ngettext("{n} visitor left their card.", "{n} visitors left their card.", len(leads))
    )
    page = leads[offset : offset + PAGE]
    buttons = []
    for n, lead in enumerate(page, start=offset + 1):
        lines.append(_entry(tr, n, lead, exhibits))
        buttons.append((str(n), callbacks.make(NS, "op", lead.id)))
    rows = chunk(buttons, 4)
    previous = callbacks.make(NS, "ls", offset - PAGE) if offset > 0 else None
    following = callbacks.make(NS, "ls", offset + PAGE) if offset + PAGE < len(leads) else None
    if paging := page_row(tr, previous, following):
        rows.append(paging)
    rows.append(
        [(f"⬇️ {f.upper()}", callbacks.make(NS, "ex", f)) for f in exports.FORMATS]
    )  # fmt: skip
    return fit("\n\n".join(lines[:2]) + "\n\n" + "\n".join(lines[2:])), rows


def _lead_card(tr: Translator, lead: Lead, exhibit: Exhibit | None) -> tuple[str, Buttons]:
    lines = [_who(tr, lead)]
    if lead.contact:
        lines.append(tr._("Contact: {contact}", contact=lead.contact))
    if exhibit is not None:
        lines.append(tr._("Exhibit: {title}", title=title_of(exhibit, tr.locale)[1]))
    lines.append(tr._("What they did: {did}", did=_did(tr, lead)))
    if lead.score is not None:
        lines.append(
            tr._("Interest: {stars} ({score}/5)", stars=stars(lead.score), score=lead.score)
        )
    if lead.note:
        lines.append(tr._("Note: {note}", note=lead.note))
    scores = [
        (("✅ " if lead.score == s else "") + str(s), callbacks.make(NS, "sc", f"{lead.id}_{s}"))
        for s in SCORES
    ]
    rows: Buttons = [
        scores,
        [(tr.label("📝 Note"), callbacks.make(NS, "nt", lead.id))],
        [(tr.label("« All leads"), callbacks.make(NS, "ls", 0))],
    ]
    return "\n".join(lines), rows


async def show_leads(update: Update, context: BotContext) -> None:
    """`/leads`: who left their card at the exhibits the delegate answers for."""
    who = await registered_caller(update, context)
    if who is None:
        return
    text, rows = await _list(context, who, 0)
    await send(context, who.chat_id, text, rows)


@dataclass(frozen=True)
class LeadPress:
    """A press on a leads button."""

    query: CallbackQuery
    context: BotContext
    who: Caller
    me: int
    arg: str


async def _open_card(press: LeadPress, lead_id: int, *, edit: bool) -> None:
    services = press.context.services
    lead = await services.leads.lead(press.me, lead_id)
    exhibit = await services.exhibits.get(lead.exhibit_id)
    text, rows = _lead_card(press.who.tr, lead, exhibit)
    if edit:
        await edit_message(press.query, text, rows)
    else:
        await send(press.context, press.who.chat_id, text, rows)


async def _page(press: LeadPress) -> bool:
    if not press.arg.isdecimal():
        return False
    await press.query.answer()
    text, rows = await _list(press.context, press.who, int(press.arg))
    await edit_message(press.query, text, rows)
    return True


async def _open(press: LeadPress) -> bool:
    if not callbacks.is_id(press.arg):
        return False
    await press.context.services.leads.lead(press.me, int(press.arg))
    await press.query.answer()
    await _open_card(press, int(press.arg), edit=False)
    return True


async def _score(press: LeadPress) -> bool:
    lead_id, _, score = press.arg.partition("_")
    if not callbacks.is_id(lead_id) or not score.isdecimal() or int(score) not in SCORES:
        return False
    await press.context.services.leads.set_score(press.me, int(lead_id), int(score))
    await press.query.answer(press.who.tr.label("Interest saved: {score}/5", score=int(score)))
    await _open_card(press, int(lead_id), edit=True)
    return True


async def _ask_note(press: LeadPress) -> bool:
    if not callbacks.is_id(press.arg):
        return False
    lead = await press.context.services.leads.lead(press.me, int(press.arg))
    if press.context.user_data is not None:
        made = press.context.services.clock.now().isoformat()
        press.context.user_data[NOTE] = {"lead": lead.id, "made": made}
    await press.query.answer()
    text = press.who.tr._(
        "Type your note about {name} in one message (it replaces the old one).", name=lead.name
    )
    await send(press.context, press.who.chat_id, text)
    return True


async def _export(press: LeadPress) -> bool:
    if press.arg not in exports.FORMATS:
        return False
    services = press.context.services
    table = await services.leads.export(press.me, services.settings.timezone, press.who.tr.locale)
    content, name = exports.render(table, press.arg)
    await press.query.answer()
    caption = press.who.tr.ngettext("{n} lead", "{n} leads", len(table.rows))
    await press.context.bot.send_document(
        press.who.chat_id, InputFile(io.BytesIO(content), filename=name), caption=caption
    )
    return True


LeadAction = Callable[[LeadPress], Awaitable[bool]]
# Callback codes of the leads namespace ("ld") and their argument.
ACTIONS: Mapping[str, LeadAction] = {
    "ls": _page,  # offset: a page of /leads
    "op": _open,  # lead id: its card
    "sc": _score,  # lead id _ 1..5: the interest score
    "nt": _ask_note,  # lead id: the next typed text is its note
    "ex": _export,  # csv | xlsx: the presser's leads as a file
}


async def on_button(update: Update, context: BotContext) -> None:
    """Handle every leads button; a lead the presser does not answer for is refused."""
    press = await registered_press(update, context, NS, frozenset(ACTIONS))
    if press is None:
        return
    action = ACTIONS[press.data.action]
    try:
        handled = await action(
            LeadPress(press.query, context, press.who, press.delegate.id, press.data.arg)
        )
    except LeadError:
        handled = False
    if not handled:
        await press.query.answer(
            press.who.tr.label("This button is no longer active. Please use the latest message."),
            show_alert=True,
        )


def _pending_note(context: BotContext) -> dict[str, Any] | None:
    data = context.user_data
    pending: dict[str, Any] | None = data.get(NOTE) if data is not None else None
    if pending is None:
        return None
    made = dt.datetime.fromisoformat(pending["made"])
    if context.services.clock.now() - made > dt.timedelta(minutes=NOTE_MINUTES):
        data.pop(NOTE, None)  # type: ignore[union-attr]
        return None
    return pending


async def on_note(update: Update, context: BotContext) -> None:
    """Text typed after "Note" is the lead's note."""
    pending = _pending_note(context)
    message = update.effective_message
    if pending is None or message is None or not message.text:
        return
    who = await registered_caller(update, context)
    if who is None or who.delegate is None:
        return
    if context.user_data is not None:
        context.user_data.pop(NOTE, None)
    service = context.services.leads
    try:
        lead = await service.set_note(who.delegate.id, int(pending["lead"]), message.text)
    except LeadError:
        raise ApplicationHandlerStop from None
    exhibit = await context.services.exhibits.get(lead.exhibit_id)
    text, rows = _lead_card(who.tr, lead, exhibit)
    await send(context, who.chat_id, who.tr._("📝 Note saved.") + "\n\n" + text, rows)
    raise ApplicationHandlerStop


async def forget_note(update: Update, context: BotContext) -> None:
    """Any command abandons a note that was asked for, so later text is not taken as it."""
    if context.user_data is not None:
        context.user_data.pop(NOTE, None)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add /leads, its buttons and the typed note."""
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("leads", show_leads, filters=private))
    app.add_handler(CallbackQueryHandler(on_button, pattern=callbacks.pattern(NS)))
    app.add_handler(
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, on_note), group=NOTE_GROUP
    )
    app.add_handler(MessageHandler(private & filters.COMMAND, forget_note), group=NOTE_GROUP)
