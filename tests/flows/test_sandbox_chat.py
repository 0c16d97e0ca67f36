"""The terminal chat shows what Telegram would: toasts and alerts, the language, the clock."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import BotApplication
from bot.sandbox.chat import Sandbox
from bot.sandbox.fake_api import FakeBotApi
from tests.flows.items_kit import t

STALE = "This button is no longer active. Please use the latest message."


def sandbox_on(api: FakeBotApi, tmp_path: Path) -> tuple[Sandbox, io.StringIO]:
    """A terminal chat over the flows' fake API and in-process bot (no child process)."""
    out = io.StringIO()
    sandbox = Sandbox(tmp_path / "chat.db", config_file=None, log=tmp_path / "chat.log", out=out)
    sandbox.api = api
    return sandbox, out


@pytest.mark.parametrize("locale", ["ar", "ru"])
async def test_a_refused_press_is_printed_as_an_alert(
    api: FakeBotApi, bot: BotApplication, tmp_path: Path, locale: str
) -> None:
    sandbox, out = sandbox_on(api, tmp_path)
    await sandbox.switch_user(500, locale)
    await sandbox.handle("/start")
    await sandbox.user.press_data("m1:zz:1")  # a button from a message long gone
    await sandbox.collect()
    alert = t(locale, STALE)
    assert f"bot alert ⟫ {alert}" in out.getvalue()
    await sandbox.handle("expect " + re.escape(alert))  # scripts can expect it too


async def test_as_says_what_a_language_does_for_a_user_who_exists(
    api: FakeBotApi, bot: BotApplication, tmp_path: Path
) -> None:
    sandbox, out = sandbox_on(api, tmp_path)
    await sandbox.handle("/as 1 en")
    await sandbox.handle("/as 1 ar")
    assert sandbox.user.language_code == "ar"
    assert "Telegram language is now ar" in out.getvalue()
    assert "/language" in out.getvalue()


async def test_clock_prints_the_bots_time_in_the_event_zone(
    api: FakeBotApi, bot: BotApplication, tmp_path: Path
) -> None:
    sandbox, out = sandbox_on(api, tmp_path)
    sandbox.zone = ZoneInfo("Asia/Shanghai")
    start = dt.datetime(2026, 11, 24, 8, 0, tzinfo=sandbox.zone)
    sandbox.clock_offset = start - dt.datetime.now(dt.UTC)
    await sandbox.handle("/clock")
    await sandbox.handle("/clock +15m")
    shown = out.getvalue()
    assert "the bot's time is Tue 24 Nov 08:00 (Asia/Shanghai)" in shown
    assert "moved forward by 15 min: Tue 24 Nov 08:15 (Asia/Shanghai)" in shown
    assert "offset" not in shown
