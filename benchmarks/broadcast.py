"""Broadcast benchmark: an announcement in three languages to N delegates, made with /broadcast.

The bot runs as its own process (`python -m bot run`, the real application). An organizer drives
the /broadcast wizard over the fake Bot API exactly as in the chat: English text, then Russian and
Chinese versions, audience "Everyone", Send now. Delegates' languages cycle through en, ru, zh,
ko and ar; Korean and Arabic readers get the default (English) version.

Phase 1: the fake Bot API enforces 30 messages per second (and 1 per second per chat); the
announcement drains at the cap. Phase 2: without pacing, the bot is killed at the crash point
outbox.after_send halfway through, restarted, and every recipient's chat is audited.

Run from the repository root: `python -m benchmarks.broadcast [--recipients N]`. Prints one JSON
line with sent_per_s, ratio_to_cap, missed, wrong_language, duplicates_after_crash, target_met;
exits 1 unless ratio_to_cap >= 0.93, missed and wrong_language are 0 and the duplicates after the
crash stay within the sender's concurrency.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    await_crash,
    bot_environment,
    run_until_sent,
    start_process,
    stop_process,
)

CAP = 30
TARGET_RATIO = 0.93
RECIPIENT_BASE = 1_000_000
ORGANIZER = 900
LOCALES = ("en", "ru", "zh", "ko", "ar")
TEXTS = {
    "en": "Bulletin: the plenary starts at <b>14:00</b> in Hall 1",
    "ru": "Бюллетень: пленарное заседание начнётся в 14:00 в зале 1",
    "zh": "公告：全体会议于14:00在一号厅开始",
}
# Which version each reader's language gets (the event's default is English).
EXPECTED = {
    "en": "Bulletin:",
    "ru": "Бюллетень:",
    "zh": "公告：",
    "ko": "Bulletin:",
    "ar": "Bulletin:",
}
MARKERS = tuple(set(EXPECTED.values()))
CRASH_POINT = "outbox.after_send"


def locale_of(n: int) -> str:
    """The language of the n-th recipient."""
    return LOCALES[n % len(LOCALES)]


async def prepare_database(path: Path, recipients: int) -> None:
    """Registered delegates with assorted languages, each with a private chat."""
    from bot.domain.clock import SystemClock, to_iso
    from storage.db import Database

    db = Database(path)
    await db.connect()
    try:
        await db.migrate()
        now = to_iso(SystemClock().now())
        async with db.transaction():
            await db.executemany(
                "INSERT INTO delegates (id, telegram_user_id, chat_id, locale, name, country, "
                "role, step, consent, created_at, updated_at, registered_at) "
                "VALUES (?, ?, ?, ?, ?, 'CN', 'company', 'done', 1, ?, ?, ?)",
                [
                    (n + 1, RECIPIENT_BASE + n, RECIPIENT_BASE + n, locale_of(n), f"D{n}",
                     now, now, now)
                    for n in range(recipients)
                ],
            )  # fmt: skip
    finally:
        await db.close()


def broadcast_environment(api: Any, database: Path, *, rate_limit: bool) -> dict[str, str]:
    """The bot process's settings: the fake server, the database, organizer 900."""
    return bot_environment(
        api,
        database,
        rate_limit=rate_limit,
        MATCHMAKER_ORGANIZERS=str(ORGANIZER),
        MATCHMAKER_EVENT_NAME="Benchmark Days",
    )


async def start_bot(env: dict[str, str], log: Path) -> Any:
    """`python -m bot run` as a child process."""
    return await start_process(["-m", "bot", "run"], env, log)


async def send_announcement(api: Any, timeout: float = 60.0) -> None:  # noqa: ASYNC109
    """Drive /broadcast as the organizer: three versions, everyone, send."""
    organizer = api.user(ORGANIZER, "Organizer", language_code="en")
    await organizer.send_text("/broadcast")
    await organizer.expect("New announcement", timeout=timeout)
    text = TEXTS["en"].replace("<b>", "").replace("</b>", "")
    start = text.index("14:00")
    api.push_user_message(
        organizer,
        {"text": text, "entities": [{"type": "bold", "offset": start, "length": 5}]},
    )
    menu = await organizer.expect("Versions written", timeout=timeout)
    for locale, label in (("ru", "Русский"), ("zh", "中文")):
        await organizer.press("➕ " + label, menu)
        await organizer.expect("Send the announcement in", timeout=timeout)
        await organizer.send_text(TEXTS[locale])
        menu = await organizer.expect("Versions written", timeout=timeout)
    await organizer.press("Choose the audience", menu)
    audience = await organizer.expect("Who should receive", timeout=timeout)
    await organizer.press("Everyone", audience)
    confirm = await organizer.expect("Send the announcement to", timeout=timeout)
    await organizer.press("Send now", confirm)
    await organizer.expect("Announcement #", timeout=timeout)


def audit(users: Sequence[Any]) -> tuple[int, int, int]:
    """(missed, wrong_language, duplicates) over the recipients' chats."""
    missed = wrong = duplicates = 0
    for n, user in enumerate(users):
        copies = [m for m in user.messages if any(mark in m.text for mark in MARKERS)]
        missed += not copies
        duplicates += max(0, len(copies) - 1)
        wrong += sum(1 for m in copies if EXPECTED[locale_of(n)] not in m.text)
    return missed, wrong, duplicates


