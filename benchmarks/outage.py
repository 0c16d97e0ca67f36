"""Outage benchmark: Telegram answers 5xx for 60 s, then for 10 minutes, during a broadcast.

The real application (build_application) runs in this process against the fake Bot API, on a
simulated clock: every step moves it 2 s (the due-work job's interval), runs what is due and
waits for the sender, so ten minutes of outage take seconds, not ten minutes. Retry delays,
expiries and the outage gate all read that clock; the fake Bot API's fault injector
(`FakeBotApi.outage`) answers every call but getUpdates with 502 while the outage lasts.

Each scenario: 2,000 delegates in five languages, an organizer sends /broadcast to everyone;
once a quarter of the copies are out, Telegram starts failing, and 100 meeting reminders fall
due (their meetings start 5 minutes after the outage ends). A baseline run without an outage
comes first, in the same run.

Run from the repository root: `python -m benchmarks.outage [--recipients N]`. One JSON line of
fixed keys; exit 1 unless, for both outages, nothing is lost (every copy, every reminder before
its meeting, the organizer's final report), there is no dead letter and no duplicate, the
outbox has drained within 30 s of Telegram coming back, and the calls that failed during the
outage stay within one probe per 2 s tick (no retry storm).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import broadcast as bench

EVENT_START = dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC)
STEP = dt.timedelta(seconds=2)
OUTAGES = (60, 600)
REMINDERS = 100
REMINDER_BASE = 2_000_000
TARGET_RECOVERY_S = 30.0
GIVE_UP_AFTER = dt.timedelta(minutes=15)  # after the outage: the scenario failed


@dataclass(frozen=True)
class Result:
    """What one scenario measured."""

    lost: int
    duplicates: int
    dead: int
    late_reminders: int
    drained_s: float  # simulated seconds from Telegram coming back to the last message sent
    failed_calls: int
    calls: int
    wall_s: float


def sent_copies(api: Any) -> int:
    return sum(1 for c in api.calls if c.method == "sendMessage" and c.ok)


def outbox_rows(database: Path, sql: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as conn:
        return [tuple(row) for row in conn.execute(sql)]


async def scenario(recipients: int, outage_s: int) -> Result:
    """One broadcast with reminders, Telegram failing for `outage_s` simulated seconds."""
    from bot.app import build_application
    from bot.config import load_settings
    from bot.domain.clock import ManualClock, from_iso
    from bot.domain.outbox import Priority, Rendered
    from bot.sandbox.fake_api import FakeBotApi

    clock = ManualClock(EVENT_START)
    with tempfile.TemporaryDirectory() as scratch:
        database = Path(scratch) / "outage.db"
        await bench.prepare_database(database, recipients)
        async with FakeBotApi() as api:
            users = [api.user(bench.RECIPIENT_BASE + n, f"D{n}") for n in range(recipients)]
            readers = [api.user(REMINDER_BASE + n, f"R{n}") for n in range(REMINDERS)]
            organizer = api.user(bench.ORGANIZER, "Organizer", language_code="en")
            settings = load_settings(
                {},
                overrides={
                    "MATCHMAKER_TOKEN": api.token,
                    "MATCHMAKER_API_BASE_URL": api.base_url,
                    "MATCHMAKER_DB": str(database),
                    "MATCHMAKER_RATE_LIMIT": "off",
                    "MATCHMAKER_ORGANIZERS": str(bench.ORGANIZER),
                    "MATCHMAKER_EVENT_NAME": "Benchmark Days",
                },
            )
            app = build_application(settings, clock=clock)
            await app.initialize()
            assert app.post_init is not None and app.updater is not None
            await app.post_init(app)
            await app.start()
            await app.updater.start_polling(poll_interval=0.0, timeout=1)
            services = app.bot_data["services"]
            started = time.perf_counter()
            try:
                await services.delivery.sender.stop()
                await bench.send_announcement(api)
                await services.delivery.start(app.bot)
                # The fake API's call log has no event to wait on: poll it.
                while sent_copies(api) < recipients // 4:  # noqa: ASYNC110
                    await asyncio.sleep(0.002)
                if outage_s:
                    api.outage = 502
                outage_began = clock.now()
                back_at = outage_began + dt.timedelta(seconds=outage_s)
                meeting = back_at + dt.timedelta(minutes=5)
                async with services.db.transaction():
                    for n, reader in enumerate(readers):
                        await services.outbox.enqueue(
                            reader.chat_id,
                            Rendered(f"Reminder {n}: your meeting starts at {meeting:%H:%M}"),
                            priority=Priority.REMINDER,
                            dedupe_key=f"bench:remind:{n}",
                            expires_at=meeting,
                        )
                while True:
                    if api.outage is not None and clock.now() >= back_at:
                        api.outage = None
                    clock.advance(STEP)
                    await services.delivery.dispatcher.run_due(clock.now())
                    await services.delivery.sender.wait_idle(timeout=60)
                    counts = await services.outbox.counts()
                    owed = counts["pending"] + counts["sending"]
                    if (
                        api.outage is None
                        and owed == 0
                        and not await services.broadcasts.repo.sending()
                    ):
                        break
                    if clock.now() > back_at + GIVE_UP_AFTER:
                        break
            finally:
                wall = time.perf_counter() - started
                await app.updater.stop()
                await app.stop()
                if app.post_stop is not None:
                    await app.post_stop(app)
                await app.shutdown()
                if app.post_shutdown is not None:
                    await app.post_shutdown(app)
            await api.settle()
            missed, wrong, duplicates = bench.audit(users)
            got = [len([m for m in r.messages if "Reminder" in m.text]) for r in readers]
            reports = [m for m in organizer.messages if "Finished" in m.text]
            late = outbox_rows(
                database,
                "SELECT count(*) FROM outbox WHERE dedupe_key LIKE 'bench:remind:%' "
                "AND (sent_at IS NULL OR sent_at >= expires_at)",
            )[0][0]
            dead = outbox_rows(database, "SELECT count(*) FROM outbox WHERE state = 'dead'")[0][0]
            last_sent = outbox_rows(database, "SELECT max(sent_at) FROM outbox")[0][0]
            drained = (from_iso(last_sent) - back_at).total_seconds() if last_sent else -1.0
            sends = [c for c in api.calls if c.method == "sendMessage"]
            return Result(
                lost=missed + wrong + got.count(0) + (0 if reports else 1),
                duplicates=duplicates + sum(n - 1 for n in got if n > 1),
                dead=int(dead),
                late_reminders=int(late),
                drained_s=max(0.0, drained),
                failed_calls=sum(1 for c in sends if c.status >= 500),
                calls=len(sends),
                wall_s=wall,
            )


async def run(recipients: int) -> dict[str, object]:
    """The baseline, then each outage; return the result line."""
    baseline = await scenario(recipients, 0)
    line: dict[str, object] = {
        "recipients": recipients,
        "reminders": REMINDERS,
        "baseline_lost": baseline.lost,
        "baseline_calls": baseline.calls,
        "baseline_wall_s": round(baseline.wall_s, 2),
    }
    met = baseline.lost == 0 and baseline.dead == 0
    for outage_s in OUTAGES:
        result = await scenario(recipients, outage_s)
        # One probe per tick at most while Telegram fails, plus the sends that were in flight.
        storm_limit = outage_s // int(STEP.total_seconds()) + 2 * 8
        key = f"outage_{outage_s}s"
        line.update(
            {
                f"{key}_lost": result.lost,
                f"{key}_dead": result.dead,
                f"{key}_duplicates": result.duplicates,
                f"{key}_late_reminders": result.late_reminders,
                f"{key}_drained_after_s": round(result.drained_s, 1),
                f"{key}_failed_calls": result.failed_calls,
                f"{key}_calls_ratio": round(result.calls / max(1, baseline.calls), 3),
                f"{key}_wall_ratio": round(result.wall_s / max(0.001, baseline.wall_s), 2),
            }
        )
        met = met and (
            result.lost == 0
            and result.dead == 0
            and result.duplicates == 0
            and result.late_reminders == 0
            and result.drained_s <= TARGET_RECOVERY_S
            and result.failed_calls <= storm_limit
        )
    line["target_met"] = met
    return line


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.outage", description=__doc__)
    parser.add_argument("--recipients", type=int, default=2000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    result = asyncio.run(run(args.recipients))
    print(json.dumps(result))
    return 0 if result["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
