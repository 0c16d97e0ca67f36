"""`matchmaker run` as production runs it: readiness line, log levels, SIGTERM, webhook mode."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from bot.cli import main
from bot.domain.outbox import Outgoing, Priority, Rendered
from bot.sandbox.fake_api import FakeBotApi
from tests.flows.processes import FaultProxy, bot_environment, run_bot
from tests.flows.test_delivery import count_rows, fill_outbox, wait_until
from tests.flows.test_registration import register


def log_text(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""


async def wait_for_line(log: Path, needle: str, *, within: float = 20.0) -> str:
    """Wait until the bot's log has a line containing `needle`; return that line."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        text = log_text(log)
        for line in text.splitlines():
            if needle in line:
                return line
        if loop.time() > deadline:
            raise AssertionError(f"no line with {needle!r} within {within}s:\n{text}")
        await asyncio.sleep(0.05)


async def terminate(process: asyncio.subprocess.Process, *, within: float = 15.0) -> int:
    """Send SIGTERM and wait for the exit code (killing it if it hangs)."""
    process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(process.wait(), within)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise


def sent_ids(database: Path) -> set[int]:
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as conn:
        rows = conn.execute("SELECT chat_id FROM outbox WHERE state = 'sent'").fetchall()
    return {int(row[0]) for row in rows}


async def test_sigterm_mid_drain_finishes_in_flight_sends_and_a_restart_reports_the_rest(
    api: FakeBotApi, tmp_path: Path
) -> None:
    total = 120
    users = [api.user(3000 + n, f"U{n}") for n in range(total)]
    database = tmp_path / "term.db"
    await fill_outbox(
        database,
        [Outgoing(u.chat_id, Rendered(f"item {n}"), Priority.NOTICE) for n, u in enumerate(users)],
    )
    async with FaultProxy(api.base_url, delay=0.4) as proxy:
        proxy.slow.add("sendMessage")
        env = bot_environment(api, database) | {"MATCHMAKER_API_BASE_URL": proxy.url}
        first_log = tmp_path / "first.log"
        process = await run_bot(env, first_log)
        try:
            # Stop mid-drain with sends in flight (the proxy holds each 0.4 s). Waited for, not
            # sampled once: on a loaded machine a worker may be between two claims just then.
            await wait_until(
                lambda: (
                    count_rows(database, "state = 'sent'") >= 16
                    and count_rows(database, "state = 'sending'") > 0
                ),
                within=20,
                what="16 sent and more in flight",
            )
        except BaseException:
            process.kill()
            raise
        assert await terminate(process) == 0, log_text(first_log)
    await api.settle()
    # Nothing was left half-done: every claimed item reached Telegram and was marked sent.
    assert count_rows(database, "state = 'sending'") == 0, log_text(first_log)
    received = Counter(u.chat_id for u in users for _ in u.messages)
    assert set(received) == sent_ids(database)
    assert all(n == 1 for n in received.values())
    left = count_rows(database, "state = 'pending'")
    assert 0 < left < total - 16, "stopped mid-drain, after the in-flight sends"

    # The first bot's last long poll went through the proxy; on a busy machine the server may
    # still hold it. A second bot polling now would be a second poller at once (409).
    await wait_until(lambda: not api.polling, within=15, what="the first bot's poll closed")
    second_log = tmp_path / "second.log"
    process = await run_bot(bot_environment(api, database), second_log)
    try:
        line = await wait_for_line(second_log, "ready:")
        await wait_until(
            lambda: count_rows(database, "state = 'sent'") == total, within=20, what="all sent"
        )
    finally:
        assert await terminate(process) == 0
    assert f"@{api.bot_username}" in line
    assert f"database {database}" in line
    assert f"due work: {left} pending outbox item(s), 0 recovered from the last stop" in line
    assert "schema version " in line
    await api.settle()
    assert all(len(u.messages) == 1 for u in users), "nothing lost, nothing sent twice"


async def test_the_token_is_never_logged_even_at_debug(api: FakeBotApi, tmp_path: Path) -> None:
    database = tmp_path / "debug.db"
    log = tmp_path / "debug.log"
    env = bot_environment(api, database) | {"MATCHMAKER_LOG_LEVEL": "DEBUG"}
    process = await run_bot(env, log)
    try:
        await wait_for_line(log, "ready:")
        user = api.user(41, "Talker")
        await user.send_text("/start")
        await user.expect("", timeout=10)
        await user.send_text("/help")
        await user.expect("What I can do", timeout=10)
        await user.send_text("my contact is talker.private@example.org")
        await user.expect("", timeout=10)
    finally:
        assert await terminate(process) == 0
    text = log_text(log)
    assert "talker.private@example.org" not in text, "what delegates type is not logged"
    assert " DEBUG " in text, "MATCHMAKER_LOG_LEVEL=DEBUG logs debug lines"
    secret = api.token.split(":", 1)[1]
    assert api.token not in text
    assert secret not in text


