"""The venue board: per table, the meeting now and the next one, with no contact data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.domain.guests import GuestKind
from bot.domain.meetings import Meeting, MeetingState


@dataclass(frozen=True)
class BoardPerson:
    """What the hall may see of a delegate: name, organization, country. Never a contact."""

    name: str
    organization: str | None
    country: str | None


@dataclass(frozen=True)
class BoardGuest:
    """Someone a participant brings to the table: a colleague, or an interpreter."""

    person: BoardPerson
    interpreter: bool


@dataclass(frozen=True)
class BoardMeeting:
    """One booked meeting at a table."""

    start: dt.datetime
    end: dt.datetime
    people: tuple[BoardPerson, ...]
    guests: tuple[BoardGuest, ...] = ()


@dataclass(frozen=True)
class TableView:
    """One table's line on the board."""

    name: str
    now: BoardMeeting | None
    next: BoardMeeting | None


UNKNOWN = BoardPerson(name="", organization=None, country=None)


def _shown(
    meeting: Meeting, people: Mapping[int, BoardPerson], guests: Sequence[tuple[int, GuestKind]]
) -> BoardMeeting:
    return BoardMeeting(
        start=meeting.slot_start,
        end=meeting.slot_end,
        people=tuple(people.get(pid, UNKNOWN) for pid in meeting.participants),
        guests=tuple(
            BoardGuest(people[gid], kind is GuestKind.INTERPRETER)
            for gid, kind in guests
            if gid in people
        ),
    )


def board_view(
    tables: Sequence[str],
    meetings: Iterable[Meeting],
    people: Mapping[int, BoardPerson],
    now: dt.datetime,
    guests: Mapping[int, Sequence[tuple[int, GuestKind]]] | None = None,
) -> list[TableView]:
    """Every table in schedule order with its meeting now and its next one after that, each
    with its participants and then the guests they bring (`guests`: by meeting id, each
    guest's delegate id and kind, in seat order)."""
    at_table = guests or {}
    by_table: dict[str, list[Meeting]] = {name: [] for name in tables}
    for meeting in meetings:
        if meeting.state is not MeetingState.ACCEPTED or meeting.table not in by_table:
            continue
        if meeting.slot_end <= now:
            continue
        by_table[meeting.table].append(meeting)
    views = []
    for name in tables:
        ahead = sorted(by_table[name], key=lambda m: m.slot_start)
        current = next((m for m in ahead if m.slot_start <= now), None)
        later = [m for m in ahead if m.slot_start > now]
        views.append(
            TableView(
                name=name,
                now=_shown(current, people, at_table.get(current.id, ())) if current else None,
                next=_shown(later[0], people, at_table.get(later[0].id, ())) if later else None,
            )
        )
    return views
