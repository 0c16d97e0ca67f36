"""Booking benchmark: many concurrent requests and accepts, then an audit of the database.

1,000 delegates, two days of 20-minute slots, 5,000 booking attempts (a request for a random
slot between two random delegates, then the invitee's accept) from concurrent tasks spread over
several connections to one SQLite file, as several bot processes would be. The audit re-reads the
database: nobody and no table in two meetings at once, and every booking reported as confirmed
present.

Run from the repository root: `python -m benchmarks.booking [--attempts N]`. One JSON line with
bookings_per_s, conflicts, double_bookings, lost_confirmed, target_met; exit 1 unless
double_bookings and lost_confirmed are 0 (and the throughput target is met).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

TARGET_BOOKINGS_PER_S = 20.0


async def run(delegates: int, attempts: int, tasks: int, connections: int) -> dict[str, object]:
    """Book concurrently, then audit; return the result line."""
    import datetime as dt

    from bot.domain.clock import ManualClock
    from bot.domain.meetings import MeetingError
    from bot.domain.scheduling import parse_schedule
    from bot.services.meetings import MeetingService
    from storage.db import Database
    from storage.outbox import OutboxRepository

    schedule = parse_schedule(
        {
            "days": ["2026-11-24", "2026-11-25"],
            "sessions": ["09:00-12:00", "13:00-18:00"],
            "tables": 150,
        },
        zone=ZoneInfo("Asia/Shanghai"),
    )
    clock = ManualClock(dt.datetime(2026, 11, 23, 0, 0, tzinfo=dt.UTC))
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "booking.db"
        setup = Database(path)
        await setup.connect()
        await setup.migrate()
        now = "2026-11-01T00:00:00.000000+00:00"
        await setup.executemany(
            "INSERT INTO delegates (telegram_user_id, chat_id, locale, name, organization, "
            "meeting_languages, consent, step, created_at, updated_at, registered_at) "
            "VALUES (?, ?, 'en', ?, 'Org', 'en', 1, 'done', ?, ?, ?)",
            [(n, n, f"Delegate {n}", now, now, now) for n in range(1, delegates + 1)],
        )
        ids = [int(r[0]) for r in await setup.fetchall("SELECT id FROM delegates ORDER BY id")]

        pool = [Database(path) for _ in range(connections)]
        for db in pool:
            await db.connect()
        services = [
            MeetingService(db, clock, schedule, OutboxRepository(db, clock)) for db in pool
        ]
        slots = [slot.start for slot in schedule.slots]
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(attempts):
            queue.put_nowait(n)
        confirmed: list[int] = []
        conflicts = 0
        rng = random.Random(6)

        async def worker(k: int) -> None:
            nonlocal conflicts
            service = services[k % len(services)]
            while True:
                try:
                    queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                a, b = rng.sample(ids, 2)
                try:
                    request = await service.request(a, b, rng.choice(slots))
                    booked = await service.accept(request.id, b)
                except MeetingError:
                    conflicts += 1
                    continue
                confirmed.append(booked.meeting.id)

        started = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(tasks)))
        elapsed = time.perf_counter() - started
        for db in pool:
            await db.close()

        people = await setup.fetchval(
            "SELECT count(*) FROM (SELECT p, slot_start FROM ("
            " SELECT requester_id AS p, slot_start FROM meetings WHERE state = 'accepted'"
            " UNION ALL SELECT invitee_id, slot_start FROM meetings WHERE state = 'accepted')"
            " GROUP BY p, slot_start HAVING count(*) > 1)"
        )
        tables = await setup.fetchval(
            "SELECT count(*) FROM (SELECT 1 FROM meetings WHERE state = 'accepted' "
            "GROUP BY slot_start, table_name HAVING count(*) > 1)"
        )
        accepted = {
            int(r[0])
            for r in await setup.fetchall("SELECT id FROM meetings WHERE state = 'accepted'")
        }
        await setup.close()
    lost = len(set(confirmed) - accepted)
    rate = len(confirmed) / elapsed if elapsed else 0.0
    double = int(people or 0) + int(tables or 0)
    return {
        "bookings_per_s": round(rate, 1),
        "conflicts": conflicts,
        "double_bookings": double,
        "lost_confirmed": lost,
        "target_met": double == 0 and lost == 0 and rate >= TARGET_BOOKINGS_PER_S,
    }


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.booking", description=__doc__)
    parser.add_argument("--delegates", type=int, default=1000)
    parser.add_argument("--attempts", type=int, default=5000)
    parser.add_argument("--tasks", type=int, default=50, help="concurrent tasks")
    parser.add_argument("--connections", type=int, default=4, help="SQLite connections")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.delegates, args.attempts, args.tasks, args.connections))
    print(json.dumps(result))
    if result["double_bookings"] or result["lost_confirmed"]:
        return 1
    return 0 if result["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
