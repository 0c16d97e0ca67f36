"""Outcome follow-up as a service: months after a held meeting, each side is asked what came of
it; the answers feed /stats and the exports.

Timed work of the due-work job: each question is one outbox item keyed by meeting, stage and
person (`result:<meeting>:<days>:<person>`), so it is asked once whatever restarts happen.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.domain.clock import Clock
from bot.domain.followup import ASK_WINDOW, FollowupPolicy, Result, questions_due
from bot.domain.meetings import Meeting, MeetingState, NotYourMeeting
from bot.domain.outbox import Priority, TemplateRef
from storage.db import Database
from storage.delegates import DelegateRepository
from storage.meetings import MeetingRepository
from storage.nudges import NudgeRepository
from storage.outbox import OutboxRepository

T_ASK = "followup.ask"  # to each side: what came of the meeting? six answers


@dataclass(frozen=True)
class Question:
    """A question a press answers: the meeting, who answers, the stage and the answer so far."""

    meeting: Meeting
    delegate_id: int
    after_days: int
    answer: Result | None


class FollowupService:
    """Asks what came of held meetings and keeps the answers."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        policy: FollowupPolicy,
        outbox: OutboxRepository,
        *,
        delegates: DelegateRepository,
    ) -> None:
        self.db = db
        self.clock = clock
        self.policy = policy
        self.outbox = outbox
        self.delegates = delegates
        self.repo = NudgeRepository(db, clock)
        self.meetings = MeetingRepository(db, clock)
        self._asked: set[str] = set()  # outbox keys known to be used

    async def ask_due(self, now: dt.datetime) -> int:
        """Owe each side of each held meeting the question of every stage that is due."""
        if not self.policy.after_days:
            return 0
        low = now - dt.timedelta(days=max(self.policy.after_days)) - ASK_WINDOW
        high = now - dt.timedelta(days=min(self.policy.after_days))
        ended = await self.repo.ended_between(low, high)
        due = {
            f"result:{meeting_id}:{days}:{person}": (meeting_id, person, days)
            for meeting_id, person, days in questions_due(ended, self.policy, now)
        }
        # Keys known to be owed are remembered (the outbox stays the truth: after a restart
        # they are looked up again, at once), so a tick that owes nothing new stays cheap.
        unknown = [key for key in due if key not in self._asked]
        self._asked.update(await self.repo.owed(unknown))
        owed = 0
        for key, (meeting_id, person, days) in due.items():
            if key in self._asked:
                continue
            async with self.db.transaction():
                delegate = await self.delegates.get(person)
                if delegate is None or delegate.chat_id is None:
                    continue
                item = await self.outbox.enqueue(
                    delegate.chat_id,
                    TemplateRef(T_ASK, {"meeting": meeting_id, "as": person, "days": days}),
                    priority=Priority.NOTICE,
                    dedupe_key=key,
                    delegate_id=person,
                    expires_at=now + ASK_WINDOW,
                )
            owed += 0 if item is None else 1
            self._asked.add(key)
        return owed

    async def question(self, meeting_id: int, delegate_id: int, after_days: int) -> Question:
        """The question a delegate may answer; NotYourMeeting when it is not theirs (a forged
        or stale press: unknown meeting, someone else's, a stage that is not configured)."""
        meeting = await self.meetings.get(meeting_id)
        if (
            meeting is None
            or not meeting.involves(delegate_id)
            or meeting.state is not MeetingState.ACCEPTED
            or after_days not in self.policy.after_days
            or meeting.slot_end + dt.timedelta(days=after_days) > self.clock.now()
        ):
            raise NotYourMeeting(f"no follow-up {after_days} for {delegate_id} on {meeting_id}")
        answer = await self.repo.answer(meeting_id, delegate_id, after_days)
        return Question(meeting, delegate_id, after_days, answer)

    async def answer(
        self, meeting_id: int, delegate_id: int, after_days: int, result: Result
    ) -> Question:
        """Record or change a side's answer."""
        async with self.db.transaction():
            asked = await self.question(meeting_id, delegate_id, after_days)
            await self.repo.save_answer(meeting_id, delegate_id, after_days, result)
        return Question(asked.meeting, delegate_id, after_days, result)
