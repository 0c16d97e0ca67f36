"""The web face's use cases: the venue board and the Mini App's grids, Telegram-free.

The rules are those of the chat: the Mini App requests a meeting through MeetingService.request
(with its checks), shows a counterpart only when the chat would let the delegate book them, and
the board carries names, organizations and countries, never a contact.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from enum import StrEnum

from bot.domain import meetings as rules
from bot.domain.board import TableView, board_view
from bot.domain.clock import Clock
from bot.domain.meetings import InvalidCounterpart, Meeting, MeetingState
from bot.domain.scheduling import Schedule, Slot
from bot.services.matching import MatchingService
from bot.services.meetings import MeetingService, Party
from storage.db import Database
from storage.web import BoardLinkRepository, BoardRepository

SECRET_BYTES = 24
COUNTERPARTS = 10


class SlotState(StrEnum):
    """A slot of the delegate's own day grid."""

    PAST = "past"
    FREE = "free"
    FULL = "full"  # every table is taken
    BLOCKED = "blocked"
    REQUESTED = "requested"  # a request waits for an answer (either way)
    MEETING = "meeting"


@dataclass(frozen=True)
class GridSlot:
    """One slot of my day: its state and, for a meeting or request, with whom."""

    slot: Slot
    state: SlotState
    meeting: Meeting | None = None
    counterpart: Party | None = None


@dataclass(frozen=True)
class PairSlot:
    """One slot of two people's day side by side."""

    slot: Slot
    mine_free: bool
    theirs_free: bool
    bookable: bool  # both free, ahead, and a table left


class WebService:
    """What the board and the Mini App read and do."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        schedule: Schedule,
        meetings: MeetingService,
        matching: MatchingService,
    ) -> None:
        self.clock = clock
        self.schedule = schedule
        self.meetings = meetings
        self.matching = matching
        self.links = BoardLinkRepository(db, clock)
        self.people = BoardRepository(db)

    # --- the venue board -----------------------------------------------------------------------

    async def board_secret(self, *, new: bool = False) -> str:
        """The secret in the board's URL, made at first use; `new` revokes the old one."""
        secret = secrets.token_urlsafe(SECRET_BYTES)
        if new:
            await self.links.replace(secret)
            return secret
        return await self.links.add_if_none(secret)

    async def is_board_secret(self, secret: str) -> bool:
        """Whether a URL's secret opens the board (compared in constant time)."""
        live = await self.links.live()
        return live is not None and secrets.compare_digest(live.encode(), secret.encode())

    async def board(self, now: dt.datetime | None = None) -> list[TableView]:
        """Every table with its meeting now and its next one."""
        moment = now or self.clock.now()
        meetings = await self.meetings.repo.accepted_between(
            moment - self.schedule.slot_length, moment + dt.timedelta(days=2)
        )
        people = await self.people.people(p for m in meetings for p in m.participants)
        return board_view(self.schedule.tables, meetings, people, moment)

    # --- the Mini App -------------------------------------------------------------------------

    def days(self) -> list[dt.date]:
        """The event's days that have slots, in order."""
        return sorted({self.schedule.local(slot.start).date() for slot in self.schedule.slots})

    async def day_grid(self, delegate_id: int, day: dt.date) -> list[GridSlot]:
        """My day, slot by slot: meetings, requests, blocks, free and past slots."""
        now = self.clock.now()
        mine = await self.meetings.agenda(delegate_id)
        by_start: dict[dt.datetime, Meeting] = {}
        for meeting in mine:
            # A booked meeting wins over a request for the same slot.
            held = by_start.get(meeting.slot_start)
            if held is None or meeting.state is MeetingState.ACCEPTED:
                by_start[meeting.slot_start] = meeting
        # Blocks, and the time held as someone's colleague or interpreter at their meeting.
        blocked = await self.meetings.repo.busy([delegate_id])
        full = await self.meetings.repo.full_slots(len(self.schedule.tables))
        grid = []
        for slot in self.schedule.slots_on(day):
            found = by_start.get(slot.start)
            if found is not None:
                state = (
                    SlotState.MEETING
                    if found.state is MeetingState.ACCEPTED
                    else SlotState.REQUESTED
                )
                other = await self.meetings.party(found.other(delegate_id))
                grid.append(GridSlot(slot, state, found, other))
            elif slot.start <= now:
                grid.append(GridSlot(slot, SlotState.PAST))
            elif slot.start in blocked:
                grid.append(GridSlot(slot, SlotState.BLOCKED))
            elif slot.start in full:
                grid.append(GridSlot(slot, SlotState.FULL))
            else:
                grid.append(GridSlot(slot, SlotState.FREE))
        return grid

    async def counterpart(self, delegate_id: int, other_id: int) -> Party:
        """The delegate someone may book from the Mini App: registered, shown, not themselves.

        The rule of the chat's "Request a meeting" (MeetingService.request without a booking
        link); InvalidCounterpart otherwise.
        """
        rules.check_counterpart(delegate_id, other_id)
        other = await self.meetings.party(other_id)
        if other is None or not other.registered or not other.shown:
            raise InvalidCounterpart(f"delegate {other_id} cannot be booked from the web")
        return other

    async def side_by_side(
        self, delegate_id: int, other_id: int, day: dt.date
    ) -> tuple[Party, list[PairSlot]]:
        """The counterpart, and two people's day slot by slot: who is free, where a request can
        go (InvalidCounterpart when the chat would not let them book each other)."""
        other = await self.counterpart(delegate_id, other_id)
        now = self.clock.now()
        mine = await self.meetings.repo.busy([delegate_id])
        theirs = await self.meetings.repo.busy([other_id])
        full = await self.meetings.repo.full_slots(len(self.schedule.tables))
        rows = []
        for slot in self.schedule.slots_on(day):
            ahead = slot.start > now
            mine_free = ahead and slot.start not in mine
            theirs_free = ahead and slot.start not in theirs
            bookable = mine_free and theirs_free and slot.start not in full
            rows.append(PairSlot(slot, mine_free, theirs_free, bookable))
        return other, rows

    async def counterparts(self, delegate_id: int) -> list[Party]:
        """My best matches that I may book, best first."""
        found = []
        for match in await self.matching.top(delegate_id, limit=COUNTERPARTS):
            party = await self.meetings.party(int(match.key))
            if party is not None and party.registered and party.shown:
                found.append(party)
        return found

    async def request(
        self, delegate_id: int, other_id: int, slot_start: dt.datetime, *, reason: str | None
    ) -> Meeting:
        """Send a meeting request from the Mini App, with the chat's checks."""
        await self.counterpart(delegate_id, other_id)
        return await self.meetings.request(delegate_id, other_id, slot_start, reason=reason)
