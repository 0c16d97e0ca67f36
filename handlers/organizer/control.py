"""Control of the day: /find a delegate, then cancel or move their meetings, seat them at another
table, flag them (un)reachable, revoke their booking link or undo a wrong claim; /merge two
profiles of one person. Every button re-checks the organizer role."""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from telegram import CallbackQuery, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.domain.countries import flag
from bot.domain.links import start_link
from bot.domain.meetings import MeetingState
from bot.domain.outbox import Rendered
from bot.domain.scheduling import slot_key, slot_start_from_key
from bot.i18n import Translator
from bot.services import Services
from bot.services import day_control as ctl
from bot.services.day_control import Found
from handlers import callbacks
from handlers.common import (
    Buttons,
    Caller,
    close_buttons,
    edit_message,
    organizer,
    organizer_press,
    refuse_button,
    send,
)
from handlers.context import BotContext
from handlers.meetings.common import slot_label, when_text, who_text
from handlers.views import quote

log = logging.getLogger(__name__)

NS = "ct"
MAX_MEETINGS = 6
MAX_TABLES = 24


def control_of(services: Services) -> ctl.DayControl:
    """The day-control service, built once by build_services."""
    return services.control


def _label(found: Found) -> str:
    name = found.name or f"#{found.id}"
    parts = [name]
    if found.organization:
        parts.append(found.organization)
    if found.country:
        parts.append(flag(found.country))
    return " · ".join(parts)[:60]


async def find(update: Update, context: BotContext) -> None:
    """/find TEXT: delegates by name, organization, username, external id or id."""
    who = await organizer(update, context)
    if who is None:
        return
    query = " ".join(context.args or [])
    if not query:
        await send(context, who.chat_id, who.tr._("Write what to look for: /find name"))
        return
    found = await control_of(context.services).find(query)
    if not found:
        await send(context, who.chat_id, who.tr._("Nobody matches {query}.", query=quote(query)))
        return
    rows = [[(_label(f), callbacks.make(NS, "card", f.id))] for f in found]
    text = who.tr.ngettext("{n} delegate found:", "{n} delegates found:", len(found))
    await send(context, who.chat_id, text, rows)


async def _card(context: BotContext, who: Caller, delegate_id: int) -> tuple[str, Buttons]:
    services, tr = context.services, who.tr
    control = control_of(services)
    found = await control.delegate(delegate_id)
    lines = [f"<b>{html.escape(_label(found))}</b>"]
    lines.append(
        tr._("Profile #{id}, imported", id=found.id)
        if found.source == "import"
        else tr._("Profile #{id}, made in chat", id=found.id)
    )
    if found.external_id:
        lines.append(tr._("External id: {id}", id=found.external_id))
    if found.telegram_username:
        lines.append(f"@{html.escape(found.telegram_username)}")
    lines.append(
        tr._("Reachable in Telegram: yes")
        if found.reachable and found.chat_id
        else tr._("Reachable in Telegram: no")
    )
    rows: Buttons = []
    agenda = [
        m for m in await services.meetings.agenda(delegate_id) if m.state is MeetingState.ACCEPTED
    ]
    if agenda:
        lines.append(tr._("<b>Booked meetings</b>"))
    for meeting in agenda[:MAX_MEETINGS]:
        other = await services.meetings.party(meeting.other(delegate_id))
        when = when_text(tr, meeting.slot_start, meeting.slot_end, services)
        lines.append(
            tr._(
                "#{id} {when}, table {table}, with {name}",
                id=meeting.id,
                when=when,
                table=meeting.table or "",
                name=who_text(other, tr),
            )
        )
        rows.append(
            [
                (tr.label("🔀 Move #{id}", id=meeting.id), callbacks.make(NS, "mv", meeting.id)),
                (
                    tr.label("❌ Cancel #{id}", id=meeting.id),
                    callbacks.make(NS, "cxl", meeting.id),
                ),
                (tr.label("🪑 Table #{id}", id=meeting.id), callbacks.make(NS, "tbl", meeting.id)),
            ]
        )
    if found.reachable:
        rows.append([(tr.label("🚫 Mark unreachable"), callbacks.make(NS, "unr", delegate_id))])
    else:
        rows.append([(tr.label("✅ Mark reachable"), callbacks.make(NS, "rea", delegate_id))])
    rows.append([(tr.label("🔗 Revoke booking link"), callbacks.make(NS, "rvk", delegate_id))])
    if found.source == "import" and found.claimed:
        rows.append([(tr.label("↩️ Undo claim"), callbacks.make(NS, "unc", delegate_id))])
    return "\n".join(lines), rows


