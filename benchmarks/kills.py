"""Kill -9 benchmark: `matchmaker run` killed with SIGKILL at three points, twice over.

Broadcast: 2,000 delegates in five languages; an organizer sends /broadcast to everyone; the
bot process (`python -m bot run`, pacing off) is killed with SIGKILL once a quarter, half and
three quarters of the copies are marked sent, restarted each time, and finally drains. Every
chat is audited: copies missed, in the wrong language, or received twice.

Booking burst: 200 pairs of delegates, each with a meeting request whose notice (with its
Accept button) the bot delivers; all 200 invitees press Accept at once. The bot is killed with
SIGKILL once a quarter, half and three quarters of the meetings are accepted, and restarted;
each time, invitees whose meeting is not booked yet press Accept again, as a person who saw no
answer would. Audit: every meeting booked once (no person or table twice in a slot), both
confirmations owed and delivered to each participant.

Only what was in flight at a kill (outbox items left 'sending', counted after each kill) may
arrive twice. Run from the repository root: `python -m benchmarks.kills [--recipients N]
[--pairs N]`. One JSON line of fixed keys; exit 1 unless nothing is missed or lost and the
duplicates stay within what was in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import broadcast as bench
from benchmarks.harness import bot_environment, start_process, stop_process

FRACTIONS = (0.25, 0.5, 0.75)
PAIR_BASE = 3_000_000
CONFIRMED = "Meeting confirmed"
ACCEPT = "✅ Accept"
WITHIN = 120.0  # seconds for any one stage: a stuck bot fails the benchmark, not the machine


def scalar(database: Path, sql: str, params: tuple[Any, ...] = ()) -> int:
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as conn:
        return int(conn.execute(sql, params).fetchone()[0] or 0)


def reached(count: Callable[[], int], goal: int) -> Callable[[], bool]:
    """A check that `count()` has reached `goal`."""
    return lambda: count() >= goal


async def until(check: Callable[[], bool], process: Any, what: str) -> None:
    """Poll another process's database until `check` holds (the bot must stay alive)."""
    deadline = time.monotonic() + WITHIN
    while not check():
        if process.returncode is not None:
            raise RuntimeError(f"the bot exited ({process.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting until {what}")
        await asyncio.sleep(0.01)


async def kill9(process: Any, database: Path) -> int:
    """SIGKILL the bot; return how many outbox items it left in flight."""
    process.kill()
    await process.wait()
    return scalar(database, "SELECT count(*) FROM outbox WHERE state = 'sending'")


# -- broadcast -------------------------------------------------------------------------------


async def broadcast_kills(
    recipients: int, folder: Path, fractions: tuple[float, ...] = FRACTIONS
) -> dict[str, float]:
    """Kill the bot at each fraction of a broadcast; audit every chat."""
    from bot.sandbox.fake_api import FakeBotApi

    database = folder / f"broadcast-{len(fractions)}.db"
    await bench.prepare_database(database, recipients)
    log = folder / "broadcast.log"
    started = time.perf_counter()

    def sent() -> int:
        return scalar(database, "SELECT count(*) FROM outbox WHERE state = 'sent'")

    async with FakeBotApi() as api:
        users = [api.user(bench.RECIPIENT_BASE + n, f"D{n}") for n in range(recipients)]
        env = bench.broadcast_environment(api, database, rate_limit=False)
        process = await bench.start_bot(env, log)
        in_flight = 0
        try:
            await bench.send_announcement(api, timeout=60)
            for fraction in fractions:
                goal = int(recipients * fraction)
                await until(reached(sent, goal), process, f"{goal} sent")
                in_flight += await kill9(process, database)
                process = await bench.start_bot(env, log)
            await until(
                lambda: (
                    scalar(database, "SELECT count(*) FROM broadcasts WHERE state = 'done'") == 1
                    and sent() >= recipients
                ),
                process,
                "the broadcast is done",
            )
            await stop_process(process)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        await api.settle()
        missed, wrong, duplicates = bench.audit(users)
        rejected = len(api.rejected)
    return {
        "missed": missed + wrong + rejected,
        "duplicates": duplicates,
        "in_flight": in_flight,
        "wall_s": time.perf_counter() - started,
    }


