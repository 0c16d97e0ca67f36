"""Web benchmark: 200 board screens and 500 Mini App users while the bot serves chat updates.

The bot runs as its own process (`python -m bot run`, its web server on a free port) against the
fake Bot API, rate limiting off, on a database seeded with registered delegates. Chat users
(default 100) each send /help, wait for the answer, think, and again: about 20 updates a
second, all the run long. The run alternates windows (default 5 s) of two kinds, as many of
each as make `--seconds`:

A (baseline): chat only. The screens stay connected but nothing is booked; no Mini App call.
B (web load): the same chat load, plus 200 screens streaming the venue board (Server-Sent
   Events), plus 500 Mini App users, each calling the API (their day grid, or two people's
   slots side by side) about every 5 s (uniform think time, each user in their own rhythm),
   all with signed launch data, plus a booking a second as delegates make one: a request from
   the Mini App, accepted in the chat.

Interleaving gives the baseline and the loaded figures the same machine: on a machine shared
with other programs, their load drifts over minutes, and two phases one after the other
measured that drift as much as the web load. The screens and the Mini App users run in two
processes of their own, so that they do not slow down the fake Bot API that times the chat,
and so that a Mini App call's time is the server's, not that of a client loop busy reading 200
streams. For each booking and each screen, the time from the Accept press to the screen's
first board event naming the booker is a board update latency (wall clock, across processes).

Targets: board update p99 <= 2 s, Mini App API p99 <= 100 ms, chat p99 in B <= 1.2 x chat p99
in A, no errors (chat answers missing after 30 s, Mini App calls that failed, streams that
broke, bookings refused, requests the fake server rejected, ERROR lines in the bot's log).
The JSON line also gives the bot's CPU share in A and B and the machine's load average.
Run from the repository root: `python -m benchmarks.web [--seconds S] [--window W]
[--screens N] [--miniapp-users N] [--chat-users N]`. Prints one JSON line; exits 1 on a miss.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import re
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    ROOT,
    bot_environment,
    percentile_ms,
    start_process,
    stop_process,
)
from benchmarks.load import cpu_seconds

TARGET_BOARD_P99_MS = 2000.0
TARGET_API_P99_MS = 100.0
TARGET_CHAT_RATIO = 1.2
ANSWER_TIMEOUT = 30.0
TABLES = 40
ANSWERING_METHODS = ("sendMessage",)
BOOKER = re.compile(r'"name": "(Booker \d{4})"')


@dataclass
class Figures:
    """What one phase measured."""

    chat: list[float] = field(default_factory=list)
    api: list[float] = field(default_factory=list)
    board: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


@dataclass(frozen=True)
class Windows:
    """The run's alternating windows, on the wall clock all processes share: chat only (A),
    then chat with the web load (B), `rounds` times. Interleaving them gives the baseline and
    the loaded figures the same machine (other programs' load drifts over minutes)."""

    start: float  # time.time() of the first window
    length: float
    rounds: int

    @property
    def end(self) -> float:
        return self.start + 2 * self.rounds * self.length

    def loaded(self, at: float | None = None) -> bool | None:
        """Whether a moment is in a B window (None: outside the run)."""
        k = int(((time.time() if at is None else at) - self.start) // self.length)
        if k < 0 or k >= 2 * self.rounds:
            return None
        return k % 2 == 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config(path: Path, first_day: dt.date) -> Path:
    days = [first_day.isoformat(), (first_day + dt.timedelta(days=1)).isoformat()]
    path.write_text(
        f'[event]\nname = "Web benchmark"\ntimezone = "UTC"\n\n'
        f"[schedule]\ndays = {json.dumps(days)}\n"
        f'sessions = ["09:00-12:00", "13:00-18:00"]\ntables = {TABLES}\nrequest_hours = 12\n',
        encoding="utf-8",
    )
    return path


async def _seed(database: Path, count: int) -> None:
    """Registered delegates with Telegram ids 10000 + n, shown to others."""
    from storage.db import Database

    db = Database(database)
    await db.connect()
    await db.migrate()
    now = "2026-01-01T00:00:00.000000+00:00"
    await db.executemany(
        "INSERT INTO delegates (telegram_user_id, chat_id, locale, name, organization, country, "
        "role, meeting_languages, contact, contact_kind, consent, step, created_at, updated_at, "
        "registered_at) VALUES (?, ?, 'en', ?, ?, 'CN', 'company', 'en', ?, 'email', 1, 'done', "
        "?, ?, ?)",
        [
            (10_000 + n, 10_000 + n, f"Booker {n:04d}", f"Org {n}", f"d{n}@example.org", now,
             now, now)
            for n in range(count)
        ],
    )  # fmt: skip
    await db.close()


class Answers:
    """Times the first sendMessage to a chat after the harness pushed an update for it."""

    def __init__(self, api: Any) -> None:
        self._waiting: dict[int, asyncio.Future[float]] = {}
        for method in ANSWERING_METHODS:
            api._handlers[method] = self._timed(api._handlers[method])

    def _timed(self, original: Any) -> Any:
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


async def chat_user(
    api: Any, answers: Answers, user_id: int, windows: Windows, a: Figures, b: Figures
) -> None:
    """A delegate asking /help again and again, about every 5 s; each answer counts for the
    window it was asked in."""
    user = api.user(user_id, f"Chat {user_id}", language_code="en")
    await asyncio.sleep(max(0.0, windows.start - time.time()) + random.uniform(0, 5))
    while time.time() < windows.end:
        phase = windows.loaded()
        answered = answers.expect(user.chat_id)
        pushed = time.perf_counter()
        await user.send_text("/help")
        out = b if phase else a
        try:
            out.chat.append(await asyncio.wait_for(answered, ANSWER_TIMEOUT) - pushed)
        except TimeoutError:
            out.error("chat_timeout")
        await asyncio.sleep(random.uniform(2.5, 7.5))


async def screen(
    http: Any, url: str, arrivals: dict[str, list[float]], out: Figures, ready: Any
) -> None:
    """A board screen: read the stream, note when each booker's name first appears on it."""
    seen: set[str] = set()
    try:
        async with http.get(url, timeout=None) as response:
            if response.status != 200:
                out.error("board_status")
                return
            ready.release()
            event = ""
            async for raw in response.content:
                line = raw.decode("utf-8").rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "board":
                    # Wall-clock time: the bookings are timed by another process.
                    arrived = time.time()
                    for name in BOOKER.findall(line):
                        if name not in seen:
                            seen.add(name)
                            arrivals.setdefault(name, []).append(arrived)
    except (TimeoutError, OSError):
        out.error("board_stream")


async def miniapp_user(
    http: Any, base: str, token: str, user_id: int, others: int, windows: Windows, out: Figures
) -> None:
    """A delegate in the Mini App: a call every ~5 s in B windows (their day, or someone's
    slots beside it), none in A windows; each user keeps their own rhythm, so B windows start
    without a burst."""
    from bot.domain.webapp import sign_init_data

    data = sign_init_data(token, {"id": user_id, "first_name": "U"}, dt.datetime.now(dt.UTC))
    headers = {"Authorization": f"tma {data}"}
    paths = ["/app/api/session"]
    await asyncio.sleep(max(0.0, windows.start - time.time()) + random.uniform(0, 5))
    while time.time() < windows.end:
        if windows.loaded():
            path = paths.pop() if paths else random.choice(("/app/api/day", "/app/api/pair"))
            if path == "/app/api/pair":
                path += f"?with={random.randint(1, others)}"
            started = time.perf_counter()
            try:
                async with http.get(base + path, headers=headers) as response:
                    await response.read()
                    ok = response.status == 200 or (response.status == 403 and "pair" in path)
            except OSError:
                ok = False
            out.api.append(time.perf_counter() - started)
            if not ok:
                out.error("miniapp")
        await asyncio.sleep(random.uniform(2.5, 7.5))


async def book(
    api: Any,
    http: Any,
    base: str,
    count: int,
    every: float,
    booked: dict[str, float],
    out: Figures,
    windows: Windows,
) -> None:
    """Bookings as delegates make them, in B windows: a request from the Mini App, accepted in
    the chat."""
    from bot.domain.webapp import sign_init_data

    first_slot = None
    for n in range(count):
        while not windows.loaded():
            if time.time() >= windows.end:
                return
            await asyncio.sleep(0.05)
        requester, invitee = 10_000 + 2 * n, 10_000 + 2 * n + 1
        data = sign_init_data(
            api.token, {"id": requester, "first_name": "B"}, dt.datetime.now(dt.UTC)
        )
        headers = {"Authorization": f"tma {data}"}
        if first_slot is None:
            async with http.get(f"{base}/app/api/pair?with={2 * n + 2}", headers=headers) as r:
                rows = (await r.json())["rows"]
                first_slot = next(row["key"] for row in rows if row["bookable"])
        body = {"with": 2 * n + 2, "slot": first_slot}
        async with http.post(f"{base}/app/api/request", json=body, headers=headers) as response:
            if response.status != 200:
                out.error("booking")
                continue
        user = api.user(invitee)
        try:
            request = await user.expect(f"Booker {2 * n:04d}", timeout=ANSWER_TIMEOUT)
            booked[f"Booker {2 * n:04d}"] = time.time()
            await user.press(0, request)  # Accept
        except AssertionError:
            out.error("booking")
        await asyncio.sleep(every)


async def web_load(args: argparse.Namespace) -> dict[str, Any]:
    """Screens or Mini App users (`--role`), each kind in a process of its own: neither slows
    the fake API that times the chat, and the users' timings are not held up by the screens'
    reading of 200 streams (the client measuring itself, not the server)."""
    import aiohttp

    figures = out = Figures()
    windows = Windows(args.start, args.window, args.rounds)
    arrivals: dict[str, list[float]] = {}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        if args.role == "users":
            token = load_settings_token()
            print("READY", flush=True)
            await asyncio.gather(
                *(
                    miniapp_user(http, args.base, token, 10_000 + n, args.delegates, windows, out)
                    for n in range(2 * TABLES, 2 * TABLES + args.users)
                )
            )
            return {"api": figures.api, "arrivals": {}, "errors": figures.errors}
        ready = asyncio.Semaphore(0)
        url = f"{args.base}/board/{args.secret}/events"
        streams = [
            asyncio.create_task(screen(http, url, arrivals, figures, ready))
            for _ in range(args.screens)
        ]
        for _ in range(args.screens):
            await asyncio.wait_for(ready.acquire(), 30)
        print("READY", flush=True)
        # The run, then time for the last booking to reach every screen; then close.
        await asyncio.sleep(max(0.0, windows.end - time.time()) + 4)
        for task in streams:
            task.cancel()
        await asyncio.gather(*streams, return_exceptions=True)
    return {"api": [], "arrivals": arrivals, "errors": figures.errors}


def load_settings_token() -> str:
    """The bot token, from the environment the harness gave this process."""
    from bot.config import load_settings

    return load_settings(require_token=True).token


async def measure(
    seconds: float, screens: int, miniapp_users: int, chat_users: int, window: float
) -> dict[str, Any]:
    import aiohttp

    from bot.config import load_settings
    from bot.sandbox.fake_api import FakeBotApi
    from bot.services import open_services

    workdir = Path(tempfile.mkdtemp(prefix="web-bench-"))
    database = workdir / "web.db"
    config = _config(workdir / "event.toml", dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1))
    delegates = miniapp_users + 2 * TABLES + 10
    await _seed(database, delegates)
    port = _free_port()

    async with FakeBotApi() as api:
        # The seeded delegates' chats, so the confirmations of bookings reach someone.
        for n in range(delegates):
            api.user(10_000 + n, f"Booker {n:04d}")
        answers = Answers(api)
        env = bot_environment(
            api, database, rate_limit=False, MATCHMAKER_CONFIG=str(config),
            MATCHMAKER_WEB_PORT=str(port), MATCHMAKER_LOG_LEVEL="WARNING",
        )  # fmt: skip
        log = workdir / "bot.log"
        process = await start_process(["-m", "bot", "run"], env, log)
        settings = load_settings(env, require_token=True)
        base = f"http://127.0.0.1:{port}"
        baseline, loaded = Figures(), Figures()
        web: dict[str, Any] = {"api": [], "arrivals": {}, "errors": {}}
        cpu_a = cpu_b = web_a = web_b = 0.0
        machine: list[float] = []
        board: list[float] = []
        try:
            while not any(call.method == "getUpdates" for call in api.calls):
                if process.returncode is not None:
                    raise RuntimeError(f"the bot exited; see {log}")
                await asyncio.sleep(0.1)
            await api.settle(timeout=30)
            async with open_services(settings) as services:
                secret = await services.web.board_secret()

            rounds = max(1, round(seconds / window))
            windows = Windows(time.time() + 15, window, rounds)
            print(
                f"{rounds} rounds of {window:.0f} s chat only (A) and {window:.0f} s with "
                f"{screens} screens, {miniapp_users} Mini App users and a booking a second (B); "
                f"{chat_users} chat users throughout",
                file=sys.stderr,
            )
            loads = []
            for role in ("screens", "users"):
                load = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "benchmarks.web", "load", "--role", role,
                    "--base", base, "--secret", secret, "--start", str(windows.start),
                    "--window", str(window), "--rounds", str(rounds),
                    "--screens", str(screens), "--users", str(miniapp_users),
                    "--delegates", str(delegates),
                    env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
                )  # fmt: skip
                assert load.stdout is not None
                if (await asyncio.wait_for(load.stdout.readline(), 60)).strip() != b"READY":
                    raise RuntimeError(f"the web load ({role}) did not start")
                loads.append(load)
            if time.time() >= windows.start:
                raise RuntimeError("the web load took too long to connect")
            bookings = min(int(rounds * window), TABLES)
            booked: dict[str, float] = {}

            async def account() -> None:
                # The CPU time of the bot and of its web process, window by window, as A's
                # or B's.
                nonlocal cpu_a, cpu_b, web_a, web_b
                await asyncio.sleep(windows.start - time.time())
                machine.append(os.getloadavg()[0])
                before = cpu_seconds(process.pid)
                web_before = _children_cpu(process.pid)
                for k in range(2 * rounds):
                    await asyncio.sleep(max(0.0, windows.start + (k + 1) * window - time.time()))
                    now = cpu_seconds(process.pid)
                    web_now = _children_cpu(process.pid)
                    if k % 2:
                        cpu_b += now - before
                        web_b += web_now - web_before
                    else:
                        cpu_a += now - before
                        web_a += web_now - web_before
                    before, web_before = now, web_now
                machine.append(os.getloadavg()[0])

            async with aiohttp.ClientSession() as http:
                await asyncio.gather(
                    *(
                        chat_user(api, answers, 50_000 + n, windows, baseline, loaded)
                        for n in range(chat_users)
                    ),
                    book(
                        api, http, base, bookings, rounds * window / max(bookings, 1),
                        booked, loaded, windows,
                    ),
                    account(),
                )  # fmt: skip
            seconds = rounds * window
            for load in loads:
                assert load.stdout is not None
                part = json.loads(await asyncio.wait_for(load.stdout.read(), 120))
                await load.wait()
                web["api"] += part["api"]
                web["arrivals"].update(part["arrivals"])
                for kind, n in part["errors"].items():
                    web["errors"][kind] = web["errors"].get(kind, 0) + n
            for name, at in booked.items():
                times = web["arrivals"].get(name, [])
                board.extend(arrived - at for arrived in times)
                if len(times) < screens:
                    loaded.error("board_missed")
        finally:
            await stop_process(process)
        logged = log.read_text(encoding="utf-8", errors="replace")
        errors = {**baseline.errors}
        for kind, n in [*loaded.errors.items(), *web["errors"].items()]:
            errors[kind] = errors.get(kind, 0) + n
        if api.rejected:
            errors["rejected"] = len(api.rejected)
            print(f"first rejected call: {api.rejected[0]}", file=sys.stderr)
        if logged.count(" ERROR ") or logged.count("Traceback"):
            errors["logged"] = logged.count(" ERROR ") + logged.count("Traceback")
    chat_a = percentile_ms(baseline.chat, 99)
    chat_b = percentile_ms(loaded.chat, 99)
    return {
        "board_update_p99_ms": _r(percentile_ms(board, 99)),
        "board_update_p50_ms": _r(percentile_ms(board, 50)),
        "miniapp_api_p99_ms": _r(percentile_ms(web["api"], 99)),
        "miniapp_api_p50_ms": _r(percentile_ms(web["api"], 50)),
        "miniapp_calls": len(web["api"]),
        "chat_p99_ms_baseline": _r(chat_a),
        "chat_p99_ms_with_web": _r(chat_b),
        "chat_p99_ratio": round(chat_b / chat_a, 2) if chat_a and chat_b else None,
        "chat_replies": [len(baseline.chat), len(loaded.chat)],
        "bot_cpu_share": [round(cpu_a / seconds, 2), round(cpu_b / seconds, 2)],
        # The web server's own process (`matchmaker run` starts it beside the bot).
        "web_cpu_share": [round(web_a / seconds, 2), round(web_b / seconds, 2)],
        # The machine's 1-minute load average as the run began and as it ended.
        "load_average": [round(x, 2) for x in machine],
        "screens": screens,
        "board_samples": len(board),
        "errors": sum(errors.values()),
        "error_kinds": errors,
    }


