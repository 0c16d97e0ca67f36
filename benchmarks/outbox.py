"""Outbox benchmark: a broadcast drains at Telegram's cap while delegates press buttons.

Phase 1: N items (default 5,000) to N recipients, rendered at send time in each recipient's
language, against the fake Bot API enforcing 30 messages per second (and 1 per second per
chat), while 5 simulated users press a button, wait for the answer, read it for a second and
press again. The bot runs as its own process (`python -m benchmarks.outbox child`, which builds
the real application with build_application plus a ping handler for the users).

Phase 2: the same N items without pacing; the bot is killed at the crash point
outbox.after_send halfway through, restarted, and the recipients' chats are audited.

Run from the repository root: `python -m benchmarks.outbox [--items N]`. Targets:
ratio_to_cap >= 0.93, missed == 0, reply_p99_ms <= 1500, duplicates <= sender concurrency.
sent_per_s counts every message Telegram accepted while the broadcast drained (the broadcast and
the answers to button presses): the cap is shared by both.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    await_crash,
    bot_environment,
    percentile_ms,
    run_until_sent,
    start_process,
    stop_process,
)

CAP = 30
TARGET_RATIO = 0.93
TARGET_P99_MS = 1500.0
RECIPIENT_BASE = 1_000_000
PRESSER_BASE = 500
LOCALES = ("en", "zh", "ru", "ko", "ar")
CRASH_POINT = "outbox.after_send"


# -- the bot process ---------------------------------------------------------------------------


def child_main() -> int:
    """Run the real bot with the benchmark's renderer and ping buttons (settings from env)."""
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
    from telegram.ext import ApplicationHandlerStop, CallbackQueryHandler, CommandHandler

    from bot.app import build_application
    from bot.config import load_settings
    from bot.domain.outbox import Rendered
    from bot.i18n import Translator
    from handlers.context import BotContext

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    settings = load_settings()
    app = build_application(settings)

    async def bulletin(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        return Rendered(f"Bulletin {params['n']} [{tr.locale}]")

    app.bot_data["services"].delivery.renderers.add("bench.bulletin", bulletin)

    def button(count: int) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton("Press", callback_data=f"b:{count}")]])

    async def ping(update: Update, context: BotContext) -> None:
        if update.effective_chat is not None:
            await context.bot.send_message(
                update.effective_chat.id, "pong 0", reply_markup=button(0)
            )
        raise ApplicationHandlerStop

    async def pressed(update: Update, context: BotContext) -> None:
        query = update.callback_query
        if query is None or query.data is None or update.effective_chat is None:
            raise ApplicationHandlerStop
        count = int(query.data.split(":")[1]) + 1
        await query.answer()
        await context.bot.send_message(
            update.effective_chat.id, f"pong {count}", reply_markup=button(count)
        )
        raise ApplicationHandlerStop

    # Group -1: before the catch-all handlers, which would call /ping an unknown command.
    app.add_handler(CommandHandler("ping", ping), group=-1)
    app.add_handler(CallbackQueryHandler(pressed, pattern=r"^b:\d+$"), group=-1)
    app.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


# -- the driver --------------------------------------------------------------------------------


@dataclass
class Stamped:
    """Messages the fake server accepted, with the time it accepted them."""

    times: list[float] = field(default_factory=list)
    chats: list[int] = field(default_factory=list)


async def prepare_database(path: Path, items: int) -> None:
    """Delegates with assorted languages, and one broadcast item owed to each."""
    from bot.domain.clock import SystemClock, to_iso
    from bot.domain.outbox import Outgoing, Priority, TemplateRef
    from storage.db import Database
    from storage.outbox import OutboxRepository

    clock = SystemClock()
    db = Database(path)
    await db.connect()
    try:
        await db.migrate()
        now = to_iso(clock.now())
        async with db.transaction():
            await db.executemany(
                "INSERT INTO delegates (id, telegram_user_id, chat_id, locale, step, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, 'done', ?, ?)",
                [
                    (n + 1, RECIPIENT_BASE + n, RECIPIENT_BASE + n, LOCALES[n % 5], now, now)
                    for n in range(items)
                ],
            )
            await OutboxRepository(db, clock).enqueue_many(
                Outgoing(
                    RECIPIENT_BASE + n,
                    TemplateRef("bench.bulletin", {"n": n}),
                    Priority.BROADCAST,
                    dedupe_key=f"bench:{n}",
                    delegate_id=n + 1,
                )
                for n in range(items)
            )
    finally:
        await db.close()


