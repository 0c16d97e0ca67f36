"""The real application against the fake Bot API over HTTP on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.app import BotApplication, build_application
from bot.config import Settings, load_settings
from bot.domain.clock import ManualClock
from bot.sandbox.fake_api import FakeBotApi

AppFactory = Callable[[], Awaitable[BotApplication]]


def flow_settings(api: FakeBotApi, database: Path, **overrides: Any) -> Settings:
    """Settings that point the bot at the fake server, rate limiting off."""
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
    return load_settings({}, overrides=given)


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
