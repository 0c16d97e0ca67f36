"""The event's figures for organizers, read in one place for /stats and `matchmaker stats`."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.meetings import DISPUTED, Outcome, settled_outcome
from storage.broadcasts import BroadcastRepository, Progress
from storage.db import Database
from storage.nudges import follow_up_figures


@dataclass(frozen=True)
class EventStats:
    """Everything /stats and `matchmaker stats` show."""

    registered: int
    drafts: int
    from_chat: int  # registered in chat
    imported: int
    claimed: int  # imported profiles bound to a Telegram account
    unreachable: int
    by_country: list[tuple[str, int]]
    by_language: list[tuple[str, int]]
    by_role: list[tuple[str, int]]
    offers_by_field: list[tuple[str, int]]
    needs_by_field: list[tuple[str, int]]
    offers: int
    needs: int
    interests: int  # pairs where one asked to meet the other (an "interested" mark or a request)
    meeting_requests: int
    meetings_accepted: int
    meetings_pending: int
    meetings_held: int
    meetings_no_show: int
    broadcasts: int
    broadcast_delivery: Progress
    dead_letters: int
    # Meetings whose two sides answered differently (held / no-show), by id, for the organizers.
    meetings_disputed: tuple[int, ...] = ()
    # Dead letters by reason (refused, expired, render), only reasons that have some.
    dead_by_reason: tuple[tuple[str, int], ...] = ()
    # Months later: meetings asked what came of them, those answered, and meetings per result
    # (licence, joint_rd, investment, supply, continuing, nothing; bot.domain.followup).
    followups_asked: int = 0
    followups_answered: int = 0
    results: tuple[tuple[str, int], ...] = ()


async def _grouped(db: Database, column: str) -> list[tuple[str, int]]:
    # column is one of our own names, never input.
    rows = await db.fetchall(
        f"SELECT coalesce({column}, '?'), count(*) FROM delegates "
        "WHERE deleted_at IS NULL AND registered_at IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1"
    )
    return [(str(row[0]), int(row[1])) for row in rows]


async def _fields(db: Database, side: str) -> tuple[int, list[tuple[str, int]]]:
    rows = await db.fetchall(
        "SELECT i.fields FROM items AS i JOIN delegates AS d ON d.id = i.delegate_id "
        "WHERE i.complete = 1 AND i.side = ? AND d.deleted_at IS NULL",
        (side,),
    )
    counts: dict[str, int] = {}
    for row in rows:
        for code in str(row[0]).split():
            counts[code] = counts.get(code, 0) + 1
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    return len(rows), ranked


async def gather_stats(db: Database, broadcasts: BroadcastRepository) -> EventStats:
    """Read every figure from the database."""
    people = await db.fetchone(
        "SELECT count(registered_at), count(*) - count(registered_at), "
        "count(CASE WHEN source = 'chat' AND registered_at IS NOT NULL THEN 1 END), "
        "count(CASE WHEN source = 'import' THEN 1 END), "
        "count(CASE WHEN source = 'import' AND claimed_at IS NOT NULL THEN 1 END), "
        "count(CASE WHEN reachable = 0 THEN 1 END) "
        "FROM delegates WHERE deleted_at IS NULL"
    )
    meetings = await db.fetchone(
        "SELECT count(*), "
        "count(CASE WHEN state = 'accepted' THEN 1 END), "
        "count(CASE WHEN state = 'requested' THEN 1 END) "
        "FROM meetings"
    )
    answers: dict[int, list[Outcome]] = {}
    for row in await db.fetchall("SELECT meeting_id, outcome FROM meeting_feedback ORDER BY 1"):
        answers.setdefault(int(row[0]), []).append(Outcome(row[1]))
    settled = {meeting: settled_outcome(given) for meeting, given in answers.items()}
    assert people is not None and meetings is not None
    offers, offers_by_field = await _fields(db, "offer")
    needs, needs_by_field = await _fields(db, "need")
    # Interest is a delegate asking to meet a match: the "interested" mark, or a meeting request
    # (the same button books one when a common free time exists); each pair counted once.
    interests = await db.fetchval(
        "SELECT count(*) FROM (SELECT delegate_id, other_id FROM match_marks "
        "WHERE mark = 'interested' UNION SELECT requester_id, invitee_id FROM meetings)"
    )
    sent = await db.fetchval("SELECT count(*) FROM broadcasts WHERE state <> 'draft'")
    dead = await db.fetchval("SELECT count(*) FROM outbox WHERE state = 'dead'")
    by_reason = await db.fetchall(
        "SELECT coalesce(dead_reason, 'expired'), count(*) FROM outbox WHERE state = 'dead' "
        "GROUP BY 1 ORDER BY 1"
    )
    asked, answered, results = await follow_up_figures(db)
    return EventStats(
        registered=int(people[0]),
        drafts=int(people[1]),
        from_chat=int(people[2]),
        imported=int(people[3]),
        claimed=int(people[4]),
        unreachable=int(people[5]),
        by_country=await _grouped(db, "country"),
        by_language=await _grouped(db, "locale"),
        by_role=await _grouped(db, "role"),
        offers_by_field=offers_by_field,
        needs_by_field=needs_by_field,
        offers=offers,
        needs=needs,
        interests=int(interests or 0),
        meeting_requests=int(meetings[0]),
        meetings_accepted=int(meetings[1]),
        meetings_pending=int(meetings[2]),
        meetings_held=sum(1 for value in settled.values() if value is Outcome.HELD),
        meetings_no_show=sum(1 for value in settled.values() if value is Outcome.NO_SHOW),
        meetings_disputed=tuple(sorted(m for m, value in settled.items() if value == DISPUTED)),
        broadcasts=int(sent or 0),
        broadcast_delivery=await broadcasts.delivery_totals(),
        dead_letters=int(dead or 0),
        dead_by_reason=tuple((str(row[0]), int(row[1])) for row in by_reason),
        followups_asked=asked,
        followups_answered=answered,
        results=results,
    )
