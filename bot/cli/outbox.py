"""The outbox command: `retry-dead`, owing dead letters again (also while the bot runs)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.cli.common import Commands, database_options, settings_of
from bot.cli.organizers import check_database
from bot.config import Settings
from bot.domain.outbox import DeadReason
from bot.services import open_services


async def retry_dead_letters(
    settings: Settings, reason: DeadReason | None
) -> dict[DeadReason, int]:
    """Owe the dead letters (of one reason, or all) again; return how many of each reason."""
    async with open_services(settings) as services:
        before = await services.outbox.dead_by_reason()
        retried = {r: n for r, n in before.items() if reason is None or r == reason}
        if retried:
            async with services.db.transaction():
                await services.outbox.retry_dead(reason=reason)
                await services.organizers.audit.record(
                    0, "retry_dead", str(reason or "all"), {str(r): n for r, n in retried.items()}
                )
        return retried


def _retry_dead(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    check_database(settings.database, must_exist=True)
    reason = DeadReason(args.reason) if args.reason else None
    retried = asyncio.run(retry_dead_letters(settings, reason))
    detail = ", ".join(f"{r} {n}" for r, n in retried.items())
    line = f"{sum(retried.values())} dead letter(s) owed again"
    line += f" ({detail})" if detail else ""
    sys.stdout.write(line + "; the running bot sends them within seconds\n")
    return 0


def add_commands(commands: Commands) -> None:
    """Add retry-dead to the `matchmaker` parser."""
    retry = commands.add_parser(
        "retry-dead",
        parents=[database_options()],
        help="owe the outbox's dead letters again (all, or one --reason)",
        description="Dead letters are messages the bot gave up on: refused by Telegram (400), "
        "expired while Telegram kept failing, or not writable. Each one retried gets an hour "
        "of fresh attempts; may run while the bot runs.",
    )
    retry.add_argument("--reason", choices=[str(r) for r in DeadReason])
    retry.set_defaults(handler=_retry_dead)
