"""Printed schedules for organizers: the schedule summary, and every booked meeting per table and
per delegate as CSV or XLSX, in the event's time zone, with the interpreter flag and the guests
at the table (who also get their own lines)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass, fields

from bot.domain.guests import GuestKind
from bot.domain.meetings import Meeting, MeetingState, shared_languages
from bot.domain.scheduling import Schedule
from bot.formats import spreadsheet
from storage.meetings import Party
from storage.talk import Guest


@dataclass(frozen=True)
class ScheduleRow:
    """One line of the printed schedule: a meeting seen from a table or from one delegate."""

    view: str  # "table" or "delegate"
    key: str  # the table name or the delegate's name
    date: str
    start: str
    end: str
    table: str
    room: str
    delegate: str
    organization: str
    counterpart: str
    counterpart_organization: str
    languages: str
    interpreter_needed: str
    status: str = "accepted"  # "accepted", or "proposed" for a scheduler's proposal
    guests: str = ""  # who joins the two: "name (organization)", or "name (interpreter)"


HEADER = tuple(f.name for f in fields(ScheduleRow))


def _name(party: Party | None) -> str:
    return (party.name or "") if party else ""


def _org(party: Party | None) -> str:
    return (party.organization or "") if party else ""


def _guest(guest: Guest, party: Party | None) -> str:
    what = "interpreter" if guest.kind is GuestKind.INTERPRETER else _org(party)
    return f"{_name(party)} ({what})" if what else _name(party)


def schedule_rows(
    meetings: Sequence[Meeting],
    parties: Mapping[int, Party | None],
    schedule: Schedule,
    guests: Sequence[Guest] = (),
) -> list[ScheduleRow]:
    """Every meeting once per table and once per participant and guest, sorted for printing.

    Accepted meetings have the status "accepted"; anything else given (a published or planned
    proposal) is "proposed". A guest's own line names, as the counterpart, the party they meet
    (not the one who brought them); `parties` must hold the guests too.
    """
    seated: dict[int, list[Guest]] = {}
    for guest in guests:
        seated.setdefault(guest.meeting_id, []).append(guest)
    by_table: list[ScheduleRow] = []
    by_delegate: list[ScheduleRow] = []
    for meeting in meetings:
        start = schedule.local(meeting.slot_start)
        end = schedule.local(meeting.slot_end)
        a, b = parties.get(meeting.requester_id), parties.get(meeting.invitee_id)
        shared = shared_languages(
            a.meeting_languages if a else (), b.meeting_languages if b else ()
        )
        common = dict(
            date=start.date().isoformat(),
            start=start.strftime("%H:%M"),
            end=end.strftime("%H:%M"),
            table=meeting.table or "",
            room=schedule.room or "",
            languages=" ".join(shared),
            interpreter_needed="yes" if not shared else "no",
            status="accepted" if meeting.state is MeetingState.ACCEPTED else "proposed",
            guests="; ".join(
                _guest(g, parties.get(g.guest_id)) for g in seated.get(meeting.id, [])
            ),
        )
        by_table.append(
            ScheduleRow(
                view="table", key=meeting.table or "", delegate=_name(a), organization=_org(a),
                counterpart=_name(b), counterpart_organization=_org(b), **common,
            )
        )  # fmt: skip
        others = {meeting.requester_id: b, meeting.invitee_id: a}
        lines = [(a, b), (b, a)] + [
            (parties.get(g.guest_id), others.get(g.added_by)) for g in seated.get(meeting.id, [])
        ]
        for me, other in lines:
            by_delegate.append(
                ScheduleRow(
                    view="delegate", key=_name(me), delegate=_name(me), organization=_org(me),
                    counterpart=_name(other), counterpart_organization=_org(other), **common,
                )
            )  # fmt: skip
    table_order = {name: n for n, name in enumerate(schedule.tables)}
    by_table.sort(key=lambda r: (table_order.get(r.key, len(table_order)), r.key, r.date, r.start))
    by_delegate.sort(key=lambda r: (r.key.casefold(), r.date, r.start))
    return by_table + by_delegate


def to_csv(rows: Sequence[ScheduleRow]) -> str:
    """The rows as CSV text with a header (the `view` column tells the two lists apart)."""
    return spreadsheet.csv_text(HEADER, (astuple(row) for row in rows))


def to_xlsx(rows: Sequence[ScheduleRow]) -> bytes:
    """The rows as a workbook with one sheet per table view and one per delegate view."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheets = {"table": workbook.active, "delegate": workbook.create_sheet()}
    sheets["table"].title = "By table"
    sheets["delegate"].title = "By delegate"
    for sheet in sheets.values():
        spreadsheet.append_row(sheet, HEADER[1:])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    for row in rows:
        spreadsheet.append_row(sheets[row.view], astuple(row)[1:])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def schedule_summary(schedule: Schedule, event_name: str) -> str:
    """`matchmaker schedule`: days, sessions, breaks, slots and tables in the event's zone."""
    lines = [f"{event_name} — times in {schedule.zone.key} (stored as UTC)"]
    tables = schedule.tables
    shown = ", ".join(tables) if len(tables) <= 6 else f"{tables[0]} … {tables[-1]}"
    room = f", room {schedule.room}" if schedule.room else ""
    lines.append(
        f"slots of {schedule.slot_minutes} min; {len(tables)} table(s): {shown}{room}; "
        f"requests expire after {schedule.request_ttl.total_seconds() / 3600:g} h; "
        f"reminders {schedule.reminder_minutes} min before"
    )
    if not schedule.days or not schedule.sessions:
        lines.append("no meeting days or sessions configured: add a [schedule] table (README)")
        return "\n".join(lines) + "\n"
    sessions = ", ".join(str(s) for s in schedule.sessions)
    breaks = ", ".join(str(b) for b in schedule.breaks) or "none"
    lines.append(f"sessions {sessions}; breaks {breaks}")
    for day in schedule.days:
        slots = schedule.slots_on(day)
        starts = " ".join(schedule.local(s.start).strftime("%H:%M") for s in slots)
        lines.append(f"{day.isoformat()} {day:%a}: {len(slots)} slots  {starts}")
    total = len(schedule.slots)
    lines.append(f"total {total} slots x {len(tables)} tables = {total * len(tables)} meetings")
    return "\n".join(lines) + "\n"