def count_state(database: Path, state: str) -> int:
    """Outbox items of the broadcast in a state."""
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM outbox WHERE state = ? AND dedupe_key LIKE 'bc:%'", (state,)
        ).fetchone()
    return int(row[0])


def stamp_arrivals(users: Sequence[Any], times: list[float]) -> None:
    """Record when each message reaches the fake server."""
    for user in users:
        record = user.record_event

        def stamped(message: Any, line: str, *, _record: Any = record) -> None:
            if not getattr(message, "edited", False):
                times.append(time.monotonic())
            _record(message, line)

        user.record_event = stamped


async def phase_throughput(recipients: int, workdir: Path) -> dict[str, Any]:
    """The announcement at Telegram's cap."""
    from bot.sandbox.fake_api import FakeBotApi

    database, log = workdir / "phase1.db", workdir / "phase1.log"
    await prepare_database(database, recipients)
    async with FakeBotApi(enforce_rate_limits=True) as api:
        users = [api.user(RECIPIENT_BASE + n, f"D{n}") for n in range(recipients)]
        times: list[float] = []
        stamp_arrivals(users, times)
        process = await start_bot(broadcast_environment(api, database, rate_limit=True), log)
        try:
            await send_announcement(api)
            deadline = time.monotonic() + recipients / CAP * 1.5 + 60
            while len(times) < recipients and time.monotonic() < deadline:
                if process.returncode is not None:
                    break
                await asyncio.sleep(0.25)
        finally:
            await stop_process(process)
        rejected = len(api.rejected)
        missed, wrong, duplicates = audit(users)
    duration = times[-1] - times[0] if len(times) > 1 else 0.0
    sent_per_s = (len(times) - 1) / duration if duration > 0 else 0.0
    print(f"phase 1: {len(times)} of {recipients} in {duration:.1f} s = {sent_per_s:.2f}/s "
          f"({sent_per_s / CAP:.3f} of the cap); missed {missed}, wrong language {wrong}, "
          f"duplicates {duplicates}, protocol rejections {rejected}")  # fmt: skip
    return {
        "sent_per_s": sent_per_s,
        "missed": missed + rejected,
        "wrong_language": wrong,
        "duplicates": duplicates,
    }


async def phase_crash(recipients: int, workdir: Path) -> dict[str, Any]:
    """Killed halfway at outbox.after_send, restarted: who got how many copies."""
    from bot.sandbox.fake_api import FakeBotApi

    database, log = workdir / "phase2.db", workdir / "phase2.log"
    await prepare_database(database, recipients)
    async with FakeBotApi() as api:
        users = [api.user(RECIPIENT_BASE + n, f"D{n}") for n in range(recipients)]
        env = broadcast_environment(api, database, rate_limit=False)
        crash_at = f"{CRASH_POINT}:{max(1, recipients // 2)}"
        process = await start_bot(env | {"MATCHMAKER_CRASH_AT": crash_at}, log)
        await send_announcement(api)
        code = await await_crash(process, recipients / 20 + 120)
        in_flight = count_state(database, "sending")
        print(f"phase 2: killed at {crash_at} (exit {code}); {count_state(database, 'sent')} "
              f"marked sent, {in_flight} in flight")  # fmt: skip
        process = await start_bot(env, log)
        await run_until_sent(
            process, lambda: count_state(database, "sent"), recipients, recipients / 20 + 120
        )
        await api.settle(timeout=30)
        rejected = len(api.rejected)
        missed, wrong, duplicates = audit(users)
    print(f"  after the restart: missed {missed}, wrong language {wrong}, duplicates "
          f"{duplicates} (in flight at the crash: {in_flight})")  # fmt: skip
    return {
        "crashed": code == 137,
        "missed": missed + rejected,
        "wrong_language": wrong,
        "duplicates": duplicates,
        "in_flight": in_flight,
    }


async def drive(recipients: int, skip_crash: bool) -> int:
    """Both phases; print the JSON line; 0 when every target is met."""
    from bot.delivery.sender import DEFAULT_CONCURRENCY as concurrency

    with tempfile.TemporaryDirectory(prefix="broadcast-bench-") as scratch:
        workdir = Path(scratch)
        first = await phase_throughput(recipients, workdir)
        second = (
            {"crashed": True, "missed": 0, "wrong_language": 0, "duplicates": 0, "in_flight": 0}
            if skip_crash
            else await phase_crash(recipients, workdir)
        )
    ratio = first["sent_per_s"] / CAP
    missed = first["missed"] + second["missed"]
    wrong = first["wrong_language"] + second["wrong_language"]
    target_met = (
        ratio >= TARGET_RATIO
        and missed == 0
        and wrong == 0
        and first["duplicates"] == 0
        and second["crashed"]
        and second["duplicates"] <= concurrency
    )
    result = {
        "sent_per_s": round(first["sent_per_s"], 2),
        "ratio_to_cap": round(ratio, 3),
        "missed": missed,
        "wrong_language": wrong,
        "duplicates_after_crash": second["duplicates"],
        "target_met": target_met,
    }
    print(json.dumps(result))
    return 0 if target_met else 1


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.broadcast", description=__doc__)
    parser.add_argument("--recipients", type=int, default=5000, help="audience size (5000)")
    parser.add_argument("--skip-crash", action="store_true", help="run phase 1 only")
    args = parser.parse_args(argv)
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    logging.basicConfig(level=logging.WARNING)
    return asyncio.run(drive(args.recipients, args.skip_crash))


if __name__ == "__main__":
    sys.exit(main())
