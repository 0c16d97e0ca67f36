"""Nudges and outcome follow-up: who is owed a suggestion, an evening agenda or a question, and
the answers to "what came of the meeting?".

What was owed is the outbox row with its dedupe key (written once, kept): the queries below leave
out whoever already has one, so each tick after the first finds little to do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.domain.clock import Clock, from_iso, to_iso
from bot.domain.followup import Ended, Result, meeting_result
from bot.domain.meetings import Outcome
from storage.db import Database


@dataclass(frozen=True)
class Answer:
    """One side's answer to "what came of it?" at one stage."""

    meeting_id: int
    delegate_id: int
    after_days: int
    result: Result
    updated_at: dt.datetime


class NudgeRepository:
    """The queries behind nudges, the evening agenda and the outcome follow-up."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def nudge_candidates(self, day_start: dt.datetime, key_prefix: str) -> list[int]:
        """Registered, reachable delegates who want nudges, have no meeting booked from
        `day_start` on, and were not owed the message `key_prefix` + their id yet."""
        rows = await self._db.fetchall(
            "SELECT d.id FROM delegates AS d "
            "WHERE d.deleted_at IS NULL AND d.registered_at IS NOT NULL "
            "AND d.chat_id IS NOT NULL AND d.reachable = 1 AND d.nudges = 1 "
            # A booked meeting holds a busy slot of each of its people (the primary key: indexed).
            "AND NOT EXISTS (SELECT 1 FROM busy_slots AS b WHERE b.delegate_id = d.id "
            "  AND b.slot_start >= ? AND b.meeting_id IS NOT NULL) "
            "AND NOT EXISTS (SELECT 1 FROM outbox AS o WHERE o.dedupe_key = ? || d.id) "
            "ORDER BY d.id",
            (to_iso(day_start), key_prefix),
        )
        return [int(row[0]) for row in rows]

    async def open_counterparts(self, delegate_id: int) -> set[int]:
        """Everyone the delegate has a pending request or a booked meeting with."""
        rows = await self._db.fetchall(
            "SELECT CASE WHEN requester_id = ? THEN invitee_id ELSE requester_id END "
            "FROM meetings WHERE state IN ('requested', 'accepted') "
            "AND (requester_id = ? OR invitee_id = ?)",
            (delegate_id, delegate_id, delegate_id),
        )
        return {int(row[0]) for row in rows}

    async def agenda_due(self, low: dt.datetime, high: dt.datetime, key_prefix: str) -> list[int]:
        """Delegates with a booked meeting starting in [low, high) and a chat, not yet owed the
        message `key_prefix` + their id."""
        rows = await self._db.fetchall(
            "SELECT DISTINCT p.id FROM ("
            "  SELECT requester_id AS id FROM meetings WHERE state = 'accepted' "
            "  AND slot_start >= ? AND slot_start < ? "
            "  UNION SELECT invitee_id FROM meetings WHERE state = 'accepted' "
            "  AND slot_start >= ? AND slot_start < ?) AS p "
            "JOIN delegates AS d ON d.id = p.id "
            "WHERE d.deleted_at IS NULL AND d.chat_id IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM outbox AS o WHERE o.dedupe_key = ? || p.id) "
            "ORDER BY p.id",
            (to_iso(low), to_iso(high), to_iso(low), to_iso(high), key_prefix),
        )
        return [int(row[0]) for row in rows]

    # --- follow-up ------------------------------------------------------------------------------

    async def ended_between(self, low: dt.datetime, high: dt.datetime) -> list[Ended]:
        """Booked meetings that ended in (low, high], with the answers to "did it take place?"."""
        rows = await self._db.fetchall(
            "SELECT m.id, m.slot_end, m.requester_id, m.invitee_id, "
            "(SELECT group_concat(f.outcome, ' ') FROM meeting_feedback AS f "
            " WHERE f.meeting_id = m.id) "
            "FROM meetings AS m WHERE m.state = 'accepted' AND m.slot_end > ? AND m.slot_end <= ? "
            "ORDER BY m.slot_end, m.id",
            (to_iso(low), to_iso(high)),
        )
        return [
            Ended(
                int(row[0]),
                from_iso(row[1]),
                (int(row[2]), int(row[3])),
                tuple(Outcome(a) for a in str(row[4] or "").split()),
            )
            for row in rows
        ]

    async def owed(self, keys: list[str]) -> set[str]:
        """Which of these outbox dedupe keys were already used (one indexed lookup per 500)."""
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            rows = await self._db.fetchall(
                f"SELECT dedupe_key FROM outbox WHERE dedupe_key IN ({marks})", tuple(chunk)
            )
            found.update(str(row[0]) for row in rows)
        return found

    async def save_answer(
        self, meeting_id: int, delegate_id: int, after_days: int, result: Result
    ) -> None:
        """Record or change one side's answer at one stage."""
        now = to_iso(self._clock.now())
        await self._db.execute(
            "INSERT INTO meeting_results (meeting_id, delegate_id, after_days, result, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (meeting_id, delegate_id, after_days) "
            "DO UPDATE SET result = excluded.result, updated_at = excluded.updated_at",
            (meeting_id, delegate_id, after_days, str(result), now, now),
        )

    async def answer(self, meeting_id: int, delegate_id: int, after_days: int) -> Result | None:
        """One side's answer at one stage, if given."""
        value = await self._db.fetchval(
            "SELECT result FROM meeting_results "
            "WHERE meeting_id = ? AND delegate_id = ? AND after_days = ?",
            (meeting_id, delegate_id, after_days),
        )
        return Result(value) if value else None

    async def answers(self) -> list[Answer]:
        """Every answer, by meeting, side and stage."""
        rows = await self._db.fetchall(
            "SELECT meeting_id, delegate_id, after_days, result, updated_at FROM meeting_results "
            "ORDER BY meeting_id, delegate_id, after_days"
        )
        return [
            Answer(int(r[0]), int(r[1]), int(r[2]), Result(r[3]), from_iso(r[4])) for r in rows
        ]

    async def latest_answers(self) -> dict[int, dict[int, Result]]:
        """Each side's answer at its latest stage, by meeting and side."""
        latest: dict[int, dict[int, Result]] = {}
        for answer in await self.answers():  # ordered by stage: later ones overwrite
            latest.setdefault(answer.meeting_id, {})[answer.delegate_id] = answer.result
        return latest

    async def asked(self) -> int:
        """How many follow-up questions were owed so far (sent or on their way)."""
        value = await self._db.fetchval(
            "SELECT count(*) FROM outbox WHERE dedupe_key LIKE 'result:%'"
        )
        return int(value or 0)


async def follow_up_figures(db: Database) -> tuple[int, int, tuple[tuple[str, int], ...]]:
    """(meetings asked about, meetings answered, meetings per result), each meeting counted
    once with the furthest result either side reports at their latest stage."""
    asked = await db.fetchval(
        "SELECT count(DISTINCT substr(dedupe_key, 8, instr(substr(dedupe_key, 8), ':') - 1)) "
        "FROM outbox WHERE dedupe_key LIKE 'result:%'"
    )
    latest: dict[int, dict[int, Result]] = {}
    rows = await db.fetchall(
        "SELECT meeting_id, delegate_id, result FROM meeting_results "
        "ORDER BY meeting_id, delegate_id, after_days"
    )
    for row in rows:  # ordered by stage: a later answer overwrites an earlier one
        latest.setdefault(int(row[0]), {})[int(row[1])] = Result(row[2])
    counts: dict[Result, int] = {}
    for sides in latest.values():
        result = meeting_result(sides.values())
        if result is not None:
            counts[result] = counts.get(result, 0) + 1
    ordered = tuple((str(r), counts[r]) for r in Result if r in counts)
    return int(asked or 0), len(latest), ordered
