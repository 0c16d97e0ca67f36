"""Exports for organizers: delegates, offers, needs, meetings or the schedule, as CSV or XLSX.

The same tables feed `/export` in chat and `matchmaker export`. CSV is UTF-8 with a byte-order
mark so spreadsheet programs read names in every script correctly; XLSX is written by openpyxl.
"""

from __future__ import annotations

import io
from dataclasses import astuple, dataclass
from zoneinfo import ZoneInfo

from bot.domain.clock import Clock, from_iso
from bot.domain.followup import Result, meeting_result
from bot.domain.meetings import Outcome, settled_outcome
from bot.domain.scheduling import Schedule
from bot.formats import spreadsheet
from bot.formats.schedules import HEADER as SCHEDULE_HEADER
from bot.formats.schedules import schedule_rows
from storage.db import Database
from storage.exports import ExportRepository
from storage.leads import LeadRepository
from storage.meetings import MeetingRepository

WHAT = ("delegates", "offers", "needs", "meetings", "schedule", "exhibit_leads", "results")
FORMATS = ("csv", "xlsx")

Cell = str | int | None


@dataclass(frozen=True)
class Table:
    """A header and rows, ready to write."""

    name: str
    header: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


def _at(column: str, zone: ZoneInfo) -> str:
    """A time column's name says its convention: local event time in the named zone."""
    return f"{column} ({zone.key})"


def _local(text: str | None, zone: ZoneInfo) -> str:
    if not text:
        return ""
    return from_iso(text).astimezone(zone).strftime("%Y-%m-%d %H:%M")


async def _delegates(db: Database, zone: ZoneInfo) -> Table:
    header = (
        "id", "external_id", "name", "organization", "country", "role", "language",
        "meeting_languages", "contact", "source", _at("registered_at", zone),
        _at("claimed_at", zone), "reachable",
    )  # fmt: skip
    rows = await ExportRepository(db).delegates()
    return Table(
        "delegates",
        header,
        [
            (*tuple(r)[:10], _local(r[10], zone), _local(r[11], zone), "yes" if r[12] else "no")
            for r in rows
        ],
    )


async def _items(db: Database, side: str) -> Table:
    header = (
        "id", "delegate_id", "external_id", "name", "organization", "text", "kind", "trl",
        "ip_status", "fields",
    )  # fmt: skip
    rows = await ExportRepository(db).items(side)
    return Table(side + "s", header, [tuple(r) for r in rows])


def _text(cell: Cell) -> str | None:
    return None if cell is None else str(cell)


async def _meetings(db: Database, zone: ZoneInfo) -> Table:
    header = (
        "id", "state", _at("start", zone), _at("end", zone), "table", "requester",
        "requester_organization", "invitee", "invitee_organization", _at("created_at", zone),
        "requester_answer", "invitee_answer", "outcome",
        # Months later (the follow-up): each side's latest answer and the meeting's result.
        "requester_result", "invitee_result", "result",
    )  # fmt: skip
    repo = ExportRepository(db)
    rows = await repo.meetings()
    results = await repo.latest_results()
    return Table(
        "meetings",
        header,
        [
            (
                r[0],
                r[1],
                _local(r[2], zone),
                _local(r[3], zone),
                *tuple(r)[4:9],
                _local(r[9], zone),
                r[10] or "",
                r[11] or "",
                _settled(r[10], r[11]),
                *_results(results.get((r[0], r[12])), results.get((r[0], r[13]))),
            )
            for r in rows
        ],
    )


def _settled(*answers: str | None) -> str:
    # held / no_show / late_cancel when the answers agree, "disputed" when they differ.
    outcome = settled_outcome([Outcome(a) for a in answers if a])
    return "" if outcome is None else str(outcome)


def _results(*answers: str | None) -> tuple[str, str, str]:
    # The meeting's result is the furthest either side reports (bot.domain.followup).
    result = meeting_result(Result(a) for a in answers if a)
    return answers[0] or "", answers[1] or "", "" if result is None else str(result)


async def _results_table(db: Database, zone: ZoneInfo) -> Table:
    header = (
        "meeting_id", _at("meeting_start", zone), "delegate_id", "name", "organization",
        "counterpart", "counterpart_organization", "after_days", "result",
        _at("answered_at", zone),
    )  # fmt: skip
    rows = await ExportRepository(db).results()
    return Table(
        "results",
        header,
        [
            (
                r[0],
                _local(r[1], zone),
                r[2],
                r[3],
                r[4],
                r[8],
                r[9],
                r[5],
                r[6],
                _local(r[7], zone),
            )
            for r in rows
        ],  # fmt: skip
    )


async def _schedule(db: Database, clock: Clock, schedule: Schedule) -> Table:
    repo = MeetingRepository(db, clock)
    # Published proposals hold their table too: they are listed, with status "proposed".
    meetings = await repo.scheduled()
    rows = schedule_rows(meetings, await repo.parties_of(meetings), schedule)
    return Table("schedule", SCHEDULE_HEADER, [astuple(row) for row in rows])


async def _exhibit_leads(db: Database, clock: Clock) -> Table:
    # Counts only: who the visitors are is for the exhibitors they opted in with.
    header = ("exhibit", "hall", "booth", "scans", "saves", "meeting_requests", "cards_left")
    rows: list[tuple[Cell, ...]] = [
        (c.key, c.hall or "", c.booth or "", c.counts.scans, c.counts.saves,
         c.counts.asks, c.counts.opted_in)
        for c in await LeadRepository(db, clock).counts()
    ]  # fmt: skip
    return Table("exhibit_leads", header, rows)


async def export_table(
    db: Database, clock: Clock, schedule: Schedule, zone: ZoneInfo, what: str
) -> Table:
    """Read one of the exportable tables."""
    if what == "delegates":
        return await _delegates(db, zone)
    if what in ("offers", "needs"):
        return await _items(db, what[:-1])
    if what == "meetings":
        return await _meetings(db, zone)
    if what == "schedule":
        return await _schedule(db, clock, schedule)
    if what == "exhibit_leads":
        return await _exhibit_leads(db, clock)
    if what == "results":
        return await _results_table(db, zone)
    raise ValueError(f"cannot export {what!r}")


def table_csv(table: Table) -> bytes:
    """The table as UTF-8 CSV with a byte-order mark."""
    text = spreadsheet.csv_text(table.header, table.rows, lineterminator="\r\n")
    return text.encode("utf-8-sig")


def table_xlsx(table: Table) -> bytes:
    """The table as an XLSX workbook with a bold, frozen header row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = table.name
    spreadsheet.append_row(sheet, table.header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for row in table.rows:
        spreadsheet.append_row(sheet, row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def render(table: Table, fmt: str) -> tuple[bytes, str]:
    """The file's bytes and name for a format."""
    if fmt == "csv":
        return table_csv(table), f"{table.name}.csv"
    if fmt == "xlsx":
        return table_xlsx(table), f"{table.name}.xlsx"
    raise ValueError(f"unknown format {fmt!r}")
