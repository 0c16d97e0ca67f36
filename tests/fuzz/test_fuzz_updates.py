"""Fuzzing: arbitrary text, callback data and update types at every handler.

One long-lived application serves the whole module (starting one per example would dominate the
run time); it runs on its own event loop in a background thread, and each hypothesis example
submits its actions there. After every example: the bot did not crash, the fake Bot API rejected
nothing, every reply is in the user's language, and the database invariants hold.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import BotApplication
from bot.domain.clock import ManualClock
from bot.sandbox.fake_api import FakeBotApi, FakeUser
from storage.db import Database
from tests.conftest import EVENT_START
from tests.flows.conftest import flow_settings, start_bot, stop_bot

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=50,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

T = TypeVar("T")

# Which script a reply in each language must contain (values the user typed may be in any).
SCRIPTS = {
    "en": re.compile(r"[A-Za-z]"),
    "ru": re.compile(r"[А-Яа-яЁё]"),
    "zh": re.compile(r"[\u4e00-\u9fff]"),
    "ko": re.compile(r"[\uac00-\ud7a3]"),
    "ar": re.compile(r"[\u0600-\u06ff]"),
}
USERS = {501: "en", 502: "ru", 503: "zh", 504: "ko", 505: "ar"}

NASTY = [
    "<b>bold</b>", "<script>alert(1)</script>", "a & b", "&amp;", "<", ">", "&",
    "'; DROP TABLE delegates; --", "Robert'); DELETE FROM outbox;--", "\u202eevil\u202c",
    "\u200b\u200c\u200d", "\ufeff", "🇷🇺🇨🇳", "👨‍👩‍👧‍👦", "x" * 4096, "😀" * 2048, "/start",
    "/start c_forged", "/start b_forged", "/profile", "/language", "/delete_me", "/help",
    "/stats", "/offer", "/need", "/matches", "/items", "/agenda", "/badge", "/menu",
    "Россия", "中国", "대한민국", "السعودية", "anna@example.com", "+86 138 0000 0000",
]  # fmt: skip

texts = st.one_of(
    st.sampled_from(NASTY),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=300),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=4000,
            max_size=4096),
)  # fmt: skip
callback_data = st.one_of(
    st.from_regex(r"[a-z]{1,3}1:[a-z]{1,8}:[A-Za-z0-9_\-]{0,12}", fullmatch=True),
    st.text(st.characters(codec="ascii", exclude_categories=("Cc",)), min_size=1, max_size=64),
    st.sampled_from(["r1:lang:xx", "r1:role:pirate", "p1:del:yes", "o1:stats:", "r1:edit:step"]),
)
KINDS = ["text", "callback", "sticker", "photo", "location", "contact", "document", "edited",
         "channel", "group", "press"]  # fmt: skip


@dataclass
class Harness:
    """The fake server and the bot on a background loop."""

    loop: asyncio.AbstractEventLoop
    api: FakeBotApi
    app: BotApplication
    errors: list[logging.LogRecord] = field(default_factory=list)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run a coroutine on the harness loop and wait for its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout)


class _Collect(logging.Handler):
    def __init__(self, sink: list[logging.LogRecord]) -> None:
        super().__init__(logging.ERROR)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record)


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    """One application for the whole module."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    database = Path(tmp_path_factory.mktemp("fuzz")) / "fuzz.db"

    async def boot() -> tuple[FakeBotApi, BotApplication]:
        api = FakeBotApi()
        await api.start()
        app = await start_bot(flow_settings(api, database), ManualClock(EVENT_START))
        return api, app

    api, app = asyncio.run_coroutine_threadsafe(boot(), loop).result(60)
    errors: list[logging.LogRecord] = []
    handler = _Collect(errors)
    logging.getLogger().addHandler(handler)
    try:
        yield Harness(loop, api, app, errors)
    finally:
        logging.getLogger().removeHandler(handler)

        async def shutdown() -> None:
            await stop_bot(app)
            await api.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def _base(user: FakeUser) -> dict[str, Any]:
    return {"message_id": 10_000 + len(user.transcript), "date": 1_764_000_000,
            "from": user.user_dict(), "chat": user.chat_dict()}  # fmt: skip


