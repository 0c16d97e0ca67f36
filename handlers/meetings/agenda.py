"""/agenda and /badge: the delegate's meetings, reminders, blocked times and booking QR code."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from telegram import CallbackQuery, Update

from bot.domain import links
from bot.domain import meetings as rules
from bot.domain.meetings import (
    Meeting,
    MeetingState,
)
from bot.domain.scheduling import REMINDER_CHOICES, slot_key
from bot.formats import moments
from bot.formats.badges import qr_png
from bot.formats.calendar import CalendarEntry, agenda_ics
from bot.i18n import Html, Translator, joined
from bot.services import Services
from bot.services.meetings import Party
from handlers import callbacks
from handlers.common import (
    Buttons,
    Caller,
    chunk,
    edit_message,
    keyboard,
    send,
)
from handlers.context import BotContext
from handlers.meetings.booking import registered_caller
from handlers.meetings.common import NS, meetings_of, table_text, when_text, who_text
from handlers.meetings.talk import guest_line

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Table:
    """Who else sits at the delegate's meetings: guests per meeting, the meetings the delegate
    joins as a guest, and everyone's party record."""

    guests: Mapping[int, list[int]]
    joining: Sequence[Meeting]
    people: Mapping[int, Party | None]


async def table_of(services: Services, delegate_id: int, meetings: Sequence[Meeting]) -> Table:
    """The guests of the delegate's booked meetings and the meetings they join as a guest."""
    talk = services.talk
    booked = [m.id for m in meetings if m.state is MeetingState.ACCEPTED]
    guests: dict[int, list[int]] = {}
    for guest in await talk.guests(booked):
        guests.setdefault(guest.meeting_id, []).append(guest.guest_id)
    joining = await talk.as_guest(delegate_id)
    ids = {g for listed in guests.values() for g in listed}
    ids |= {p for m in joining for p in m.participants}
    people = {pid: await services.meetings.party(pid) for pid in ids}
    return Table(guests, joining, people)


def reminder_label(tr: Translator, minutes: int) -> str:
    if minutes == 0:
        return tr.label("⏰ Reminders: off")
    return tr.ngettext(
        "⏰ Reminders: {n} minute before", "⏰ Reminders: {n} minutes before", minutes
    )


async def reminder_choice(context: BotContext, who: Caller) -> None:
    assert who.delegate is not None
    current = await meetings_of(context.services).reminder_minutes(who.delegate.id)
    buttons = [
        (
            ("✅ " if n == current else "") + (str(n) if n else who.tr.label("off")),
            callbacks.make(NS, "remset", n),
        )
        for n in REMINDER_CHOICES
    ]
    text = who.tr._("How many minutes before each meeting should I remind you?")
    await send(context, who.chat_id, text, [buttons])


async def block_day_choice(
    context: BotContext, who: Caller, day_index: int, query: CallbackQuery | None
) -> None:
    """The day's slots as toggles: 🚫 blocked, 📅 a meeting, ▫️ free."""
    assert who.delegate is not None
    services = context.services
    schedule = services.settings.schedule
    if not 0 <= day_index < len(schedule.days):
        return
    service = meetings_of(context.services)
    blocked = await service.blocked(who.delegate.id)
    booked = {m.slot_start for m in await service.agenda(who.delegate.id) if m.table}
    now = services.clock.now()
    day_slots = schedule.slots_on(schedule.days[day_index])
    buttons = []
    for slot in day_slots:
        if slot.start <= now:
            continue
        mark = "🚫" if slot.start in blocked else "📅" if slot.start in booked else "▫️"
        time = moments.time_text(slot.start, schedule.zone, who.tr)
        buttons.append((f"{mark} {time}", callbacks.make(NS, "tb", slot_key(slot.start))))
    noon = dt.datetime.combine(schedule.days[day_index], dt.time(12), tzinfo=schedule.zone)
    day = moments.day_text(noon, schedule.zone, who.tr)
    text = who.tr._(
        "<b>Availability on {day}</b>\nTap a time to block it (🚫) or free it again. "
        "Blocked times are offered to no one.",
        day=day,
    )
    rows = chunk(buttons, 4)
    if query is not None:
        await edit_message(query, text, rows)
    else:
        await send(context, who.chat_id, text, rows)


