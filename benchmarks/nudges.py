"""Nudges benchmark: the cost of the new timed work on every due-work tick.

2,000 delegates in 20 technology fields (offers and needs, taxonomy matching), 1,500 meetings
booked on the first event day and 3,000 held 90 days before "now". The due-work job runs every
two seconds, so what matters is a tick: the first one of a nudge day owes everyone their
suggestions (and the follow-up questions), later ones must find almost nothing to do. Measured in
the same run against the baseline: the rest of the tick as it was before this feature (every
other `DUE_WORK` hook: matching sync, expiry, reminders, follow-up, programme) on the same
database.

Run from the repository root: `python -m benchmarks.nudges [--delegates N]`. One JSON line with
delegates, first_tick_s, nudges_owed, questions_owed, steady_tick_ms, baseline_tick_ms,
steady_ratio, duplicates, target_met; exit 1 when the new hooks' steady tick exceeds 50 ms (2.5 %
of the two-second interval) or 3x the baseline, the first tick exceeds 60 s, or anything was owed
twice.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

TARGET_STEADY_MS = 50.0
TARGET_RATIO = 3.0
TARGET_FIRST_S = 60.0
TICKS = 20


async def run(delegates: int) -> dict[str, object]:
    from bot.config import load_settings
    from bot.domain.clock import ManualClock
    from bot.domain.nudges import NudgePolicy
    from bot.domain.scheduling import parse_schedule
    from bot.services import build_services
    from locales.taxonomy import load_taxonomy

    zone = ZoneInfo("Asia/Shanghai")
    codes = [f.code for f in load_taxonomy().fields][:20]
    rng = random.Random(19)
    with tempfile.TemporaryDirectory() as scratch:
        settings = load_settings(
            {},
            require_token=False,
            overrides={"MATCHMAKER_DB": str(Path(scratch) / "nudges.db"),
                       "MATCHMAKER_ENCODER": "off", "MATCHMAKER_TIMEZONE": zone.key},
        )  # fmt: skip
        schedule = parse_schedule(
            {"days": ["2026-11-24", "2026-11-25"], "sessions": ["09:00-12:00", "13:00-18:00"],
             "tables": 200},
            zone=zone,
        )  # fmt: skip
        import dataclasses

        settings = dataclasses.replace(settings, schedule=schedule, nudges=NudgePolicy())
        # Now: the first event day, 11:00 in Shanghai (nudges due); the held meetings ended 90
        # days before (their first follow-up due).
        now = dt.datetime(2026, 11, 24, 11, 0, tzinfo=zone).astimezone(dt.UTC)
        clock = ManualClock(now - dt.timedelta(days=100))
        services = build_services(settings, clock)
        db = services.db
        await db.connect()
        try:
            return await _measure(services, delegates, codes, rng, now, clock, schedule)
        finally:
            await db.close()


async def _measure(
    services: Any,
    delegates: int,
    codes: list[str],
    rng: random.Random,
    now: dt.datetime,
    clock: Any,
    schedule: Any,
) -> dict[str, object]:
    from bot.domain.clock import to_iso
    from bot.services import DUE_WORK

    db = services.db
    if True:
        if True:
            await db.migrate()
        stamp = to_iso(clock.now())
        await db.executemany(
            "INSERT INTO delegates (id, telegram_user_id, chat_id, locale, name, organization, "
            "meeting_languages, consent, step, created_at, updated_at, registered_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'en', 1, 'done', ?, ?, ?)",
            [(n, n, n, rng.choice(["en", "zh", "ru", "ko", "ar"]), f"Delegate {n}", f"Org {n}",
              stamp, stamp, stamp) for n in range(1, delegates + 1)],
        )  # fmt: skip
        for n in range(1, delegates + 1):
            field = (rng.choice(codes),)
            side = "offer" if n % 2 else "need"
            await services.items.add(n, side, f"Technology {n}", kind="licence", fields=field)
        await services.matching.load()
        print(f"seeded {delegates} delegates and their items", flush=True)
        # Held meetings 90 days ago (slot ends), and booked meetings today among a quarter.
        slots = schedule.slots_on(dt.date(2026, 11, 24))
        rows = []
        for k in range(3000):
            a, b = rng.sample(range(1, delegates + 1), 2)
            end = now - dt.timedelta(days=90, minutes=rng.randint(0, 600))
            rows.append((a, b, to_iso(end - dt.timedelta(minutes=20)), to_iso(end),
                         f"H{k}", stamp))  # fmt: skip
        await db.executemany(
            "INSERT INTO meetings (requester_id, invitee_id, slot_start, slot_end, state, "
            "table_name, expires_at, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, 'accepted', ?, ?, ?, ?)",
            [(*r[:5], r[5], r[5], r[5]) for r in rows],
        )
        clock.set(now - dt.timedelta(hours=3))
        booked = 0
        for slot in slots[:8]:
            people = rng.sample(range(1, delegates // 4), min(180, delegates // 4 - 1) // 2 * 2)
            for a, b in zip(people[::2], people[1::2], strict=True):
                meeting = await services.meetings.request(a, b, slot.start)
                await services.meetings.accept(meeting.id, b)
                booked += 1
        print(f"booked {booked} meetings", flush=True)
        clock.set(now)
        hooks = [services.nudges.nudge_due, services.nudges.agenda_due, services.followup.ask_due]
        # The baseline: the tick as it was before this feature (every other DUE_WORK hook).
        mine = {"nudges.matches", "nudges.agenda", "followup.ask"}
        existing = [make(services) for name, make in DUE_WORK if name not in mine]

        began = time.perf_counter()
        owed = [await hook(now) for hook in hooks]
        first = time.perf_counter() - began

        steady: list[float] = []
        baseline: list[float] = []
        for tick in range(TICKS):
            moment = now + dt.timedelta(seconds=2 * (tick + 1))
            clock.set(moment)
            began = time.perf_counter()
            again = [await hook(moment) for hook in hooks]
            steady.append(time.perf_counter() - began)
            assert again == [0, 0, 0], again
            began = time.perf_counter()
            for hook in existing:
                await hook(moment)
            baseline.append(time.perf_counter() - began)
        duplicates = await db.fetchval(
            "SELECT count(*) - count(DISTINCT dedupe_key) FROM outbox WHERE dedupe_key IS NOT NULL"
        )
    steady_ms = statistics.median(steady) * 1000
    baseline_ms = statistics.median(baseline) * 1000
    ratio = steady_ms / baseline_ms if baseline_ms else None
    met = (
        steady_ms <= TARGET_STEADY_MS
        and (ratio is None or ratio <= TARGET_RATIO or steady_ms <= 5.0)
        and first <= TARGET_FIRST_S
        and duplicates == 0
    )
    print(f"{delegates} delegates, {booked} meetings booked today, 3000 held 90 days ago")
    print(f"first tick: {first:.2f} s, owed {owed[0]} nudges and {owed[2]} questions")
    print(f"steady tick: {steady_ms:.2f} ms ({TICKS} ticks); the rest {baseline_ms:.2f} ms")
    return {
        "delegates": delegates,
        "first_tick_s": round(first, 3),
        "nudges_owed": owed[0],
        "questions_owed": owed[2],
        "steady_tick_ms": round(steady_ms, 2),
        "baseline_tick_ms": round(baseline_ms, 2),
        "steady_ratio": round(ratio, 2) if ratio is not None else None,
        "duplicates": int(duplicates or 0),
        "target_met": met,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delegates", type=int, default=2000)
    args = parser.parse_args()
    result = asyncio.run(run(args.delegates))
    print(json.dumps(result))
    return 0 if result["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
