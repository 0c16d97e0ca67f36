"""Load benchmark: the matchmaker bot against a minimal python-telegram-bot echo bot.

Phase A (comparable): N users (default 500) each send /start and, once it is answered, one plain
text message, all users at once, through the fake Bot API over HTTP on 127.0.0.1, rate limiting
off. The same harness then drives a minimal PTB echo bot the same way. For both it reports
updates per second (2N updates over the time from the first update to the last answer), the
p50/p95/p99 latency from an update becoming available (pushed to the fake server, where a long
poll picks it up) to the bot's first answer to that chat, and errors (answers missing after
30 s, requests the fake server refused, ERROR lines in the bot's log). Then both run paced: new
users arrive at 25 per second, each sending /start and then text, about 50 updates per second,
and the p99 latency of that run is reported.

Phase B (realistic): the same N users register (name, organization, country, role, meeting
languages, contact, consent), add an offer and a need (in English, Russian or Chinese, so matches
cross languages), open /matches and request a meeting from the first card, while an announcement
to 5,000 other delegates, sent with the /broadcast wizard just before, drains. Rate limiting is on
in the bot and the fake Bot API enforces Telegram's 30 messages per second. Users think like
people: they arrive over one think time and wait 0.5-1.5 think times (default 20 s) between
actions, so 500 users offer about 25 updates per second, within the 30/s every reply has to fit
in. It reports the p99 of the time from a user's action to the answer that user waits for, and
errors (answers missing after 30 s, refused requests other than Telegram's 429s, ERROR lines).

Each bot runs as its own process (`python -m bot run`, `python -m benchmarks.load echo`).
Run from the repository root: `python -m benchmarks.load [--users N] [--paced-users M]
[--think-s S]` (about 10 minutes with the defaults). Targets: ratio_to_echo >= 0.5,
p99_ms_at_50_per_s <= 100, phase_b_reply_p99_ms <= 1500, errors == 0. Prints one JSON line;
exits 1 on a miss.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import load_phase_b
from benchmarks.harness import percentile_ms, start_process

TARGET_RATIO = 0.5
TARGET_PACED_P99_MS = 100.0
TARGET_PHASE_B_P99_MS = 1500.0
ANSWER_TIMEOUT = 30.0
PACED_USERS_PER_S = 25.0  # each sends two updates: about 50 updates per second
ANSWERING_METHODS = ("sendMessage", "editMessageText", "sendPhoto", "sendDocument")


# -- the echo bot process ----------------------------------------------------------------------


def echo_main() -> int:
    """A minimal python-telegram-bot echo bot (token and base URL from the environment)."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None and message.text is not None:
            await context.bot.send_message(message.chat_id, message.text)

    app = (
        ApplicationBuilder()
        .token(os.environ["MATCHMAKER_TOKEN"])
        .base_url(os.environ["MATCHMAKER_API_BASE_URL"])
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


# -- the harness -------------------------------------------------------------------------------


@dataclass
class Run:
    """What one bot did under one load."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    updates: int = 0
    seconds: float = 0.0
    # CPU seconds spent during the run by the harness (fake Bot API, users) and by the bot.
    harness_cpu_s: float = 0.0
    bot_cpu_s: float = 0.0

    def percentile(self, p: float) -> float | None:
        return percentile_ms(self.latencies, p)

    def summary(self) -> dict[str, Any]:
        return {
            "updates": self.updates,
            "updates_per_s": round(self.updates / self.seconds, 1) if self.seconds else None,
            "p50_ms": _round(self.percentile(50)),
            "p95_ms": _round(self.percentile(95)),
            "p99_ms": _round(self.percentile(99)),
            "errors": self.errors,
            "harness_cpu_s": round(self.harness_cpu_s, 2),
            "bot_cpu_s": round(self.bot_cpu_s, 2),
        }


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time of this process, or of process `pid` (Linux /proc; 0 where unavailable)."""
    if pid is None:
        return time.process_time()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def timed_load(load: Awaitable[Run], pid: int) -> Run:
    """Run a load and record the CPU both sides spent on it."""
    harness, bot = cpu_seconds(), cpu_seconds(pid)
    run = await load
    run.harness_cpu_s, run.bot_cpu_s = cpu_seconds() - harness, cpu_seconds(pid) - bot
    return run


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


class Answers:
    """Times the first answer the bot sends to a chat after the harness asked for it."""

    def __init__(self, api: Any) -> None:
        self._waiting: dict[int, asyncio.Future[float]] = {}
        for method in ANSWERING_METHODS:
            original = api._handlers[method]
            api._handlers[method] = self._timed(original)

    def _timed(self, original: Callable[[Any], Awaitable[Any]]) -> Callable[[Any], Awaitable[Any]]:
        async def handler(validated: Any) -> Any:
            result = await original(validated)
            with contextlib.suppress(KeyError, TypeError, ValueError):
                future = self._waiting.pop(int(validated.params["chat_id"]))
                if not future.done():
                    future.set_result(time.perf_counter())
            return result

        return handler

    def expect(self, chat_id: int) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting[chat_id] = future
        return future


async def converse(api: Any, answers: Answers, user_id: int, run: Run) -> float:
    """One user: /start, wait for the answer, a plain text, wait; return the last answer time."""
    user = api.user(user_id, f"Delegate {user_id}", language_code="en")
    last = time.perf_counter()
    for text in ("/start", "Hello, I am looking for partners in water treatment"):
        answered = answers.expect(user.chat_id)
        pushed = time.perf_counter()
        await user.send_text(text)
        run.updates += 1
        try:
            last = await asyncio.wait_for(answered, ANSWER_TIMEOUT)
        except TimeoutError:
            run.errors += 1
            return time.perf_counter()
        run.latencies.append(last - pushed)
    return last


async def burst(api: Any, answers: Answers, first_id: int, users: int) -> Run:
    run = Run()
    started = time.perf_counter()
    ends = await asyncio.gather(*(converse(api, answers, first_id + n, run) for n in range(users)))
    run.seconds = max(ends) - started
    return run


async def paced(api: Any, answers: Answers, first_id: int, users: int) -> Run:
    run = Run()
    started = time.perf_counter()
    tasks = []
    for n in range(users):
        delay = started + n / PACED_USERS_PER_S - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(converse(api, answers, first_id + n, run)))
    ends = await asyncio.gather(*tasks)
    run.seconds = max(ends) - started
    return run