async def start_child(env: dict[str, str], log: Path) -> Any:
    return await start_process(["-m", "benchmarks.outbox", "child"], env, log)


def count_state(database: Path, state: str) -> int:
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as conn:
        row = conn.execute("SELECT count(*) FROM outbox WHERE state = ?", (state,)).fetchone()
    return int(row[0])


def stamp_arrivals(users: list[Any], stamped: Stamped) -> None:
    """Record when each message reaches the fake server (the moment it counts it)."""
    for user in users:
        record = user.record_event

        def stamped_record(message: Any, line: str, *, _record: Any = record) -> None:
            stamped.times.append(time.monotonic())
            stamped.chats.append(message.chat_id)
            _record(message, line)

        user.record_event = stamped_record


async def presser(user: Any, latencies: list[float], stop: asyncio.Event) -> None:
    """Press the button, wait for the answer, read it for a second, press again."""
    await user.send_text("/ping")
    await user.expect(r"^pong 0$", timeout=30)
    while not stop.is_set():
        # Reading takes a second; pressing sooner would meet Telegram's one message per second
        # per chat, which the bot must respect for the answer too.
        await asyncio.sleep(1.0)
        started = time.monotonic()
        await user.press("Press")
        await user.expect(r"^pong \d+$", timeout=30)
        latencies.append(time.monotonic() - started)


def received_bulletins(users: list[Any]) -> tuple[int, int]:
    """(missed, duplicates) over the recipients' chats."""
    missed = duplicates = 0
    for n, user in enumerate(users):
        got = Counter(m.text.split(" [")[0] for m in user.messages)
        copies = got.get(f"Bulletin {n}", 0)
        missed += copies == 0
        duplicates += max(0, copies - 1)
    return missed, duplicates


async def phase_throughput(items: int, pressers: int, workdir: Path) -> dict[str, Any]:
    from bot.sandbox.fake_api import FakeBotApi

    database, log = workdir / "phase1.db", workdir / "phase1.log"
    await prepare_database(database, items)
    async with FakeBotApi(enforce_rate_limits=True) as api:
        recipients = [api.user(RECIPIENT_BASE + n, f"Delegate {n}") for n in range(items)]
        users = [api.user(PRESSER_BASE + n, f"Presser {n}") for n in range(pressers)]
        stamped, latencies = Stamped(), list[float]()
        stamp_arrivals([*recipients, *users], stamped)
        stop_pressing = asyncio.Event()
        process = await start_child(bot_environment(api, database, rate_limit=True), log)
        try:
            # The pressers' first /ping waits in the fake's queue until the bot polls.
            pressing = [
                asyncio.create_task(presser(user, latencies, stop_pressing)) for user in users
            ]
            deadline = time.monotonic() + items / CAP * 1.5 + 60
            recipient_chats = {user.chat_id for user in recipients}
            while sum(1 for chat in stamped.chats if chat in recipient_chats) < items:
                if time.monotonic() > deadline or process.returncode is not None:
                    break
                await asyncio.sleep(0.25)
            stop_pressing.set()
            for outcome in await asyncio.gather(*pressing, return_exceptions=True):
                if isinstance(outcome, BaseException):
                    print(f"  a presser failed: {outcome!r}"[:2000])
        finally:
            await stop_process(process)
        throttled = sum(1 for call in api.calls if call.status == 429)
        rejected = list(api.rejected)
        missed, duplicates = received_bulletins(recipients)

    bulk = [
        t for t, chat in zip(stamped.times, stamped.chats, strict=True) if chat >= RECIPIENT_BASE
    ]
    first, last = (bulk[0], bulk[-1]) if bulk else (0.0, 0.0)
    in_window = sum(1 for t in stamped.times if first <= t <= last)
    duration = last - first
    sent_per_s = (in_window - 1) / duration if duration > 0 else 0.0
    replies_in_window = in_window - len(bulk)
    print(f"phase 1: {len(bulk)} of {items} broadcast items in {duration:.1f} s (to the end of "
          "the last second)")  # fmt: skip
    print(
        f"  accepted while draining: {in_window} ({len(bulk)} broadcast + {replies_in_window} "
        f"answers) = {sent_per_s:.2f}/s, {sent_per_s / CAP:.3f} of the cap of {CAP}/s"
    )
    print(f"  broadcast alone: {len(bulk) / duration:.2f}/s")
    # No answer at all is a miss: an unmeasured p99 counts as infinitely slow.
    p50, p99 = (percentile_ms(latencies, p) or math.inf for p in (50, 99))
    print(
        f"  button answers: {len(latencies)}, p50 {p50:.0f} ms, p99 {p99:.0f} ms, max "
        f"{max(latencies, default=math.inf) * 1000:.0f} ms"
    )
    print(f"  429 answers: {throttled}; protocol rejections: {len(rejected)}")
    print(f"  missed {missed}, duplicates {duplicates}; sent in the database: "
          f"{count_state(database, 'sent')}")  # fmt: skip
    return {
        "sent_per_s": sent_per_s,
        "missed": missed + len(rejected),
        "duplicates": duplicates,
        "reply_p99_ms": p99,
        "throttled": throttled,
    }


