"""The real application against the fake Bot API over HTTP on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import BotApplication, build_application
from bot.cli.running import LIBRARY_LOGGERS, cap_library_loggers
from bot.config import Settings, load_settings
from bot.domain.clock import ManualClock
from bot.domain.nudges import NudgePolicy
from bot.sandbox.fake_api import FakeBotApi

AppFactory = Callable[[], Awaitable[BotApplication]]


# Suggestions and the evening agenda stay quiet unless a test asks for them (tests/flows/
# test_nudges.py): the other flows move the clock through event days and read every message.
QUIET = NudgePolicy(at=None, days_before=0, agenda_at=None)


def flow_settings(
    api: FakeBotApi, database: Path, *, nudges: NudgePolicy = QUIET, **overrides: Any
) -> Settings:
    """Settings that point the bot at the fake server, rate limiting off, nudges off."""
    given = {
        "MATCHMAKER_TOKEN": api.token,
        "MATCHMAKER_API_BASE_URL": api.base_url,
        "MATCHMAKER_DB": str(database),
        "MATCHMAKER_RATE_LIMIT": "off",
        "MATCHMAKER_TIMEZONE": "Asia/Shanghai",
        "MATCHMAKER_EVENT_NAME": "Nanjing Innovation Days",
        "MATCHMAKER_ORGANIZERS": "900",
        # Taxonomy only unless a test asks for the encoder (tests/conftest.py).
        "MATCHMAKER_ENCODER": os.environ.get("MATCHMAKER_ENCODER", "off"),
        **overrides,
    }
    return dataclasses.replace(load_settings({}, overrides=given), nudges=nudges)


async def start_bot(settings: Settings, clock: ManualClock) -> BotApplication:
    """Build, initialize and start polling, as `matchmaker run` does."""
    app = build_application(settings, clock=clock)
    await app.initialize()
    # run_polling calls post_init after initialize; tests start the pieces themselves.
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    return app


async def stop_bot(app: BotApplication) -> None:
    """Stop polling and shut down cleanly."""
    assert app.updater is not None
    if app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
        if app.post_stop is not None:
            await app.post_stop(app)
    await app.shutdown()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    """The fake Bot API; every test ends by checking that no request was rejected."""
    async with FakeBotApi() as server:
        yield server
        assert server.rejected == [], server.rejected


@pytest.fixture
async def bot(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotApplication]:
    """A running bot on a fresh database."""
    app = await start_bot(flow_settings(api, tmp_path / "flow.db"), clock)
    yield app
    await stop_bot(app)


# What must never reach a log line, at any level (SECURITY.md "What is logged"): the bot token
# (the fake API's and any real-looking one), claim and booking tokens, e-mail addresses, phones.
SECRETS_IN_LOGS = re.compile(
    r"TEST-TOKEN|\d{6,}:[A-Za-z0-9_-]{30,}"
    r"|\b[cb]_[A-Za-z0-9_-]{22,62}\b"
    r"|[\w.+-]+@[\w-]+\.[\w.-]+"
    r"|\+\d[\d ()-]{7,}\d"
)
# The fake Bot API and the tests are Telegram's side and the delegate's, not the bot's logs.
NOT_THE_BOTS = ("bot.sandbox", "tests")


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(NOT_THE_BOTS):
            self.lines.append(self.format(record))


@pytest.fixture(autouse=True)
def debug_log_audit() -> Iterator[None]:
    """Every flow runs with the root logger at DEBUG, the libraries capped as `matchmaker run`
    caps them, and fails if a log line carries a token or a contact (issue 20, item 14)."""
    root = logging.getLogger()
    previous = root.level
    root.setLevel(logging.DEBUG)
    cap_library_loggers()
    lines = _Lines()
    root.addHandler(lines)
    try:
        yield
    finally:
        root.removeHandler(lines)
        root.setLevel(previous)
        for name in (*LIBRARY_LOGGERS, "httpx"):
            logging.getLogger(name).setLevel(logging.NOTSET)
    leaked = [line for line in lines.lines if SECRETS_IN_LOGS.search(line)]
    assert leaked == [], "\n".join(leaked[:20])
