"""Control of the day: /find a delegate, then cancel or move their meetings, flag them
(un)reachable or revoke their booking link. Every button re-checks the organizer role."""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot import control as ctl
from bot.domain.countries import flag
from bot.domain.meetings import MeetingState
from bot.domain.outbox import Rendered
from bot.domain.scheduling import slot_key, slot_start_from_key
from bot.i18n import Translator
from bot.services import BotContext, Services
from handlers import callbacks
from handlers.common import Buttons, Caller, close_buttons, edit_message, refuse_button, send
from handlers.meetings import slot_label, when_text, who_text
from handlers.organizer import organizer
from storage.control import Found

log = logging.getLogger(__name__)

NS = "ct"
ACTIONS = frozenset({"card", "cxl", "cxly", "mv", "mvto", "unr", "rea", "rvk"})
MAX_MEETINGS = 6


def control_of(services: Services) -> ctl.DayControl:
    """The day-control service, built over the meetings service and the audit log."""
    return ctl.DayControl(
        services.db,
        services.clock,
        services.meetings,
        services.outbox,
        services.broadcasts.audit,
    )


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
        await send(context, who.chat_id, who.tr._("Nobody matches {query}.", query=query))
        return
    rows = [[(_label(f), callbacks.make(NS, "card", f.id))] for f in found]
    text = who.tr.ngettext("{n} delegate found:", "{n} delegates found:", len(found))
    await send(context, who.chat_id, text, rows)


async def _card(context: BotContext, who: Caller, delegate_id: int) -> tuple[str, Buttons]:
    services, tr = context.services, who.tr
    control = control_of(services)
    found = await control.delegate(delegate_id)
    lines = [f"<b>{html.escape(_label(found))}</b>"]
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
            ]
        )
    if found.reachable:
        rows.append([(tr.label("🚫 Mark unreachable"), callbacks.make(NS, "unr", delegate_id))])
    else:
        rows.append([(tr.label("✅ Mark reachable"), callbacks.make(NS, "rea", delegate_id))])
    rows.append([(tr.label("🔗 Revoke booking link"), callbacks.make(NS, "rvk", delegate_id))])
    return "\n".join(lines), rows


async def on_button(update: Update, context: BotContext) -> None:
    """Control buttons; the role is re-checked on every press."""
    query = update.callback_query
    if query is None:
        return
    who = await organizer(update, context)
    if who is None:
        return
    data = callbacks.parse(query.data, NS, ACTIONS)
    arg = data.arg if data is not None else ""
    head, _, tail = arg.partition("-")
    if data is None or not head.isdigit() or (tail and not tail.isdigit()):
        await refuse_button(query, who.tr)
        return
    tr, target = who.tr, int(head)
    control = control_of(context.services)
    try:
        if data.action == "card":
            await query.answer()
            await send(context, who.chat_id, *await _card(context, who, target))
        elif data.action == "cxl":
            meeting = await control.booked(target)
            yes = [
                [
                    (
                        tr.label("Yes, cancel #{id}", id=meeting.id),
                        callbacks.make(NS, "cxly", target),
                    )
                ]
            ]
            await query.answer()
            await send(
                context,
                who.chat_id,
                tr._("Cancel meeting #{id} for both delegates? Both will be told.", id=target),
                yes,
            )
        elif data.action == "cxly":
            await control.cancel_meeting(who.user_id, target)
            await query.answer(tr.label("Cancelled."))
            await edit_message(query, tr._("Meeting #{id} was cancelled.", id=target))
        elif data.action == "mv":
            slots = await control.free_slots(target)
            await query.answer()
            if not slots:
                await send(context, who.chat_id, tr._("No free slot for both of them."))
                return
            buttons = [
                [
                    (
                        slot_label(tr, slot, context.services),
                        callbacks.make(NS, "mvto", f"{target}-{slot_key(slot.start)}"),
                    )
                ]
                for slot in slots
            ]
            await send(context, who.chat_id, tr._("Move meeting #{id} to:", id=target), buttons)
        elif data.action == "mvto" and tail:
            moved = await control.move_meeting(who.user_id, target, slot_start_from_key(int(tail)))
            await query.answer(tr.label("Moved."))
            when = when_text(tr, moved.slot_start, moved.slot_end, context.services)
            await edit_message(
                query,
                tr._(
                    "Meeting #{id} moved to {when}, table {table}. Both were told.",
                    id=target,
                    when=when,
                    table=moved.table or "",
                ),
            )
        elif data.action in ("unr", "rea"):
            await control.set_reachable(who.user_id, target, data.action == "rea")
            await query.answer(tr.label("Saved."))
            await close_buttons(query)
            await send(context, who.chat_id, *await _card(context, who, target))
        elif data.action == "rvk":
            await control.revoke_booking_link(who.user_id, target)
            await query.answer(tr.label("The old booking link no longer works."), show_alert=True)
        else:
            await refuse_button(query, tr)
    except ctl.SlotNotFree:
        await query.answer(tr.label("That slot is no longer free."), show_alert=True)
    except ctl.ControlError as error:
        log.info("control action refused: %s", error)
        await refuse_button(query, tr)


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

    return {
        ctl.T_CANCELLED: cancelled,
        ctl.T_MOVED: moved,
        ctl.T_LINK_REVOKED: revoked,
        ctl.T_REACHABLE: reachable,
    }


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add /find, the control buttons and the renderers of the delegates' messages."""
    services: Services = app.bot_data["services"]
    for key, renderer in renderers(services).items():
        services.delivery.renderers.add(key, renderer)
    app.add_handler(CommandHandler("find", find, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(on_button, pattern=callbacks.pattern(NS)))