@dataclass(frozen=True)
class ControlPress:
    """One organizer's press on a control button: `target` is a meeting or delegate id."""

    query: CallbackQuery
    context: BotContext
    who: Caller
    target: int
    tail: str  # the second number of "12-34" arguments, else ""

    @property
    def tr(self) -> Translator:
        return self.who.tr

    @property
    def control(self) -> ctl.DayControl:
        return control_of(self.context.services)

    async def show(self, text: str, buttons: Buttons | None = None) -> None:
        """Answer the press and send a new message to the organizer."""
        await self.query.answer()
        await send(self.context, self.who.chat_id, text, buttons)


async def _show_card(press: ControlPress) -> None:
    await press.show(*await _card(press.context, press.who, press.target))


async def _ask_cancel(press: ControlPress) -> None:
    tr, target = press.tr, press.target
    meeting = await press.control.booked(target)
    yes = [[(tr.label("Yes, cancel #{id}", id=meeting.id), callbacks.make(NS, "cxly", target))]]
    text = tr._("Cancel meeting #{id} for both delegates? Both will be told.", id=target)
    await press.show(text, yes)


async def _cancel(press: ControlPress) -> None:
    await press.control.cancel_meeting(press.who.user_id, press.target)
    await press.query.answer(press.tr.label("Cancelled."))
    await edit_message(press.query, press.tr._("Meeting #{id} was cancelled.", id=press.target))


async def _ask_move(press: ControlPress) -> None:
    tr, target, services = press.tr, press.target, press.context.services
    slots = await press.control.free_slots(target)
    if not slots:
        await press.show(tr._("No free slot for both of them."))
        return
    buttons = [
        [
            (
                slot_label(tr, slot, services),
                callbacks.make(NS, "mvto", f"{target}-{slot_key(slot.start)}"),
            )
        ]
        for slot in slots
    ]
    await press.show(tr._("Move meeting #{id} to:", id=target), buttons)


async def _move(press: ControlPress) -> None:
    tr, target = press.tr, press.target
    if not press.tail:
        await refuse_button(press.query, tr)
        return
    slot = slot_start_from_key(int(press.tail))
    moved = await press.control.move_meeting(press.who.user_id, target, slot)
    await press.query.answer(tr.label("Moved."))
    when = when_text(tr, moved.slot_start, moved.slot_end, press.context.services)
    text = tr._(
        "Meeting #{id} moved to {when}, table {table}. Both were told.",
        id=target,
        when=when,
        table=moved.table or "",
    )
    await edit_message(press.query, text)


async def _set_reachable(press: ControlPress, reachable: bool) -> None:
    await press.control.set_reachable(press.who.user_id, press.target, reachable)
    await press.query.answer(press.tr.label("Saved."))
    await close_buttons(press.query)
    await send(
        press.context, press.who.chat_id, *await _card(press.context, press.who, press.target)
    )


async def _unreachable(press: ControlPress) -> None:
    await _set_reachable(press, False)


async def _reachable(press: ControlPress) -> None:
    await _set_reachable(press, True)


async def _ask_table(press: ControlPress) -> None:
    tr, target = press.tr, press.target
    tables = await press.control.free_tables(target)
    if not tables:
        await press.show(tr._("No other table is free in that slot."))
        return
    index = {t: i for i, t in enumerate(press.context.services.meetings.schedule.tables)}
    buttons = [
        [(table, callbacks.make(NS, "tblto", f"{target}-{index[table]}"))]
        for table in tables[:MAX_TABLES]
    ]
    await press.show(tr._("Seat meeting #{id} at table:", id=target), buttons)


async def _seat(press: ControlPress) -> None:
    tr, target = press.tr, press.target
    every = press.context.services.meetings.schedule.tables
    if not press.tail:
        await refuse_button(press.query, tr)
        return
    if int(press.tail) >= len(every):
        raise ctl.TableNotFree(f"no table number {press.tail}")
    seated = await press.control.swap_table(press.who.user_id, target, every[int(press.tail)])
    await press.query.answer(tr.label("Saved."))
    text = tr._(
        "Meeting #{id} is now at table {table}. Both were told.",
        id=target,
        table=seated.table or "",
    )
    await edit_message(press.query, text)


