"""What the benchmarks share: the bot (or a helper) as a child process pointed at a fake API."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def bot_environment(api: Any, database: Path, *, rate_limit: bool, **extra: str) -> dict[str, str]:
    """A child's settings: the fake server, the database, pacing on or off, and any extras."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHMAKER_")}
    env.update(
        MATCHMAKER_TOKEN=api.token,
        MATCHMAKER_API_BASE_URL=api.base_url,
        MATCHMAKER_DB=str(database),
        MATCHMAKER_RATE_LIMIT="on" if rate_limit else "off",
        PTB_TIMEDELTA="1",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


async def start_process(args: list[str], env: dict[str, str], log: Path) -> Any:
    """`python <args>` from the repository root, its output appended to a log file."""
    with log.open("ab") as sink:
        return await asyncio.create_subprocess_exec(
            sys.executable, *args, env=env, cwd=ROOT, stdout=sink, stderr=sink
        )


async def stop_process(process: Any) -> None:
    """Stop a child politely (SIGTERM), then firmly."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()


async def await_crash(process: Any, within: float) -> int | None:
    """Wait for a child told to crash at a named point; kill it if it outlives the timeout."""
    try:
        code: int | None = await asyncio.wait_for(process.wait(), within)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return code


async def run_until_sent(process: Any, sent: Callable[[], int], total: int, within: float) -> None:
    """Let a restarted child drain until `sent()` reaches `total` (or it exits, or time is up)."""
    try:
        deadline = time.monotonic() + within
        while sent() < total and time.monotonic() < deadline:
            if process.returncode is not None:
                break
            await asyncio.sleep(0.25)
    finally:
        await stop_process(process)


def percentile_ms(seconds: Sequence[float], p: float) -> float | None:
    """The p-th percentile (nearest rank) of durations in seconds, in milliseconds."""
    if not seconds:
        return None
    ordered = sorted(seconds)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000.0
