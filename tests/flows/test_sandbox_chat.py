"""The terminal chat shows what Telegram would: toasts and alerts, the language, the clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import BotApplication
from bot.cli import main
from bot.domain.clock import ManualClock
from bot.sandbox.chat import Sandbox
from bot.sandbox.fake_api import FakeBotApi
from tests.flows.conftest import flow_settings, start_bot, stop_bot
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


@pytest.mark.parametrize("locale", ["ar", "ru"])
async def test_as_says_what_a_language_does_for_a_user_who_exists(
    api: FakeBotApi, bot: BotApplication, tmp_path: Path, locale: str
) -> None:
    sandbox, out = sandbox_on(api, tmp_path)
    await sandbox.handle("/as 1 en")
    await sandbox.handle(f"/as 1 {locale}")
    assert sandbox.user.language_code == locale
    assert f"Telegram language is now {locale}" in out.getvalue()
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


NOON_SESSION = """\
[[sessions]]
key = "noon"
starts = 2026-11-24T12:00:00
ends = 2026-11-24T13:00:00
title = { en = "Lunch talk", ru = "Доклад за обедом", ar = "محاضرة الغداء" }
"""


async def test_load_programme_on_a_sandbox_database_reads_the_sandbox_zone(
    api: FakeBotApi,
    tmp_path: Path,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("MATCHMAKER_CONFIG", "MATCHMAKER_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    database = tmp_path / "sandbox.db"
    clock_file = database.with_suffix(".clock")
    clock_file.write_text("0\n", encoding="utf-8")  # what `matchmaker sandbox` leaves beside it
    source = tmp_path / "programme.toml"
    source.write_text(NOON_SESSION, encoding="utf-8")
    # The CLI runs its own event loop, as it does from a shell.
    assert (
        await asyncio.to_thread(main, ["load-programme", str(source), "--db", str(database)]) == 0
    )
    assert "sandbox database" in capsys.readouterr().err

    # The bot the sandbox runs (its event is in Asia/Shanghai) shows 12:00, not 20:00.
    app = await start_bot(flow_settings(api, database), clock)
    try:
        for user_id, locale, title in (
            (601, "ru", "Доклад за обедом"),
            (602, "ar", "محاضرة الغداء"),
        ):
            user = api.user(user_id, "U", language_code=locale)
            await user.send_text("/programme")
            days = await user.expect("")
            await user.press(0, days)
            day = await user.expect(re.escape(title))
            assert "12:00" in day.text and "20:00" not in day.text, day.text
    finally:
        await stop_bot(app)