# -- booking burst ---------------------------------------------------------------------------


async def seed_requests(database: Path, env: dict[str, str], pairs: int) -> list[int]:
    """2 x `pairs` delegates and one meeting request per pair, through MeetingService."""
    from bot.config import load_settings
    from bot.domain.clock import SystemClock, to_iso
    from bot.services.meetings import MeetingService
    from storage.db import Database
    from storage.outbox import OutboxRepository

    settings = load_settings(env)
    clock = SystemClock()
    db = Database(database)
    await db.connect()
    try:
        await db.migrate()
        now = to_iso(clock.now())
        rows = [
            (PAIR_BASE + n, PAIR_BASE + n, f"P{n}", f"p{n}@example.com", now, now, now)
            for n in range(2 * pairs)
        ]
        async with db.transaction():
            await db.executemany(
                "INSERT INTO delegates (telegram_user_id, chat_id, locale, name, organization, "
                "country, role, meeting_languages, contact, contact_kind, consent, step, "
                "created_at, updated_at, registered_at) VALUES (?, ?, 'en', ?, 'Lab', 'CN', "
                "'company', 'en', ?, 'email', 1, 'done', ?, ?, ?)",
                rows,
            )
        ids = [int(r[0]) for r in await db.fetchall("SELECT id FROM delegates ORDER BY id")]
        meetings = MeetingService(db, clock, settings.schedule, OutboxRepository(db, clock))
        made = []
        for n in range(pairs):
            requester, invitee = ids[2 * n], ids[2 * n + 1]
            slot = (await meetings.free_slots_for([requester, invitee], limit=1))[0]
            made.append((await meetings.request(requester, invitee, slot.start)).id)
        return made
    finally:
        await db.close()