def agenda_text(
    who: Caller,
    meetings: Sequence[Meeting],
    parties: Mapping[int, Party | None],
    services: Services,
    table: Table | None = None,
) -> tuple[str, Buttons]:
    """The agenda grouped by day, with a cancel and a move button per booked meeting."""
    assert who.delegate is not None
    tr, me = who.tr, who.delegate.id
    zone = services.settings.schedule.zone
    now = services.clock.now()
    lines = [tr._("<b>Your meetings</b>")]
    rows: Buttons = []
    booked = [m for m in meetings if m.state is MeetingState.ACCEPTED]
    waiting = [m for m in meetings if m.state is MeetingState.REQUESTED]
    if not booked:
        lines.append(tr._("No meetings booked yet."))
    day_seen: dt.date | None = None
    for m in booked:
        day = m.slot_start.astimezone(zone).date()
        if day != day_seen:
            day_seen = day
            lines.append("")
            label = moments.day_text(m.slot_start, zone, tr)
            lines.append(f"<b>{Html(label)}</b>")
        hours = moments.hours_text(m.slot_start, m.slot_end, zone, tr)
        other = parties.get(m.other(me))
        lines.append(
            ("✔️ " if rules.is_read_only(m, now) else "")
            + tr._(
                "{hours} · {table} · {name}",
                hours=hours,
                table=table_text(m.table, services, tr),
                name=who_text(other, tr),
            )
        )
        if table is not None and table.guests.get(m.id):
            lines.append(guest_line([table.people.get(g) for g in table.guests[m.id]], tr))
        if rules.is_read_only(m, now):
            continue  # it has begun: on record, no more cancelling or moving
        short = moments.time_text(m.slot_start, zone, tr)
        rows.append(
            [
                (tr.label("❌ Cancel {time}", time=short), callbacks.make(NS, "cx", m.id)),
                (tr.label("🔁 Move {time}", time=short), callbacks.make(NS, "mv", m.id)),
            ]
        )
        rows.append(
            [
                (tr.label("💬 Write {time}", time=short), callbacks.make(NS, "say", m.id)),
                (tr.label("👥 Bring someone {time}", time=short), callbacks.make(NS, "gst", m.id)),
            ]
        )
    if table is not None and table.joining:
        lines += ["", tr._("<b>You join as a colleague or interpreter</b>")]
        for m in table.joining:
            names = joined((who_text(table.people.get(p), tr) for p in m.participants), tr)
            lines.append(
                tr._(
                    "{hours} · {table} · {name}",
                    hours=when_text(tr, m.slot_start, m.slot_end, services),
                    table=table_text(m.table, services, tr),
                    name=names,
                )
            )
    if waiting:
        lines += ["", tr._("<b>Waiting for an answer</b>")]
        for m in waiting:
            other = parties.get(m.other(me))
            when = when_text(tr, m.slot_start, m.slot_end, services)
            if m.invitee_id == me:
                lines.append(tr._("{when}: {name} asks you", when=when, name=who_text(other, tr)))
            else:
                lines.append(tr._("{when}: you asked {name}", when=when, name=who_text(other, tr)))
            if not rules.is_read_only(m, now):
                short = moments.time_text(m.slot_start, zone, tr)
                label = tr.label("💬 Write {time}", time=short)
                rows.append([(label, callbacks.make(NS, "say", m.id))])
    return "\n".join(lines), rows


