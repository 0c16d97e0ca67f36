"""Nudges as a service: the best three matches for a delegate without meetings, once a day, and
the final agenda with its .ics the evening before each event day.

Both are timed work of the due-work job (`DUE_WORK`): each tick finds who is due, and owes each
person one outbox item whose dedupe key names the person and the day, so a restart or a second
tick never sends anything twice. The messages are rendered in each recipient's language at send
time (handlers/nudges.py).
"""

from __future__ import annotations

import datetime as dt

from bot.domain.autoschedule import Priority as Wish
from bot.domain.clock import Clock
from bot.domain.meetings import Meeting, MeetingState
from bot.domain.nudges import NUDGE_COUNT, NudgePolicy, agenda_day, needs_nudge, nudge_day
from bot.domain.outbox import Priority, TemplateRef
from bot.domain.scheduling import Schedule
from bot.services.matching import MatchingService
from bot.services.meetings import MeetingService
from storage.db import Database
from storage.delegates import DelegateRepository
from storage.nudges import NudgeRepository
from storage.outbox import OutboxRepository
from storage.wishes import WishRepository

T_NUDGE = "nudge.matches"  # to a delegate without meetings: three matches, one tap each
T_AGENDA = "nudge.agenda"  # the evening before an event day: that day's meetings and the .ics
TEMPLATES = (T_NUDGE, T_AGENDA)


class NudgeService:
    """Suggestions to delegates without meetings, and the evening agenda."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        schedule: Schedule,
        policy: NudgePolicy,
        outbox: OutboxRepository,
        *,
        matching: MatchingService,
        meetings: MeetingService,
        delegates: DelegateRepository,
    ) -> None:
        self.db = db
        self.clock = clock
        self.schedule = schedule
        self.policy = policy
        self.outbox = outbox
        self.matching = matching
        self.meetings = meetings
        self.delegates = delegates
        self.repo = NudgeRepository(db, clock)
        self.wishes = WishRepository(db, clock)
        # Who had nobody to suggest on a day: not looked at again that day (in memory only; a
        # restart looks once more, which sends nothing twice).
        self._nobody: set[tuple[dt.date, int]] = set()

    async def suggestions(self, delegate_id: int, *, limit: int = NUDGE_COUNT) -> list[int]:
        """The delegate's best matches they have no request or meeting with and did not mark
        "not interested", best first."""
        taken = await self.repo.open_counterparts(delegate_id)
        refused = {
            other for other, wish in await self.wishes.for_delegate(delegate_id) if wish is Wish.NO
        }
        found = await self.matching.top(delegate_id, limit=limit + len(taken) + len(refused))
        ids = [int(m.key) for m in found]
        return [other for other in ids if other not in taken | refused][:limit]

    async def nudge_due(self, now: dt.datetime) -> int:
        """Owe today's suggestions to each delegate who has no meeting booked from today on."""
        due = nudge_day(self.schedule, self.policy, now)
        if due is None:
            return 0
        prefix = f"nudge:{due.day.isoformat()}:"
        owed = 0
        for person in await self.repo.nudge_candidates(due.starts, prefix):
            if (due.day, person) in self._nobody:
                continue
            ids = await self.suggestions(person)
            if not needs_nudge(wants_nudges=True, booked_from_today=0, suggestions=len(ids)):
                self._nobody.add((due.day, person))
                continue
            async with self.db.transaction():
                # Read in the same transaction as the enqueue: a /delete_me that committed
                # first leaves nobody to write to.
                delegate = await self.delegates.get(person)
                if delegate is None or delegate.chat_id is None or not delegate.nudges:
                    continue
                item = await self.outbox.enqueue(
                    delegate.chat_id,
                    TemplateRef(T_NUDGE, {"as": person, "day": due.day.isoformat(), "ids": ids}),
                    priority=Priority.NOTICE,
                    dedupe_key=prefix + str(person),
                    delegate_id=person,
                    expires_at=due.expires_at,
                )
            owed += 0 if item is None else 1
        return owed

    async def agenda_due(self, now: dt.datetime) -> int:
        """Owe the final agenda of the next event day to everyone with a meeting that day."""
        due = agenda_day(self.schedule, self.policy, now)
        if due is None:
            return 0
        prefix = f"agenda:{due.day.isoformat()}:"
        next_day = due.starts + dt.timedelta(days=1, hours=1)  # a day of 25 hours (DST) too
        owed = 0
        for person in await self.repo.agenda_due(due.starts, next_day, prefix):
            async with self.db.transaction():
                delegate = await self.delegates.get(person)
                if delegate is None or delegate.chat_id is None:
                    continue
                item = await self.outbox.enqueue(
                    delegate.chat_id,
                    TemplateRef(T_AGENDA, {"as": person, "day": due.day.isoformat()}),
                    priority=Priority.NOTICE,
                    dedupe_key=prefix + str(person),
                    delegate_id=person,
                    expires_at=due.expires_at,
                )
            owed += 0 if item is None else 1
        return owed

    async def day_meetings(self, delegate_id: int, day: dt.date) -> list[Meeting]:
        """The delegate's booked meetings on one local event day, by time (read at send time)."""
        return [
            m
            for m in await self.meetings.agenda(delegate_id)
            if m.state is MeetingState.ACCEPTED and self.schedule.local(m.slot_start).date() == day
        ]

    async def set_wanted(self, delegate_id: int, wanted: bool) -> None:
        """The /profile toggle: suggestions on or off."""
        await self.delegates.update(delegate_id, nudges=wanted)
