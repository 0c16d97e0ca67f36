"""The web face's use cases: the venue board and the Mini App's grids, Telegram-free.

The rules are those of the chat: the Mini App requests a meeting through MeetingService.request
(with its checks), shows a counterpart only when the chat would let the delegate book them, and
the board carries names, organizations and countries, never a contact.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from bot.domain import meetings as rules
from bot.domain.board import TableView, board_view
from bot.domain.clock import Clock
from bot.domain.guests import GuestKind
from bot.domain.meetings import InvalidCounterpart, Meeting, MeetingState
from bot.domain.models import Delegate
from bot.domain.scheduling import Schedule, Slot
from bot.services.matching import MatchingService
from bot.services.meetings import MeetingService, Party
from storage.db import Database
from storage.delegates import DelegateRepository
from storage.meetings import MeetingRepository
from storage.talk import TalkRepository
from storage.web import BoardLinkRepository, BoardRepository

SECRET_BYTES = 24
COUNTERPARTS = 10
# What every Mini App call and board stream reads alike (the full slots, the live board secret,
# people's names) is read once per tick for all of them: kept at most this long, and never past
# a write through the bot's connection (a booking, a new board link). Another process's change
# shows within the tick; a request is checked against the database whatever the cache says.
TICK = 1.0
T = TypeVar("T")


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


class _Tick(Generic[T]):
    """One value read from the database, kept for a tick unless the bot's connection wrote."""

    def __init__(self, db: Database, read: Callable[[], Awaitable[T]]) -> None:
        self._db = db
        self._read = read
        self._key: tuple[int, float] | None = None
        self._value: T | None = None

    async def get(self) -> T:
        now = time.monotonic()
        if self._key is None or self._key[0] != self._db.writes or now - self._key[1] > TICK:
            writes = self._db.writes
            self._value = await self._read()
            self._key = (writes, now)
        return self._value  # type: ignore[return-value]


@dataclass(frozen=True)
class _Reads:
    """The repositories the web face reads through, over one connection."""

    meetings: MeetingRepository
    delegates: DelegateRepository
    links: BoardLinkRepository
    people: BoardRepository
    talk: TalkRepository

    @classmethod
    def over(cls, db: Database, clock: Clock) -> _Reads:
        return cls(
            MeetingRepository(db, clock),
            DelegateRepository(db, clock),
            BoardLinkRepository(db, clock),
            BoardRepository(db),
            TalkRepository(db, clock),
        )


class WebService:
    """What the board and the Mini App read and do.

    While the web server runs (`open_reader`), the board's and the Mini App's reads go through
    a read-only connection of their own, so 500 Mini App users do not queue the chat's
    statements (nor the chat theirs); writes (a request, a new board link) go through the
    services as always.
    """

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
        self._db = db
        self._reader = db.reader()
        self._main = _Reads.over(db, clock)
        self._reads = _Reads.over(self._reader, clock)
        self._secret = _Tick(db, lambda: self._read.links.live())
        self._full = _Tick(db, lambda: self._read.meetings.full_slots(len(schedule.tables)))
        self._parties: dict[int, Party | None] = {}
        self._parties_key: tuple[int, float] = (-1, 0.0)

    async def open_reader(self) -> None:
        """Read through a connection of the web face's own from now on."""
        if not self._reader.is_open:
            await self._reader.connect()

    async def close_reader(self) -> None:
        """Back to the main connection; the reader is closed."""
        await self._reader.close()

    @property
    def _read(self) -> _Reads:
        return self._reads if self._reader.is_open else self._main

    async def delegate(self, telegram_user_id: int) -> Delegate | None:
        """The delegate behind a Telegram account (for the Mini App's launch data)."""
        return await self._read.delegates.by_telegram_user(telegram_user_id)

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
        live = await self._secret.get()
        return live is not None and secrets.compare_digest(live.encode(), secret.encode())

    async def board(self, now: dt.datetime | None = None) -> list[TableView]:
        """Every table with its meeting now and its next one."""
        moment = now or self.clock.now()
        meetings = await self._read.meetings.accepted_between(
            moment - self.schedule.slot_length, moment + dt.timedelta(days=2)
        )
        guests: dict[int, list[tuple[int, GuestKind]]] = {}
        for guest in await self._read.talk.guests([m.id for m in meetings]):
            guests.setdefault(guest.meeting_id, []).append((guest.guest_id, guest.kind))
        people = await self._read.people.people(
            [*(p for m in meetings for p in m.participants),
             *(gid for seated in guests.values() for gid, _ in seated)]
        )  # fmt: skip
        return board_view(self.schedule.tables, meetings, people, moment, guests)

    # --- the Mini App -------------------------------------------------------------------------

    async def party(self, delegate_id: int) -> Party | None:
        """A delegate's name, organization and flags, read once per tick."""
        now = time.monotonic()
        if self._parties_key[0] != self._db.writes or now - self._parties_key[1] > TICK:
            self._parties = {}
            self._parties_key = (self._db.writes, now)
        if delegate_id not in self._parties:
            if len(self._parties) > 10_000:
                self._parties.clear()
            self._parties[delegate_id] = await self._read.meetings.party(delegate_id)
        return self._parties[delegate_id]

    def days(self) -> list[dt.date]:
        """The event's days that have slots, in order."""
        return sorted({self.schedule.local(slot.start).date() for slot in self.schedule.slots})

    async def day_grid(self, delegate_id: int, day: dt.date) -> list[GridSlot]:
        """My day, slot by slot: meetings, requests, blocks, free and past slots."""
        now = self.clock.now()
        mine = await self._read.meetings.for_delegate(delegate_id, rules.OPEN_STATES)
        by_start: dict[dt.datetime, Meeting] = {}
        for meeting in mine:
            # A booked meeting wins over a request for the same slot.
            held = by_start.get(meeting.slot_start)
            if held is None or meeting.state is MeetingState.ACCEPTED:
                by_start[meeting.slot_start] = meeting
        # Blocks, and the time held as someone's colleague or interpreter at their meeting.
        blocked = await self._read.meetings.busy([delegate_id])
        full = await self._full.get()
        grid = []
        for slot in self.schedule.slots_on(day):
            found = by_start.get(slot.start)
            if found is not None:
                state = (
                    SlotState.MEETING
                    if found.state is MeetingState.ACCEPTED
                    else SlotState.REQUESTED
                )
                other = await self.party(found.other(delegate_id))
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
        other = await self.party(other_id)
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
        busy = await self._read.meetings.busy_each([delegate_id, other_id])
        mine, theirs = busy[delegate_id], busy[other_id]
        full = await self._full.get()
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
            party = await self.party(int(match.key))
            if party is not None and party.registered and party.shown:
                found.append(party)
        return found

    async def request(
        self, delegate_id: int, other_id: int, slot_start: dt.datetime, *, reason: str | None
    ) -> Meeting:
        """Send a meeting request from the Mini App, with the chat's checks."""
        await self.counterpart(delegate_id, other_id)
        return await self.meetings.request(delegate_id, other_id, slot_start, reason=reason)