async def test_debug_logs_leave_out_what_the_database_stores(
    api: FakeBotApi, tmp_path: Path
) -> None:
    # aiosqlite logs every statement with its parameters at DEBUG: a registration's name and
    # contact, the booking token /badge creates. `matchmaker run` keeps it at INFO.
    database = tmp_path / "debug-db.db"
    log = tmp_path / "debug-db.log"
    env = bot_environment(api, database) | {
        "MATCHMAKER_LOG_LEVEL": "DEBUG",
        "MATCHMAKER_EVENT_NAME": "Nanjing Innovation Days",
    }
    process = await run_bot(env, log)
    try:
        await wait_for_line(log, "ready:")
        user = api.user(43, "Secretive", language_code="en")
        await register(
            user, locale="en", language="English", name="Zebulon Quartz",
            organization="Quartz Private Labs", country="China",
        )  # fmt: skip
        await user.send_text("/badge")
        badge = await user.expect("t.me/", timeout=10)
    finally:
        assert await terminate(process) == 0
    token = re.search(r"start=(b_[A-Za-z0-9_-]+)", badge.text)
    assert token is not None
    text = log_text(log)
    assert " DEBUG " in text, "MATCHMAKER_LOG_LEVEL=DEBUG logs debug lines"
    assert "aiosqlite" not in text and "INSERT INTO" not in text
    for secret in ("Zebulon Quartz", "Quartz Private Labs", token.group(1), api.token):
        assert secret not in text, secret


async def test_log_level_warning_keeps_info_lines_out(api: FakeBotApi, tmp_path: Path) -> None:
    database = tmp_path / "quiet.db"
    log = tmp_path / "quiet.log"
    env = bot_environment(api, database) | {"MATCHMAKER_LOG_LEVEL": "WARNING"}
    process = await run_bot(env, log)
    try:
        user = api.user(42, "Quiet")
        await user.send_text("/help")
        await user.expect("What I can do", timeout=15)
    finally:
        assert await terminate(process) == 0
    text = log_text(log)
    assert " INFO " not in text and " DEBUG " not in text and "ready:" not in text


def test_webhook_url_must_be_https(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["run", "--webhook", "http://bot.example.org/hook"])
    assert raised.value.code == 2
    assert "is not an https:// URL" in capsys.readouterr().err


async def test_webhook_mode_takes_updates_signed_with_the_secret(
    api: FakeBotApi, tmp_path: Path, unused_port: int
) -> None:
    import json
    import urllib.error
    import urllib.request

    user = api.user(43, "Hooked")
    env = bot_environment(api, tmp_path / "hook.db") | {
        "MATCHMAKER_WEBHOOK_PORT": str(unused_port),
        "MATCHMAKER_WEBHOOK_SECRET": "proxy-secret_1",
    }
    log = tmp_path / "hook.log"
    process = await run_bot(env, log, "--webhook", "https://bot.example.org/tg/hook")
    try:
        await wait_for_line(log, "ready:")
        await wait_until(lambda: bool(api.webhook_url), within=10, what="setWebhook")
        assert api.webhook_url == "https://bot.example.org/tg/hook"
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1, "date": 0, "chat": user.chat_dict(), "from": user.user_dict(),
                "text": "/help", "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            },
        }  # fmt: skip

        def post(secret: str) -> int:
            request = urllib.request.Request(
                f"http://127.0.0.1:{unused_port}/tg/hook",
                data=json.dumps(update).encode(),
                headers={"Content-Type": "application/json",
                         "X-Telegram-Bot-Api-Secret-Token": secret},
            )  # fmt: skip
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return int(response.status)
            except urllib.error.HTTPError as error:
                return error.code

        assert await asyncio.to_thread(post, "wrong") == 403
        assert await asyncio.to_thread(post, "proxy-secret_1") == 200
        await user.expect("What I can do", timeout=10)

        # The same port serves the web face: the Mini App's page, and 404 without the secret.
        def get(path: str) -> int:
            try:
                url = f"http://127.0.0.1:{unused_port}{path}"
                with urllib.request.urlopen(url, timeout=5) as response:
                    return int(response.status)
            except urllib.error.HTTPError as error:
                return error.code

        assert await asyncio.to_thread(get, "/app") == 200
        assert await asyncio.to_thread(get, "/board/guessed") == 404
    finally:
        assert await terminate(process) == 0


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