async def _ask_undo_claim(press: ControlPress) -> None:
    tr, target = press.tr, press.target
    found = await press.control.delegate(target)
    yes = [[(tr.label("Yes, undo the claim"), callbacks.make(NS, "uncy", target))]]
    text = tr._(
        "Unbind the Telegram account from the profile of {name}? The profile keeps its "
        "data and gets a new claim link; the account is told.",
        name=html.escape(_label(found)),
    )
    await press.show(text, yes)


async def _undo_claim(press: ControlPress) -> None:
    tr = press.tr
    token = await press.control.undo_claim(press.who.user_id, press.target)
    await press.query.answer(tr.label("Saved."))
    link = start_link(press.context.bot.username, token)
    text = tr._(
        "The claim was undone. Send this new claim link to the right person:\n{link}",
        link=html.escape(link),
    )
    await edit_message(press.query, text)


async def _merge(press: ControlPress) -> None:
    tr = press.tr
    if not press.tail:
        await refuse_button(press.query, tr)
        return
    merged = await press.control.merge(press.who.user_id, press.target, int(press.tail))
    await press.query.answer(tr.label("Saved."))
    text = tr._(
        "Profile #{chat} was merged into #{into}: {items} offers and needs, {meetings} "
        "meetings carried over. The delegate was told.",
        chat=merged.from_id,
        into=merged.into_id,
        items=merged.items,
        meetings=merged.meetings,
    )
    await edit_message(press.query, text)


async def _revoke_booking_link(press: ControlPress) -> None:
    await press.control.revoke_booking_link(press.who.user_id, press.target)
    text = press.tr.label("The old booking link no longer works.")
    await press.query.answer(text, show_alert=True)


# Callback codes of the "ct" namespace (argument: a meeting id, a delegate id, or "id-id").
ACTIONS: Mapping[str, Callable[[ControlPress], Awaitable[None]]] = {
    "card": _show_card,  # delegate id: show their card again
    "cxl": _ask_cancel,  # meeting id: ask before cancelling
    "cxly": _cancel,  # meeting id: cancel, both told
    "mv": _ask_move,  # meeting id: list the slots free for both
    "mvto": _move,  # meeting id - slot key: move there
    "unr": _unreachable,  # delegate id: flag unreachable
    "rea": _reachable,  # delegate id: flag reachable again
    "rvk": _revoke_booking_link,  # delegate id: a new booking token
    "tbl": _ask_table,  # meeting id: list the free tables
    "tblto": _seat,  # meeting id - table index: seat there
    "unc": _ask_undo_claim,  # delegate id: ask before unbinding the account
    "uncy": _undo_claim,  # delegate id: unbind, print a new claim link
    "mrgy": _merge,  # imported id - chat-made id: merge the two profiles
}


async def on_button(update: Update, context: BotContext) -> None:
    """Control buttons; the role is re-checked on every press."""
    press = await organizer_press(update, context, NS, frozenset(ACTIONS))
    if press is None:
        return
    query, who, data = press.query, press.who, press.data
    head, _, tail = data.arg.partition("-")
    if not head.isdigit() or (tail and not tail.isdigit()):
        await refuse_button(query, who.tr)
        return
    tr = who.tr
    try:
        await ACTIONS[data.action](ControlPress(query, context, who, int(head), tail))
    except ctl.SlotNotFree:
        await query.answer(tr.label("That slot is no longer free."), show_alert=True)
    except ctl.TableNotFree:
        await query.answer(tr.label("That table is no longer free."), show_alert=True)
    except ctl.MergeConflict as error:
        log.info("merge refused: %s", error)
        text = tr.label(
            "A booked meeting of the chat profile clashes with the imported one. Move or cancel "
            "it first; nothing was changed."
        )
        await query.answer(text, show_alert=True)
    except ctl.ControlError as error:
        log.info("control action refused: %s", error)
        await refuse_button(query, tr)


