"""The web face under test: the bot with its web server on a free port, and a real browser.

The browser is Debian's chromium driven by Playwright (never `playwright install`); where none
can be found the browser tests skip and say why.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from bot.app import BotApplication
from bot.domain.clock import ManualClock
from bot.domain.scheduling import parse_schedule
from bot.domain.webapp import sign_init_data
from bot.sandbox.fake_api import FakeBotApi, FakeUser
from bot.services import Services
from handlers.web import WebServer
from tests.flows.conftest import flow_settings, start_bot, stop_bot

SCHEDULE = {
    "days": ["2026-11-24", "2026-11-25"],
    "sessions": ["09:30-12:00", "14:00-17:30"],
    "breaks": ["10:30-10:50"],
    "tables": "A1..A3",
    "room": "Hall 3",
}
# Set to a folder to keep the screenshots the README shows (docs/).
SCREENSHOTS = os.environ.get("MATCHMAKER_SCREENSHOTS")


def services_of(app: BotApplication) -> Services:
    services: Services = app.bot_data["services"]
    return services


def base_url(app: BotApplication) -> str:
    server: WebServer = app.bot_data["web"]
    return f"http://127.0.0.1:{server.port}"


@pytest.fixture
async def web_bot(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotApplication]:
    """A running bot whose web server listens on a free port."""
    settings = flow_settings(api, tmp_path / "web.db", MATCHMAKER_WEB_PORT="0")
    schedule = parse_schedule(SCHEDULE, zone=settings.timezone)
    app = await start_bot(dataclasses.replace(settings, schedule=schedule), clock)
    yield app
    await stop_bot(app)


async def registered(
    app: BotApplication, user: FakeUser, locale: str, name: str, org: str, country: str = "CN"
) -> int:
    """A delegate who finished registration (the registration flow has its own tests)."""
    now = "2026-11-01T00:00:00.000000+00:00"
    return await services_of(app).db.insert(
        "INSERT INTO delegates (telegram_user_id, chat_id, locale, name, organization, country, "
        "role, meeting_languages, contact, contact_kind, consent, step, created_at, updated_at, "
        "registered_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 'company', 'en ru', ?, 'email', 1, 'done', ?, ?, ?)",
        (user.user_id, user.chat_id, locale, name, org, country, f"{user.user_id}@example.org",
         now, now, now),
    )  # fmt: skip


def init_data(api: FakeBotApi, user: FakeUser, at: dt.datetime, **changes: Any) -> str:
    """Launch data Telegram would give this user, signed with the bot's token."""
    fields = {**user.user_dict(), **changes}
    return sign_init_data(api.token, fields, at)


def miniapp_url(app: BotApplication, data: str, query: str = "") -> str:
    """The Mini App's URL with launch data in the fragment, as Telegram opens it."""
    suffix = f"?{query}" if query else ""
    return f"{base_url(app)}/app{suffix}#tgWebAppData={quote(data)}&tgWebAppVersion=8.0"


def chromium_path() -> str | None:
    """Debian's chromium, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Headless chromium; the test skips (and says why) where there is none."""
    executable = chromium_path()
    if executable is None:
        reason = "no chromium on this machine (apt-get install chromium): browser test skipped"
        print(reason, file=sys.stderr)
        pytest.skip(reason)
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        reason = "playwright is not installed (pip install '.[dev]'): browser test skipped"
        print(reason, file=sys.stderr)
        pytest.skip(reason)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox"], headless=True
        )
        try:
            yield launched
        finally:
            await launched.close()


async def new_page(browser: Any, *, width: int = 1280, height: int = 800) -> Any:
    """A page that cannot reach the internet (telegram.org's script is not needed offline)."""
    context = await browser.new_context(viewport={"width": width, "height": height})
    page = await context.new_page()

    async def offline(route: Any) -> None:
        await route.abort()

    await page.route("https://**/*", offline)
    return page


async def screenshot(page: Any, name: str) -> None:
    """Keep a screenshot for the README when MATCHMAKER_SCREENSHOTS names a folder."""
    if SCREENSHOTS:
        # Playwright makes the folder.
        await page.screenshot(path=str(Path(SCREENSHOTS) / name))
