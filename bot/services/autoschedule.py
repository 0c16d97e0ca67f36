"""The auto-scheduler as a service: read the instance from the database, plan, and publish.

Telegram-free. The plan comes from bot/services/schedule_solver.py (CP-SAT, warm-started from the
domain's greedy plan); publishing writes each planned meeting as a proposal through
MeetingService.publish_proposal, which reserves the table and both people's slot and owes the
pair their messages through the outbox.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.domain import autoschedule as rules
from bot.domain.autoschedule import Candidate, Instance, Person, Planned, Summary
from bot.domain.clock import Clock
from bot.domain.meetings import InvalidCounterpart, MeetingState, SlotTaken, shared_languages
from bot.domain.scheduling import Schedule, slot_key, slot_start_from_key
from bot.services.meetings import MeetingService
from storage.db import Database
from storage.wishes import WishRepository as WishRepository

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """A run of the scheduler: its instance, candidates, chosen meetings and figures."""

    instance: Instance
    pool: tuple[Candidate, ...]
    meetings: tuple[Planned, ...]
    summary: Summary
    objective: float
    bound: float
    gap: float
    seconds: float
    greedy_summary: Summary
    greedy_objective: float

    def as_json(self) -> dict[str, float | int]:
        """The JSON summary `auto-schedule --format json` prints."""
        return {
            "wishes_must": self.summary.wishes_must,
            "must_scheduled": self.summary.must_scheduled,
            "wishes_maybe": self.summary.wishes_maybe,
            "maybe_scheduled": self.summary.maybe_scheduled,
            "meetings": self.summary.meetings,
            "delegates_with_none": self.summary.delegates_with_none,
            "objective": self.objective,
            "bound": self.bound,
            "gap": round(self.gap, 6),
            "seconds": round(self.seconds, 3),
        }


class AutoScheduler:
    """Builds and publishes the organizer's schedule from everybody's wishes."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        schedule: Schedule,
        meetings: MeetingService,
        *,
        interpreters: Mapping[str, int] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.schedule = schedule
        self.meetings = meetings
        self.wishes = WishRepository(db, clock)
        self.interpreters = dict(interpreters or {})

    async def instance(
        self, *, day: dt.date | None = None, max_per_delegate: int | None = None
    ) -> tuple[Instance, set[frozenset[int]], set[int]]:
        """The scheduling problem as the database has it now.

        Also returns the pairs that already meet and the delegates who already have a meeting
        (both count in the summary).
        """
        now = self.clock.now()
        slots = [
            s
            for s in self.schedule.slots
            if s.start > now and (day is None or self.schedule.local(s.start).date() == day)
        ]
        keys = tuple(slot_key(s.start) for s in slots)
        window = set(keys)
        wishes = await self.wishes.between_live()
        people_ids = sorted({w.delegate for w in wishes} | {w.counterpart for w in wishes})
        repo = self.meetings.repo
        busy: dict[int, set[int]] = {}
        for person, start in await repo.busy_rows():
            key = slot_key(start)
            if key in window:
                busy.setdefault(person, set()).add(key)
        held = await repo.tables_held()
        tables = len(self.schedule.tables)
        tables_free = {k: max(0, tables - held.get(slot_start_from_key(k), 0)) for k in keys}
        meeting_already: set[frozenset[int]] = set()
        booked: dict[int, int] = {}
        interpreters_used: dict[tuple[int, str], int] = {}
        parties = {p: await repo.party(p) for p in people_ids}
        for meeting in await repo.scheduled():
            meeting_already.add(frozenset(meeting.participants))
            key = slot_key(meeting.slot_start)
            if key not in window:
                continue
            for person in meeting.participants:
                booked[person] = booked.get(person, 0) + 1
            a, b = parties.get(meeting.requester_id), parties.get(meeting.invitee_id)
            if a is not None and b is not None:
                langs = set(a.meeting_languages) | set(b.meeting_languages)
                if not shared_languages(a.meeting_languages, b.meeting_languages):
                    used = sorted(lang for lang in langs if self.interpreters.get(lang))
                    if used:
                        slot_lang = (key, used[0])
                        interpreters_used[slot_lang] = interpreters_used.get(slot_lang, 0) + 1
        excluded = set(meeting_already)
        for person in people_ids:
            # A pending request of the pair is already on its way: no second one.
            for meeting in await repo.for_delegate(person, [MeetingState.REQUESTED]):
                excluded.add(frozenset(meeting.participants))
        excluded |= {frozenset(pair) for pair in await repo.declined_proposals()}
        people: dict[int, Person] = {}
        for pid, party in parties.items():
            if party is None:
                continue
            people[pid] = Person(
                id=pid,
                organization=party.organization,
                languages=frozenset(party.meeting_languages),
                busy=frozenset(busy.get(pid, ())),
                booked=booked.get(pid, 0),
            )
        instance = Instance(
            people=people,
            slots=keys,
            tables_free=tables_free,
            wishes=tuple(wishes),
            max_per_delegate=max_per_delegate if max_per_delegate is not None else len(keys),
            interpreters=self.interpreters,
            interpreters_used=interpreters_used,
            excluded=frozenset(excluded),
        )
        return instance, meeting_already, {p for p, n in booked.items() if n}

    async def plan(
        self,
        *,
        day: dt.date | None = None,
        max_per_delegate: int | None = None,
        seconds: float = 30.0,
    ) -> Plan:
        """Choose the meetings: CP-SAT within `seconds`, warm-started from the greedy plan."""
        from bot.services.schedule_solver import solve

        instance, already, booked_people = await self.instance(
            day=day, max_per_delegate=max_per_delegate
        )
        pool = tuple(rules.candidates(instance))
        solution = solve(instance, pool, seconds=seconds)
        warm = rules.greedy(instance, pool)

        def summary(plan: Sequence[Planned]) -> Summary:
            return rules.summarize(
                instance.wishes, plan, meeting_already=already, booked_people=booked_people
            )

        return Plan(
            instance=instance,
            pool=pool,
            meetings=solution.plan,
            summary=summary(solution.plan),
            objective=solution.objective,
            bound=solution.bound,
            gap=solution.gap,
            seconds=solution.seconds,
            greedy_summary=summary(warm),
            greedy_objective=solution.greedy_objective,
        )

    async def publish(self, plan: Plan, meetings: Sequence[Planned] | None = None) -> int:
        """Write the planned meetings as proposals; return how many were published.

        Each proposal is its own transaction: one that somebody booked over since the plan was
        made is skipped, and the rest still go out.
        """
        by_pair = {(c.a, c.b): c for c in plan.pool}
        published = 0
        for planned in meetings if meetings is not None else plan.meetings:
            cand = by_pair[(planned.a, planned.b)]
            try:
                made = await self.meetings.publish_proposal(
                    cand.requester, cand.invitee, slot_start_from_key(planned.slot), reason=None
                )
            except (SlotTaken, InvalidCounterpart):
                made = None
            if made is None:
                log.info("proposal %s-%s no longer fits its slot", planned.a, planned.b)
            else:
                published += 1
        return published