async def drive(
    kind: str, users: int, paced_users: int, workdir: Path, profile: Path | None = None
) -> tuple[Run, Run]:
    """Start one bot against a fresh fake Bot API, run the burst and the paced load."""
    from bot.sandbox.fake_api import FakeBotApi

    async with FakeBotApi() as api:
        answers = Answers(api)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHMAKER_")}
        env.update(
            MATCHMAKER_TOKEN=api.token,
            MATCHMAKER_API_BASE_URL=api.base_url,
            MATCHMAKER_DB=str(workdir / f"{kind}.db"),
            MATCHMAKER_RATE_LIMIT="off",
            MATCHMAKER_LOG_LEVEL="WARNING",
            PTB_TIMEDELTA="1",
        )
        args = ["-m", "bot", "run"] if kind == "bot" else ["-m", "benchmarks.load", "echo"]
        if profile is not None:
            args = ["-m", "cProfile", "-o", str(profile / f"{kind}.prof"), *args]
        log = workdir / f"{kind}.log"
        process = await start_process(args, env, log)
        try:
            deadline = time.perf_counter() + 30
            while not any(call.method == "getUpdates" for call in api.calls):
                if process.returncode is not None or time.perf_counter() > deadline:
                    raise RuntimeError(f"{kind} did not start:\n{log.read_text()}")
                await asyncio.sleep(0.05)
            loaded = await timed_load(burst(api, answers, 10_000, users), process.pid)
            await api.settle(timeout=60)
            steady = await timed_load(paced(api, answers, 100_000, paced_users), process.pid)
            await api.settle(timeout=60)
        finally:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()
        logged = log.read_text(encoding="utf-8", errors="replace")
        failures = len(api.rejected) + logged.count(" ERROR ") + logged.count("Traceback")
        failures += sum(1 for call in api.calls if not call.ok and call.status != 499)
        loaded.errors += failures
        return loaded, steady


async def measure(
    users: int,
    paced_users: int,
    phase_b_users: int,
    think_s: float,
    profile: Path | None = None,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="matchmaker-load-") as tmp:
        workdir = Path(tmp)
        bot_burst, bot_paced = await drive("bot", users, paced_users, workdir, profile)
        echo_burst, echo_paced = await drive("echo", users, paced_users, workdir, profile)
        print(f"phase A: {_rates(bot_burst, echo_burst)}; phase B: {phase_b_users} users, "
              f"think time {think_s:g} s", file=sys.stderr)  # fmt: skip
        realistic = await load_phase_b.measure(phase_b_users, think_s, workdir)
    bot_rate = bot_burst.summary()["updates_per_s"] or 0.0
    echo_rate = echo_burst.summary()["updates_per_s"] or 0.0
    ratio = round(bot_rate / echo_rate, 3) if echo_rate else 0.0
    paced_p99 = _round(bot_paced.percentile(99))
    errors = bot_burst.errors + bot_paced.errors + echo_burst.errors + echo_paced.errors
    errors += realistic.errors
    phase_b_p99 = realistic.p99_ms()
    target_met = (
        ratio >= TARGET_RATIO
        and paced_p99 is not None
        and paced_p99 <= TARGET_PACED_P99_MS
        and phase_b_p99 is not None
        and phase_b_p99 <= TARGET_PHASE_B_P99_MS
        and errors == 0
    )
    return {
        "ratio_to_echo": ratio,
        "p99_ms_at_50_per_s": paced_p99,
        "phase_b_reply_p99_ms": phase_b_p99,
        "errors": errors,
        "target_met": target_met,
        "users": users,
        "bot": bot_burst.summary(),
        "echo": echo_burst.summary(),
        "bot_paced": bot_paced.summary(),
        "echo_paced": echo_paced.summary(),
        "phase_b": realistic.summary(),
    }


def _rates(bot: Run, echo: Run) -> str:
    return f"bot {bot.summary()['updates_per_s']}/s, echo {echo.summary()['updates_per_s']}/s"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with `echo`, be the echo bot)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__)
    parser.add_argument("mode", nargs="?", choices=("echo",), help=argparse.SUPPRESS)
    parser.add_argument("--users", type=int, default=500, help="users in the burst (500)")
    parser.add_argument(
        "--paced-users", type=int, default=125, help="users in the paced run, 25 per second"
    )
    parser.add_argument("--phase-b-users", type=int, help="users in phase B (default: --users)")
    parser.add_argument(
        "--think-s", type=float, default=20.0, help="phase B's mean think time (20 s)"
    )
    parser.add_argument(
        "--profile", type=Path, metavar="DIR", help="write cProfile data of both bots here"
    )
    args = parser.parse_args(argv)
    if args.mode == "echo":
        return echo_main()
    phase_b_users = args.users if args.phase_b_users is None else args.phase_b_users
    result = asyncio.run(
        measure(args.users, args.paced_users, phase_b_users, args.think_s, args.profile)
    )
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
