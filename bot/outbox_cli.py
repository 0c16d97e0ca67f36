"""The outbox subcommand of `matchmaker`: retry-dead, owing dead letters again."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bot.config import load_settings
from bot.domain.clock import SystemClock
from bot.domain.outbox import DeadReason


async def retry_dead_letters(database: Path, reason: DeadReason | None) -> dict[DeadReason, int]:
    """Owe the dead letters (of one reason, or all) again; return how many of each reason."""
    from bot.organizer_cli import open_database
    from storage.audit import AuditRepository
    from storage.outbox import OutboxRepository

    db = await open_database(database)
    try:
        clock = SystemClock()
        outbox = OutboxRepository(db, clock)
        before = await outbox.dead_by_reason()
        retried = {r: n for r, n in before.items() if reason is None or r == reason}
        if retried:
            async with db.transaction():
                await outbox.retry_dead(reason=reason)
                await AuditRepository(db, clock).record(
                    0, "retry_dead", str(reason or "all"), {str(r): n for r, n in retried.items()}
                )
        return retried
    finally:
        await db.close()


def _retry_dead(args: argparse.Namespace) -> int:
    from bot.organizer_cli import check_database

    overrides = {"MATCHMAKER_DB": str(args.db)} if args.db else {}
    settings = load_settings(config_file=args.config, require_token=False, overrides=overrides)
    check_database(settings.database, must_exist=True)
    reason = DeadReason(args.reason) if args.reason else None
    retried = asyncio.run(retry_dead_letters(settings.database, reason))
    total = sum(retried.values())
    detail = ", ".join(f"{r} {n}" for r, n in retried.items())
    line = f"{total} dead letter(s) owed again" + (f" ({detail})" if detail else "")
    sys.stdout.write(line + "; the running bot sends them within seconds\n")
    return 0


def add_commands(commands: Any) -> None:
    """Add the retry-dead subcommand to the `matchmaker` parser."""
    retry = commands.add_parser(
        "retry-dead",
        help="owe the outbox's dead letters again (all, or one --reason)",
        description="Dead letters are messages the bot gave up on: refused by Telegram (400), "
        "expired while Telegram kept failing, or not writable. Each one retried gets an hour "
        "of fresh attempts; may run while the bot runs.",
    )
    retry.add_argument("--db", type=Path, help="SQLite database file")
    retry.add_argument("--reason", choices=[str(r) for r in DeadReason])
    retry.set_defaults(handler=_retry_dead)