def _children_cpu(pid: int) -> float:
    """CPU time of a process's children (the bot's web process), from Linux /proc."""
    total = 0.0
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError, ValueError):
            total += sum(cpu_seconds(int(child)) for child in task.read_text().split())
    return total


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _load_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.web load")
    parser.add_argument("--role", choices=("screens", "users"), required=True)
    parser.add_argument("--base", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--start", type=float, required=True)
    parser.add_argument("--window", type=float, required=True)
    parser.add_argument("--rounds", type=int, required=True)
    parser.add_argument("--screens", type=int, required=True)
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--delegates", type=int, required=True)
    print(json.dumps(asyncio.run(web_load(parser.parse_args(argv)))), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["load"]:
        return _load_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m benchmarks.web", description=__doc__)
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="length of each phase (A and B), in total"
    )
    parser.add_argument(
        "--window", type=float, default=5.0, help="length of one A or B window (interleaved)"
    )
    parser.add_argument("--screens", type=int, default=200)
    parser.add_argument("--miniapp-users", type=int, default=500)
    parser.add_argument("--chat-users", type=int, default=100)
    args = parser.parse_args(argv)
    result = asyncio.run(
        measure(args.seconds, args.screens, args.miniapp_users, args.chat_users, args.window)
    )
    met = (
        result["board_update_p99_ms"] is not None
        and result["board_update_p99_ms"] <= TARGET_BOARD_P99_MS
        and result["miniapp_api_p99_ms"] is not None
        and result["miniapp_api_p99_ms"] <= TARGET_API_P99_MS
        and result["chat_p99_ratio"] is not None
        and result["chat_p99_ratio"] <= TARGET_CHAT_RATIO
        and result["errors"] == 0
    )
    result["targets_met"] = met
    print(json.dumps(result))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