async def merge(update: Update, context: BotContext) -> None:
    """/merge ID ID: join a chat-made profile to the imported profile of the same person."""
    who = await organizer(update, context)
    if who is None:
        return
    tr = who.tr
    args = context.args or []
    if len(args) != 2 or not all(callbacks.is_id(a.lstrip("#")) for a in args):
        text = tr._(
            "Write the two profile numbers (shown on /find cards): /merge IMPORTED CHAT-MADE"
        )
        await send(context, who.chat_id, text)
        return
    first, second = (int(a.lstrip("#")) for a in args)
    try:
        into, other = await control_of(context.services).merge_pair(first, second)
    except ctl.ControlError:
        text = tr._(
            "These are not an unclaimed imported profile and a profile made in chat; "
            "nothing to merge."
        )
        await send(context, who.chat_id, text)
        return
    text = tr._(
        "Merge profile #{chat} ({chat_name}, made in chat) into #{into} ({into_name}, imported)? "
        "Its offers, needs and meetings move over, the chat profile is erased and its Telegram "
        "account takes the imported profile.",
        chat=other.id,
        chat_name=html.escape(_label(other)),
        into=into.id,
        into_name=html.escape(_label(into)),
    )
    yes = [[(tr.label("Yes, merge"), callbacks.make(NS, "mrgy", f"{into.id}-{other.id}"))]]
    await send(context, who.chat_id, text, yes)


def renderers(services: Services) -> dict[str, Any]:
    """The messages delegates get after an organizer's fix, in their language."""
    meetings = services.meetings

    async def about_meeting(tr: Translator, params: Mapping[str, Any], moved: bool) -> Rendered:
        meeting = await meetings.get(int(params["meeting"]))
        if meeting is None:
            raise LookupError(f"meeting {params['meeting']} is gone")
        me = int(params["as"])
        other = await meetings.party(meeting.other(me))
        when = when_text(tr, meeting.slot_start, meeting.slot_end, services)
        if moved:
            text = tr._(
                "🔀 The organizers moved your meeting with {name} to {when}, table {table}.",
                name=who_text(other, tr),
                when=when,
                table=meeting.table or "",
            )
        else:
            text = tr._(
                "❌ The organizers cancelled your meeting with {name} on {when}. "
                "The time is free again.",
                name=who_text(other, tr),
                when=when,
            )
        return Rendered(text)

    async def cancelled(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        return await about_meeting(tr, params, moved=False)

    async def moved(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        return await about_meeting(tr, params, moved=True)

    async def revoked(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        return Rendered(
            tr._(
                "🔗 The organizers replaced your booking link; the old one no longer works. "
                "Your new link and QR code: /badge"
            )
        )

    async def reachable(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        return Rendered(tr._("The organizers can reach you here again."))

    async def table_changed(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        meeting = await meetings.get(int(params["meeting"]))
        if meeting is None:
            raise LookupError(f"meeting {params['meeting']} is gone")
        other = await meetings.party(meeting.other(int(params["as"])))
        text = tr._(
            "🪑 Your meeting with {name} on {when} is now at table {table}.",
            name=who_text(other, tr),
            when=when_text(tr, meeting.slot_start, meeting.slot_end, services),
            table=meeting.table or "",
        )
        return Rendered(text)

    async def unclaimed(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        return Rendered(
            tr._(
                "The organizers found that this Telegram account was linked by mistake to a "
                "profile registered for someone else, and have unlinked it. Sorry for the "
                "trouble. To take part, send /start or contact the organizers."
            )
        )

    async def merged(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        return Rendered(
            tr._(
                "The organizers joined the profile you made here with the one they registered "
                "for you. Your offers, needs and meetings are kept. See /profile."
            )
        )

    return {
        ctl.T_CANCELLED: cancelled,
        ctl.T_MOVED: moved,
        ctl.T_LINK_REVOKED: revoked,
        ctl.T_REACHABLE: reachable,
        ctl.T_TABLE: table_changed,
        ctl.T_UNCLAIMED: unclaimed,
        ctl.T_MERGED: merged,
    }


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add /find, the control buttons and the renderers of the delegates' messages."""
    services: Services = app.bot_data["services"]
    for key, renderer in renderers(services).items():
        services.delivery.renderers.add(key, renderer)
    app.add_handler(CommandHandler("find", find, filters=filters.ChatType.PRIVATE))
    app.add_handler(CommandHandler("merge", merge, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(on_button, pattern=callbacks.pattern(NS)))