async def booking_kills(pairs: int, folder: Path) -> dict[str, float]:
    """Kill the bot three times during a burst of accepts; audit meetings and confirmations."""
    from bot.sandbox.fake_api import FakeBotApi

    database = folder / "booking.db"
    log = folder / "booking.log"
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    config = folder / "event.toml"
    config.write_text(
        f'[schedule]\ndays = ["{tomorrow.isoformat()}"]\nsessions = ["09:00-12:00"]\n'
        f'tables = "A1..A{pairs + 10}"\nroom = "Hall 3"\n',
        encoding="utf-8",
    )

    def accepted() -> int:
        return scalar(database, "SELECT count(*) FROM meetings WHERE state = 'accepted'")

    async with FakeBotApi() as api:
        env = bot_environment(
            api, database, rate_limit=False, MATCHMAKER_CONFIG=str(config),
            MATCHMAKER_TIMEZONE="UTC",
        )  # fmt: skip
        await seed_requests(database, env, pairs)
        invitees = [api.user(PAIR_BASE + 2 * n + 1, f"P{2 * n + 1}") for n in range(pairs)]
        requesters = [api.user(PAIR_BASE + 2 * n, f"P{2 * n}") for n in range(pairs)]
        process = await start_process(["-m", "bot", "run"], env, log)
        in_flight = 0
        try:
            await until(
                lambda: all(any(ACCEPT in m.button_texts() for m in u.messages) for u in invitees),
                process,
                "every request notice arrived",
            )
            presses = []
            for user in invitees:
                notice = next(m for m in user.messages if ACCEPT in m.button_texts())
                data = next(d for row in notice.buttons for label, d in row if label == ACCEPT)
                presses.append((user, notice, data or ""))

            async def press_open() -> None:
                open_ids = {
                    int(row[0])
                    for row in _rows(database, "SELECT invitee_id FROM meetings WHERE state = "
                                     "'requested'")
                }  # fmt: skip
                for n, (user, notice, data) in enumerate(presses):
                    if _delegate_id(database, user.user_id) in open_ids:
                        await user.press_data(data, notice)
                        if n % 20 == 0:
                            await asyncio.sleep(0)

            await press_open()
            for fraction in FRACTIONS:
                goal = int(pairs * fraction)
                await until(reached(accepted, goal), process, f"{goal} accepted")
                in_flight += await kill9(process, database)
                process = await start_process(["-m", "bot", "run"], env, log)
                await asyncio.sleep(1.0)  # the restarted bot is polling again
                await press_open()
            await until(
                lambda: accepted() == pairs
                and scalar(database, "SELECT count(*) FROM outbox WHERE dedupe_key LIKE "
                           "'meeting:%:confirmed:%' AND state = 'sent'") == 2 * pairs,
                process,
                "every confirmation is sent",
            )  # fmt: skip
            await stop_process(process)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        await api.settle()
        counts = [
            sum(1 for m in user.messages if CONFIRMED in m.text)
            for user in (*invitees, *requesters)
        ]
        rejected = len(api.rejected)
    double = scalar(
        database,
        "SELECT count(*) FROM (SELECT p, slot_start FROM ("
        " SELECT requester_id AS p, slot_start FROM meetings WHERE state = 'accepted'"
        " UNION ALL SELECT invitee_id, slot_start FROM meetings WHERE state = 'accepted')"
        " GROUP BY p, slot_start HAVING count(*) > 1)",
    ) + scalar(
        database,
        "SELECT count(*) FROM (SELECT 1 FROM meetings WHERE state = 'accepted' "
        "GROUP BY slot_start, table_name HAVING count(*) > 1)",
    )
    return {
        "lost": pairs - accepted() + double + rejected,
        "unconfirmed": counts.count(0),
        "duplicates": sum(n - 1 for n in counts if n > 1),
        "in_flight": in_flight,
    }


def _rows(database: Path, sql: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as conn:
        return [tuple(row) for row in conn.execute(sql)]


def _delegate_id(database: Path, telegram_user_id: int) -> int:
    return scalar(
        database, f"SELECT id FROM delegates WHERE telegram_user_id = {telegram_user_id}"
    )


async def run(recipients: int, pairs: int) -> dict[str, object]:
    """Both scenarios; return the result line."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        baseline = await broadcast_kills(recipients, folder, fractions=())
        cast = await broadcast_kills(recipients, folder)
        booking = await booking_kills(pairs, folder)
    met = (
        baseline["missed"] == 0
        and baseline["duplicates"] == 0
        and cast["missed"] == 0
        and cast["duplicates"] <= cast["in_flight"]
        and booking["lost"] == 0
        and booking["unconfirmed"] == 0
        and booking["duplicates"] <= booking["in_flight"]
    )
    return {
        "kills": 2 * len(FRACTIONS),
        "recipients": recipients,
        "broadcast_missed": cast["missed"],
        "broadcast_duplicates": cast["duplicates"],
        "broadcast_in_flight_at_kills": cast["in_flight"],
        "pairs": pairs,
        "meetings_lost": booking["lost"],
        "participants_unconfirmed": booking["unconfirmed"],
        "confirmation_duplicates": booking["duplicates"],
        "booking_in_flight_at_kills": booking["in_flight"],
        "broadcast_baseline_s": round(baseline["wall_s"], 1),
        "broadcast_with_kills_s": round(cast["wall_s"], 1),
        "kills_time_ratio": round(cast["wall_s"] / max(0.001, baseline["wall_s"]), 2),
        "target_met": met,
    }


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.kills", description=__doc__)
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--pairs", type=int, default=200)
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.recipients, args.pairs))
    print(json.dumps(result))
    return 0 if result["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