async def phase_crash(items: int, workdir: Path) -> dict[str, Any]:
    from bot.sandbox.fake_api import FakeBotApi

    database, log = workdir / "phase2.db", workdir / "phase2.log"
    await prepare_database(database, items)
    async with FakeBotApi() as api:
        recipients = [api.user(RECIPIENT_BASE + n, f"Delegate {n}") for n in range(items)]
        env = bot_environment(api, database, rate_limit=False)
        crash_at = f"{CRASH_POINT}:{max(1, items // 2)}"
        process = await start_child(env | {"MATCHMAKER_CRASH_AT": crash_at}, log)
        code = await await_crash(process, items / 20 + 120)
        in_flight = count_state(database, "sending")
        sent_before = count_state(database, "sent")
        print(f"phase 2: killed at {crash_at} (exit {code}); {sent_before} marked sent, "
              f"{in_flight} left in flight")  # fmt: skip
        process = await start_child(env, log)
        await run_until_sent(
            process, lambda: count_state(database, "sent"), items, items / 20 + 120
        )
        await api.settle(timeout=30)
        rejected = list(api.rejected)
        missed, duplicates = received_bulletins(recipients)
    print(f"  after the restart: missed {missed}, duplicates {duplicates} "
          f"(bound: {in_flight} in flight); protocol rejections: {len(rejected)}")  # fmt: skip
    return {
        "crashed": code == 137,
        "missed": missed + len(rejected),
        "duplicates": duplicates,
        "in_flight": in_flight,
    }


async def drive(items: int, pressers: int, skip_crash: bool) -> int:
    from bot.delivery.sender import DEFAULT_CONCURRENCY as concurrency

    with tempfile.TemporaryDirectory(prefix="outbox-bench-") as scratch:
        workdir = Path(scratch)
        first = await phase_throughput(items, pressers, workdir)
        second = (
            {"crashed": True, "missed": 0, "duplicates": 0, "in_flight": 0}
            if skip_crash
            else await phase_crash(items, workdir)
        )
    ratio = first["sent_per_s"] / CAP
    missed = first["missed"] + second["missed"]
    duplicates = first["duplicates"] + second["duplicates"]
    target_met = (
        ratio >= TARGET_RATIO
        and missed == 0
        and first["reply_p99_ms"] <= TARGET_P99_MS
        and second["crashed"]
        and second["duplicates"] <= min(concurrency, max(second["in_flight"], 0) or concurrency)
        and first["duplicates"] == 0
    )
    result = {
        "sent_per_s": round(first["sent_per_s"], 2),
        "ratio_to_cap": round(ratio, 3),
        "missed": missed,
        "duplicates": duplicates,
        "reply_p99_ms": round(first["reply_p99_ms"], 1),
        "target_met": target_met,
    }
    print(json.dumps(result))
    return 0 if target_met else 1


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the driver (or, as `child`, the bot)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.outbox", description=__doc__)
    parser.add_argument("mode", nargs="?", default="drive", choices=["drive", "child"])
    parser.add_argument("--items", type=int, default=5000, help="broadcast size (default 5000)")
    parser.add_argument("--users", type=int, default=5, help="users pressing buttons")
    parser.add_argument("--skip-crash", action="store_true", help="run phase 1 only")
    args = parser.parse_args(argv)
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    if args.mode == "child":
        return child_main()
    logging.basicConfig(level=logging.WARNING)
    return asyncio.run(drive(args.items, args.users, args.skip_crash))


if __name__ == "__main__":
    sys.exit(main())