async def _act(api: FakeBotApi, user: FakeUser, kind: str, text: str, data: str) -> None:
    if kind == "text":
        await user.send_text(text)
    elif kind == "callback":
        if user.messages:
            await user.press_data(data)
        else:
            await user.send_text(text)
    elif kind == "press":
        buttons = [b for m in user.messages[-3:] for row in m.buttons for b in row if b[1]]
        if buttons:
            await user.press(buttons[len(text) % len(buttons)][0], None)
        else:
            await user.send_text("/start")
    elif kind == "sticker":
        await user.send_sticker()
    elif kind == "photo":
        await user.send_photo(caption=text[:1024])
    elif kind == "location":
        await user.send_location()
    elif kind == "contact":
        await user.send_contact("+7 913 123 45 67")
    elif kind == "document":
        await user.send_document("list.csv", text.encode("utf-8", "replace")[:2000])
    elif kind == "edited":
        api.push_update({"edited_message": {**_base(user), "text": text, "edit_date": 1}})
    elif kind == "channel":
        channel = {"id": -100123, "type": "channel", "title": "News"}
        api.push_update({"channel_post": {"message_id": 1, "date": 1, "chat": channel,
                                          "text": text}})  # fmt: skip
    elif kind == "group":
        group = {"id": -4242, "type": "group", "title": "Delegates"}
        api.push_update({"message": {**_base(user), "chat": group, "text": text}})
    await api.settle(quiet=0.05, timeout=20)


async def _invariants(db: Database) -> None:
    assert await db.fetchval("PRAGMA integrity_check") == "ok"
    assert await db.fetchall("PRAGMA foreign_key_check") == []
    incomplete = await db.fetchall(
        "SELECT id FROM delegates WHERE registered_at IS NOT NULL AND deleted_at IS NULL AND ("
        "name IS NULL OR organization IS NULL OR country IS NULL OR role IS NULL "
        "OR meeting_languages = '' OR consent IS NULL OR locale IS NULL)"
    )
    assert incomplete == []
    erased = await db.fetchall(
        "SELECT id FROM delegates WHERE deleted_at IS NOT NULL AND (name IS NOT NULL "
        "OR contact IS NOT NULL OR telegram_user_id IS NOT NULL)"
    )
    assert erased == []


async def _locale(db: Database, user_id: int, telegram_language: str) -> str:
    saved = await db.fetchval(
        "SELECT locale FROM delegates WHERE telegram_user_id = ? AND deleted_at IS NULL",
        (user_id,),
    )
    return str(saved or telegram_language)


@given(
    steps=st.lists(
        st.tuples(st.sampled_from(sorted(USERS)), st.sampled_from(KINDS), texts, callback_data),
        min_size=1,
        max_size=4,
    )
)
def test_arbitrary_updates_never_break_the_bot(
    harness: Harness, steps: list[tuple[int, str, str, str]]
) -> None:
    services = harness.app.bot_data["services"]
    for user_id, kind, text, data in steps:
        user = harness.api.user(user_id, f"Fuzz {user_id}", language_code=USERS[user_id])
        before = len(user.messages)
        edits_before = [m.text for m in user.messages]
        harness.run(_act(harness.api, user, kind, text, data))
        assert harness.errors == [], [r.getMessage() for r in harness.errors]
        assert harness.api.rejected == [], harness.api.rejected[-1]
        locale = harness.run(_locale(services.db, user_id, USERS[user_id]))
        changed = user.messages[before:] + [
            m for m, old in zip(user.messages, edits_before, strict=False) if m.text != old
        ]
        for message in changed:
            if message.text.strip():
                assert SCRIPTS[locale].search(message.text), (locale, message.text[:200])
        for answer in user.callback_answers:
            if answer.get("text"):
                assert SCRIPTS[locale].search(answer["text"]) or locale != USERS[user_id]
        harness.run(_invariants(services.db))


def test_the_fuzzer_reached_the_handlers(harness: Harness) -> None:
    """Guard against a harness that silently delivers nothing."""
    sent = [call for call in harness.api.calls if call.method == "sendMessage"]
    answered = [call for call in harness.api.calls if call.method == "answerCallbackQuery"]
    assert len(sent) > 30 and answered