async def show_agenda(update: Update, context: BotContext) -> None:
    """/agenda: meetings by day with cancel/move buttons, availability, reminders, and the .ics."""
    who = await registered_caller(update, context)
    if who is None or who.delegate is None:
        return
    services = context.services
    service = meetings_of(context.services)
    meetings = await service.agenda(who.delegate.id)
    parties = {pid: await service.party(pid) for m in meetings for pid in m.participants}
    table = await table_of(services, who.delegate.id, meetings)
    text, rows = agenda_text(who, meetings, parties, services, table)
    minutes = await service.reminder_minutes(who.delegate.id)
    rows.append([(reminder_label(who.tr, minutes), callbacks.make(NS, "rem"))])
    schedule = services.settings.schedule
    day_buttons = []
    for index, day in enumerate(schedule.days):
        noon = dt.datetime.combine(day, dt.time(12), tzinfo=schedule.zone)
        label = moments.day_text(noon, schedule.zone, who.tr)
        day_buttons.append(
            (who.tr.label("🚫 Block times: {day}", day=label), callbacks.make(NS, "blk", index))
        )
    rows += chunk(day_buttons, 2)
    await send(context, who.chat_id, text, rows)
    booked = [m for m in meetings if m.state is MeetingState.ACCEPTED]
    if booked or table.joining:
        await context.bot.send_document(
            who.chat_id,
            document=agenda_file(who, booked, parties, services, table),
            filename="meetings.ics",
            caption=who.tr._("Add your meetings to your phone's calendar."),
        )


def agenda_file(
    who: Caller,
    booked: Sequence[Meeting],
    parties: Mapping[int, Party | None],
    services: Services,
    table: Table | None = None,
) -> bytes:
    """The booked meetings (and those joined as a guest) as an .ics file, in the delegate's
    language."""
    assert who.delegate is not None
    tr, me = who.tr, who.delegate.id
    entries = []
    room = services.settings.schedule.room
    people = table.people if table is not None else {}
    for m in table.joining if table is not None else ():
        names = joined((who_text(people.get(p), tr) for p in m.participants), tr)
        entries.append(
            CalendarEntry(
                uid=f"meeting-{m.id}-guest@matchmaker",
                start=m.slot_start,
                end=m.slot_end,
                summary=tr.label("Meeting: {name}", name=names),
                location=tr.label("Table {table}", table=m.table or "?")
                + (f", {room}" if room else ""),
                description="",
            )
        )
    for m in booked:
        other = parties.get(m.other(me))
        entries.append(
            CalendarEntry(
                uid=f"meeting-{m.id}@matchmaker",
                start=m.slot_start,
                end=m.slot_end,
                summary=tr.label("Meeting: {name}", name=who_text(other, tr)),
                location=tr.label("Table {table}", table=m.table or "?")
                + (
                    f", {services.settings.schedule.room}"
                    if services.settings.schedule.room
                    else ""
                ),
                description=(other.organization or "") if other else "",
            )
        )
    return agenda_ics(
        entries,
        zone=services.settings.schedule.zone,
        name=services.settings.event_name,
        stamp=services.clock.now(),
    )


async def send_badge(context: BotContext, who: Caller, token: str) -> None:
    link = links.start_link(context.bot.username, token)
    caption = who.tr._(
        "<b>Your booking code</b>\nShow it to other delegates: scanning it opens "
        '"Book a meeting with you" in this bot. Link: {link}',
        link=link,
    )
    rows = [
        [(who.tr.label("🔄 New link (the old one stops working)"), callbacks.make(NS, "newl"))]
    ]
    await context.bot.send_photo(
        who.chat_id, photo=qr_png(link), caption=caption, reply_markup=keyboard(rows)
    )


async def show_badge(update: Update, context: BotContext) -> None:
    """/badge: the QR code of the delegate's booking link."""
    who = await registered_caller(update, context)
    if who is None or who.delegate is None:
        return
    token = await meetings_of(context.services).booking_token(who.delegate.id)
    await send_badge(context, who, token)
