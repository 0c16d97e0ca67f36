"""The event's figures: everything `/stats` and `matchmaker stats` show, read in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage.stats import EventStats, gather_stats

if TYPE_CHECKING:
    from bot.services import Services

__all__ = ["TOP_MATCHES", "EventStats", "event_figures"]

TOP_MATCHES = 10  # matches are counted among everyone's top ten


async def event_figures(services: Services) -> tuple[EventStats, tuple[int, int]]:
    """The figures and (pairs among everyone's top ten, delegates with at least one match)."""
    stats = await gather_stats(services.db, services.broadcasts.repo)
    return stats, await services.matching.match_counts(limit=TOP_MATCHES)
