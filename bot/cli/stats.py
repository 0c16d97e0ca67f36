"""`matchmaker stats`: the event's figures as plain lines."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.cli.common import Commands, database_options, settings_of
from bot.config import Settings
from bot.services import open_services
from bot.services.stats import TOP_MATCHES as TOP
from bot.services.stats import EventStats, event_figures


def _ids(ids: tuple[int, ...]) -> str:
    return ", ".join(f"#{m}" for m in ids)


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
        f"{stats.meetings_no_show} no-shows, {len(stats.meetings_disputed)} answered differently"
        + (f" ({_ids(stats.meetings_disputed)})" if stats.meetings_disputed else ""),
        f"follow-up: {stats.followups_asked} meetings asked, {stats.followups_answered} "
        f"answered; results: {_pairs(list(stats.results))}",
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
    async with open_services(settings, load_matching=True) as services:
        return await event_figures(services)


def _stats(args: argparse.Namespace) -> int:
    from bot.cli.organizers import check_database

    settings = settings_of(args)
    check_database(settings.database, must_exist=True)
    stats, matches = asyncio.run(gather_from_file(settings))
    sys.stdout.write("\n".join(stats_lines(stats, matches)) + "\n")
    return 0


def add_commands(commands: Commands) -> None:
    """Add `stats`."""
    stats = commands.add_parser(
        "stats", parents=[database_options()], help="print the event's figures"
    )
    stats.set_defaults(handler=_stats)
