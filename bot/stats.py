"""The event's figures as plain lines for `matchmaker stats`."""

from __future__ import annotations

from bot.config import Settings
from bot.domain.clock import SystemClock
from bot.matching_service import MatchingService
from storage.broadcasts import BroadcastRepository
from storage.db import Database
from storage.stats import EventStats, gather_stats

TOP = 10


def _pairs(pairs: list[tuple[str, int]], limit: int = TOP) -> str:
    shown = ", ".join(f"{key} {n}" for key, n in pairs[:limit])
    more = len(pairs) - limit
    return (shown + (f", … {more} more" if more > 0 else "")) or "none"


def stats_lines(stats: EventStats, matches: tuple[int, int]) -> list[str]:
    """The figures, one topic a line, in English for the terminal."""
    d = stats.broadcast_delivery
    pairs, matched = matches
    return [
        f"delegates: {stats.registered} registered ({stats.from_chat} in chat), "
        f"{stats.drafts} registering, {stats.imported} imported, {stats.claimed} claimed, "
        f"{stats.unreachable} unreachable",
        f"by country: {_pairs(stats.by_country)}",
        f"by language: {_pairs(stats.by_language)}",
        f"by role: {_pairs(stats.by_role)}",
        f"offers: {stats.offers}; by field: {_pairs(stats.offers_by_field)}",
        f"needs: {stats.needs}; by field: {_pairs(stats.needs_by_field)}",
        f"matches: {pairs} pairs among everyone's top {TOP}; {matched} delegates have at least "
        f"one; interest shown: {stats.interests}",
        f"meetings: {stats.meeting_requests} requests, {stats.meetings_accepted} accepted, "
        f"{stats.meetings_pending} pending, {stats.meetings_held} held, "
        f"{stats.meetings_no_show} no-shows",
        f"broadcasts: {stats.broadcasts}; messages {d.sent} sent, {d.failed} failed, "
        f"{d.unreachable} unreachable, {d.cancelled} stopped, {d.left} left",
        f"dead letters: {stats.dead_letters}"
        + (
            f" ({_pairs(list(stats.dead_by_reason))}; matchmaker retry-dead)"
            if stats.dead_letters
            else ""
        ),
    ]


async def gather_from_file(settings: Settings) -> tuple[EventStats, tuple[int, int]]:
    """Open the database named in the settings and read the figures and the match counts."""
    db = Database(settings.database)
    await db.connect()
    try:
        await db.migrate()
        clock = SystemClock()
        matching = MatchingService(db, clock)
        await matching.load()
        stats = await gather_stats(db, BroadcastRepository(db, clock))
        return stats, await matching.match_counts(limit=TOP)
    finally:
        await db.close()
