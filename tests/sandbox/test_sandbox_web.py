"""The sandbox signs its own Mini App launch data, at the bot's clock, so the app works there."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from bot.domain.webapp import validate_init_data
from bot.sandbox.chat import Sandbox


async def test_the_printed_miniapp_url_carries_valid_launch_data(tmp_path: Path) -> None:
    sandbox = Sandbox(
        tmp_path / "s.db", config_file=None, log=tmp_path / "s.log", out=io.StringIO()
    )
    await sandbox.switch_user(7, "ar")
    sandbox.clock_offset = dt.timedelta(days=3)  # after /clock +3d
    url = sandbox.miniapp_url()
    parts = urlsplit(url)
    assert parts.path == "/app" and parts.port == sandbox.web_port
    assert not parts.query, "launch data stays in the fragment, which is never sent or logged"
    data = parse_qs(parts.fragment)["tgWebAppData"][0]
    now = dt.datetime.now(dt.UTC) + sandbox.clock_offset
    user = validate_init_data(data, sandbox.api.token, now)
    assert (user.id, user.language_code) == (7, "ar")
