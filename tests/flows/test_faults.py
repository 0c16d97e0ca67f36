"""Faults: Telegram failing replies, the database locked by another process, a kill mid-step."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import sys
from pathlib import Path

from bot.app import BotApplication
from bot.domain.clock import ManualClock
from bot.domain.crash import EXIT_CODE
from bot.sandbox.fake_api import FakeBotApi
from tests.flows.conftest import flow_settings, start_bot, stop_bot
from tests.flows.processes import FaultProxy, bot_environment, run_bot

LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


def step_of(database: Path, user_id: int) -> str | None:
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as conn:
        row = conn.execute(
            "SELECT step FROM delegates WHERE telegram_user_id = ?", (user_id,)
        ).fetchone()
    return None if row is None else str(row[0])


async def test_a_registration_step_waits_for_a_lock_held_by_another_process(
    api: FakeBotApi, bot: BotApplication, tmp_path: Path
) -> None:
    user = api.user(1201, "Anna", language_code="en")
    await user.send_text("/start")
    await user.press("English", await user.expect("Welcome"))
    await user.expect("What is your name")
    database = bot.bot_data["services"].settings.database
    locker = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LOCKER, str(database), "2", stdout=asyncio.subprocess.PIPE
    )
    assert locker.stdout is not None
    assert (await locker.stdout.readline()).strip() == b"locked"
    loop = asyncio.get_running_loop()
    started = loop.time()
    await user.send_text("Anna Lockwood")
    await user.expect("Which organization", timeout=15)
    # The answer waited for the lock (busy_timeout) instead of failing.
    assert loop.time() - started >= 1.5
    assert await locker.wait() == 0
    assert step_of(database, 1201) == "organization"
    assert not [c for c in api.calls if c.method == "sendMessage" and "wrong" in str(c.params)]


async def test_replies_lost_to_5xx_or_dropped_connections_do_not_stop_the_user(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    async with FaultProxy(api.base_url) as proxy:
        settings = flow_settings(api, tmp_path / "proxy.db", MATCHMAKER_API_BASE_URL=proxy.url)
        app = await start_bot(settings, clock)
        try:
            user = api.user(1202, "Omar", language_code="en")
            # Telegram answers 502 for a while: the question is lost, the bot carries on.
            api.fail_next("sendMessage", status=502, count=2)
            await user.send_text("/start")
            await api.settle()
            assert user.messages == []
            await user.send_text("/start")
            await user.press("English", await user.expect("What is your name|Welcome"))
            await user.expect("What is your name")
            # Connections carrying replies are cut: the answer is saved, the next question lost.
            proxy.drop = {"sendMessage"}
            await user.send_text("Omar Haddad")
            await api.settle()
            assert proxy.dropped >= 1
            proxy.drop = set()
            await user.send_text("/start")
            resumed = await user.expect("Let us continue where you stopped")
            assert "Which organization" in resumed.text
        finally:
            await stop_bot(app)


async def test_a_kill_right_after_a_registration_answer_is_saved_then_the_user_goes_on(
    api: FakeBotApi, tmp_path: Path
) -> None:
    database = tmp_path / "killed.db"
    env = bot_environment(api, database)
    user = api.user(1203, "Li", language_code="en")
    crashed = await run_bot(
        env | {"MATCHMAKER_CRASH_AT": "registration.after_save"}, tmp_path / "first.log"
    )
    try:
        await user.send_text("/start")
        await user.press("English", await user.expect("Welcome", timeout=20))
        assert await asyncio.wait_for(crashed.wait(), 20) == EXIT_CODE
    finally:
        if crashed.returncode is None:
            crashed.kill()
            await crashed.wait()
    # The language was saved with the next step; the question for it was never sent.
    assert step_of(database, 1203) == "name"
    restarted = await run_bot(env, tmp_path / "second.log")
    try:
        await user.send_text("/start")
        await user.expect("What is your name", timeout=20)
        await user.send_text("Li Na")
        await user.expect("Which organization", timeout=10)
    finally:
        restarted.terminate()
        await restarted.wait()
    assert step_of(database, 1203) == "organization"
