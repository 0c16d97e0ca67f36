"""`matchmaker run` serves the web face from a process of its own (handlers/web/worker.py).

The bot runs as production runs it, against the fake Bot API. Through the web process's port:
a Mini App request reaches the counterpart in chat (the request is made in the bot process),
a refused request comes back with the chat's localized reason, the catalogue searches and
saves, and forged launch data is refused. A web process that dies is started again; one whose
bot dies ends too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.config import load_settings
from bot.domain.exhibits import parse_csv
from bot.domain.webapp import sign_init_data
from bot.sandbox.fake_api import FakeBotApi
from bot.services import open_services
from tests.flows.processes import bot_environment, run_bot
from tests.flows.test_production import unused_port, wait_for_line

__all__ = ["unused_port"]  # a fixture, used by name

CATALOGUE = (
    "key,organization,booth,hall,title_en\nE1,Volta Lab,B1,H1,Fast charging of lithium batteries\n"
)


def _config(path: Path) -> Path:
    first = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    days = [first.isoformat(), (first + dt.timedelta(days=1)).isoformat()]
    path.write_text(
        '[event]\nname = "Web process"\ntimezone = "UTC"\n\n'
        f"[schedule]\ndays = {json.dumps(days)}\n"
        'sessions = ["09:00-12:00"]\ntables = 2\nrequest_hours = 12\n',
        encoding="utf-8",
    )
    return path


def _register(database: Path, people: list[tuple[int, str, str]]) -> None:
    """Delegates who finished registration (the registration flow has its own tests)."""
    now = "2026-11-01T00:00:00.000000+00:00"
    with sqlite3.connect(database) as conn:
        conn.executemany(
            "INSERT INTO delegates (telegram_user_id, chat_id, locale, name, organization, "
            "country, role, meeting_languages, contact, contact_kind, consent, step, created_at, "
            "updated_at, registered_at) VALUES (?, ?, ?, ?, ?, 'CN', 'company', 'en ru', ?, "
            "'email', 1, 'done', ?, ?, ?)",
            [(uid, uid, locale, name, f"Org of {name}", f"{uid}@example.org", now, now, now)
             for uid, locale, name in people],
        )  # fmt: skip


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        text = (task / "children").read_text() if (task / "children").exists() else ""
        found.extend(int(child) for child in text.split())
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


class RunningBot:
    def __init__(self, api: FakeBotApi, process: asyncio.subprocess.Process, port: int,
                 log: Path, env: dict[str, str]) -> None:  # fmt: skip
        self.api = api
        self.process = process
        self.base = f"http://127.0.0.1:{port}"
        self.log = log
        self.env = env

    def auth(self, user_id: int, name: str = "U", token: str | None = None) -> dict[str, str]:
        data = sign_init_data(
            token or self.api.token, {"id": user_id, "first_name": name}, dt.datetime.now(dt.UTC)
        )
        return {"Authorization": f"tma {data}"}


@pytest.fixture
async def running(api: FakeBotApi, tmp_path: Path, unused_port: int) -> AsyncIterator[RunningBot]:
    database = tmp_path / "web.db"
    env = bot_environment(api, database) | {
        "MATCHMAKER_CONFIG": str(_config(tmp_path / "event.toml")),
        "MATCHMAKER_WEB_PORT": str(unused_port),
        "MATCHMAKER_ENCODER": "hash",
    }
    settings = load_settings(env, require_token=True)
    async with open_services(settings) as services:
        await services.exhibits.import_parsed(parse_csv(CATALOGUE.encode()))
    _register(database, [(701, "en", "Alice Chen"), (702, "ru", "Борис Петров")])
    for uid, name in ((701, "Alice"), (702, "Boris")):
        api.user(uid, name, language_code="en")
    log = tmp_path / "bot.log"
    process = await run_bot(env, log)
    try:
        await wait_for_line(log, "ready:", within=60)
        yield RunningBot(api, process, unused_port, log, env)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)


async def _json(http: aiohttp.ClientSession, method: str, url: str, **kw: Any) -> tuple[int, Any]:
    async with http.request(method, url, **kw) as response:
        return response.status, await response.json(content_type=None)


async def test_the_mini_app_of_the_web_process_books_through_the_bot(
    api: FakeBotApi, running: RunningBot
) -> None:
    alice = running.auth(701, "Alice")
    async with aiohttp.ClientSession() as http:
        status, session = await _json(
            http, "GET", f"{running.base}/app/api/session", headers=alice
        )
        assert status == 200 and session["days"]
        status, pair = await _json(
            http, "GET", f"{running.base}/app/api/pair?with=2", headers=alice
        )
        assert status == 200
        slot = next(row["key"] for row in pair["rows"] if row["bookable"])
        body = {"with": 2, "slot": slot}
        status, sent = await _json(
            http, "POST", f"{running.base}/app/api/request", json=body, headers=alice
        )
        assert status == 200
        assert "Борис Петров" in sent["message"]
        # The bot process made the request, so its outbox tells Boris in chat.
        request = await api.user(702).expect("Alice Chen", timeout=15)
        assert request.buttons  # Accept, Decline: answered in chat as any request

        # The same request again: the bot process refuses it, and the chat's reason (a
        # MeetingError, carried back across the pipe) is what the Mini App shows.
        status, refused = await _json(
            http, "POST", f"{running.base}/app/api/request", json=body, headers=alice
        )
        assert status == 409
        assert refused["error"] and "Error" not in refused["error"]

        forged = running.auth(701, "Alice", token="123:forged")
        async with http.get(f"{running.base}/app/api/day", headers=forged) as response:
            assert response.status in (401, 403)


async def test_the_catalogue_of_the_web_process_searches_and_saves_in_the_bot(
    api: FakeBotApi, running: RunningBot
) -> None:
    alice = running.auth(701, "Alice")
    async with aiohttp.ClientSession() as http:
        status, page = await _json(
            http, "GET", f"{running.base}/app/api/exhibits?q=lithium", headers=alice
        )
        assert status == 200
        assert "Fast charging of lithium batteries" in json.dumps(page, ensure_ascii=False)
        exhibit = page["results"][0]["id"]
        status, saved = await _json(
            http, "POST", f"{running.base}/app/api/exhibits/save", json={"exhibit": exhibit},
            headers=alice,
        )  # fmt: skip
        assert status == 200 and saved["saved"] is True
    user = api.user(701)
    await user.send_text("/saved")
    shortlist = await user.expect("Fast charging of lithium batteries", timeout=15)
    assert shortlist.text


async def test_a_web_process_that_dies_is_started_again_and_ends_with_the_bot(
    running: RunningBot,
) -> None:
    [child] = _children(running.process.pid)
    os.kill(child, signal.SIGKILL)
    await wait_for_line(running.log, "web server's process exited", within=15)

    async def serves() -> bool:
        try:
            async with aiohttp.ClientSession() as http, http.get(f"{running.base}/app") as r:
                return r.status == 200
        except aiohttp.ClientError:
            return False

    deadline = asyncio.get_running_loop().time() + 60
    while not await serves():
        assert asyncio.get_running_loop().time() < deadline, "the web process did not return"
        await asyncio.sleep(0.2)
    [again] = _children(running.process.pid)
    assert again != child

    # The bot killed outright: the web process hears EOF on its pipe and ends too.
    running.process.kill()
    await running.process.wait()
    deadline = asyncio.get_running_loop().time() + 20
    while _alive(again):
        assert asyncio.get_running_loop().time() < deadline, "the web process outlived the bot"
        await asyncio.sleep(0.1)
