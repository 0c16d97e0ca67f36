"""Delivery over the fake Bot API: priority, 429, 403, 5xx, dropped connections and crashes."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from bot.app import BotApplication
from bot.domain.clock import Clock, ManualClock, SystemClock
from bot.domain.crash import EXIT_CODE
from bot.domain.outbox import DeadReason, Outgoing, Priority, Rendered, State, TemplateRef
from bot.i18n import Translator
from bot.sandbox.fake_api import FakeBotApi, FakeUser
from bot.services import Services
from storage.db import Database
from storage.outbox import OutboxRepository
from tests.flows.conftest import flow_settings, start_bot, stop_bot
from tests.flows.processes import FaultProxy, bot_environment, run_bot

SECOND = dt.timedelta(seconds=1)
HOUR = dt.timedelta(hours=1)


def services_of(app: BotApplication) -> Services:
    services: Services = app.bot_data["services"]
    return services


async def wait_until(condition: Callable[[], bool], *, within: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached within {within}s")
        await asyncio.sleep(0.01)


def sent_to(api: FakeBotApi, chats: set[int] | None = None) -> int:
    return sum(
        1
        for call in api.calls
        if call.method == "sendMessage" and call.ok
        and (chats is None or call.params.get("chat_id") in chats)
    )  # fmt: skip


def statuses(api: FakeBotApi) -> Counter[int]:
    return Counter(call.status for call in api.calls if call.method == "sendMessage")


async def fill_outbox(
    database: Path, messages: list[Outgoing], clock: Clock | None = None
) -> None:
    """Write outbox items straight into a (migrated) database file, as a feature would.

    Pass the clock of the bot that will send them: items are due from the clock's "now", so a
    bot on the test's fixed clock would never see items stamped with today's real time.
    """
    db = Database(database)
    await db.connect()
    try:
        await db.migrate()
        await OutboxRepository(db, clock or SystemClock()).enqueue_many(messages)
    finally:
        await db.close()


@pytest.fixture
async def app(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotApplication]:
    """A running bot, rate limiting off, sender started."""
    application = await start_bot(flow_settings(api, tmp_path / "delivery.db"), clock)
    yield application
    await stop_bot(application)


async def test_a_reply_is_not_queued_behind_a_draining_broadcast(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    api.enforce_rate_limits = True
    bulk = [api.user(100_000 + n, f"Delegate {n}") for n in range(5000)]
    database = tmp_path / "broadcast.db"
    await fill_outbox(
        database,
        [Outgoing(u.chat_id, Rendered("Programme update"), Priority.BROADCAST) for u in bulk],
        clock,
    )
    application = await start_bot(flow_settings(api, database, MATCHMAKER_RATE_LIMIT="on"), clock)
    try:
        # Let the broadcast reach the cap before the delegate asks for something.
        await wait_until(lambda: sent_to(api) >= 45, within=10, what="45 broadcast messages")
        asker = api.user(7, "Asker")
        loop = asyncio.get_running_loop()
        started, before = loop.time(), sent_to(api)
        await asker.send_text("/help")
        await asker.expect("What I can do", timeout=5)
        latency = loop.time() - started
        overtaken = sent_to(api) - before - 1
        # Queued behind the broadcast it would wait minutes; it waits for one free slot.
        assert latency < 1.0, latency
        assert overtaken <= 10, overtaken
        assert statuses(api)[429] == 0
        assert services_of(application).delivery.limiter.throttled == 0
        # The broadcast goes on after the reply.
        after = sent_to(api)
        await wait_until(lambda: sent_to(api) >= after + 10, within=5, what="more broadcast")
    finally:
        await stop_bot(application)
    with sqlite3.connect(database) as conn:
        pending = conn.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()
    assert pending[0] > 4000, "the test must not wait for the whole broadcast"


async def test_a_copy_waiting_for_its_slot_is_not_sent_once_its_delegate_left(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    # Two messages a second: the last recipient's copy is claimed at once, then waits seconds.
    others = [api.user(200_000 + n, f"Delegate {n}") for n in range(5)]
    leaver = api.user(300_000, "Leaver")
    database = tmp_path / "withdrawn.db"
    await fill_outbox(
        database,
        [
            Outgoing(u.chat_id, Rendered("Programme update"), Priority.BROADCAST)
            for u in [*others, leaver]
        ],
        clock,
    )
    settings = flow_settings(
        api, database, MATCHMAKER_RATE_LIMIT="on", MATCHMAKER_SEND_PER_SECOND="2"
    )
    application = await start_bot(settings, clock)
    try:
        outbox = services_of(application).delivery.outbox
        await wait_until(lambda: sent_to(api) >= 1, within=5, what="the first copy")
        with sqlite3.connect(database) as conn:
            (state,) = conn.execute(
                "SELECT state FROM outbox WHERE chat_id = ?", (leaver.chat_id,)
            ).fetchone()
        assert state == "sending", "the leaver's copy must be in flight for this test"
        # The leaver erases their data while their copy waits for its slot.
        assert await outbox.drop_for_chat(leaver.chat_id, "the delegate deleted their data") == 1
        await wait_until(lambda: sent_to(api) >= len(others), within=10, what="the other copies")
        await asyncio.sleep(1.0)  # the leaver's slot comes and goes
    finally:
        await stop_bot(application)
    assert leaver.messages == []
    assert all(u.messages for u in others)
    with sqlite3.connect(database) as conn:
        states = Counter(row[0] for row in conn.execute("SELECT state FROM outbox"))
    assert states == {"sent": len(others), "dropped": 1}


async def test_429_pauses_sending_and_loses_nothing(
    api: FakeBotApi, app: BotApplication, clock: ManualClock
) -> None:
    users = [api.user(200 + n, f"U{n}") for n in range(3)]
    services = services_of(app)
    api.fail_next("sendMessage", status=429, retry_after=1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with services.db.transaction():
        for user in users:
            await services.outbox.enqueue(user.chat_id, Rendered(f"Hello {user.user_id}"))
    await services.delivery.sender.wait_idle(timeout=10)
    assert loop.time() - started >= 0.9, "sending paused for retry_after"
    for user in users:
        assert [m.text for m in user.messages] == [f"Hello {user.user_id}"]
    counts = await services.outbox.counts()
    assert counts[State.SENT] == 3
    assert services.delivery.limiter.throttled == 1
    attempts = await services.db.fetchval("SELECT max(attempts) FROM outbox")
    assert attempts == 0, "a 429 is not the item's failure"


async def test_a_reply_that_meets_a_429_is_sent_after_the_pause(
    api: FakeBotApi, app: BotApplication
) -> None:
    user = api.user(250, "Eager")
    api.fail_next("sendMessage", status=429, retry_after=1)
    await user.send_text("/help")
    await user.expect("What I can do", timeout=5)
    assert statuses(api)[429] == 1


async def test_403_and_kicked_mark_the_delegate_unreachable_and_drop_what_is_owed(
    api: FakeBotApi, app: BotApplication
) -> None:
    services = services_of(app)
    blocker, other = api.user(301, "Blocker"), api.user(302, "Other")
    for user in (blocker, other):
        await services.delegates.start_draft(user.user_id, user.chat_id)
    api.block_user(blocker.user_id)
    await services.outbox.enqueue_many(
        Outgoing(user.chat_id, Rendered(f"notice {n}"), Priority.NOTICE)
        for n in range(3)
        for user in (blocker, other)
    )
    await services.delivery.sender.wait_idle(timeout=10)
    # Telegram was asked once; the rest were dropped without a call.
    assert statuses(api)[403] == 1
    assert len(other.messages) == 3 and blocker.messages == []
    counts = await services.outbox.counts()
    assert (counts[State.DROPPED], counts[State.SENT]) == (3, 3)
    delegate = await services.delegates.by_telegram_user(blocker.user_id)
    assert delegate is not None and not delegate.reachable

    # Unblocking comes as my_chat_member "member"; blocking again as "kicked".
    api.block_user(blocker.user_id, blocked=False)
    api.push_update(chat_member_update(api, blocker, old="kicked", new="member"))
    await api.settle()
    delegate = await services.delegates.by_telegram_user(blocker.user_id)
    assert delegate is not None and delegate.reachable
    await services.outbox.enqueue(blocker.chat_id, Rendered("welcome back"))
    await services.delivery.sender.wait_idle(timeout=10)
    assert [m.text for m in blocker.messages] == ["welcome back"]

    await services.outbox.enqueue(
        blocker.chat_id, Rendered("later"), not_before=services.clock.now() + 60 * SECOND
    )
    api.push_update(chat_member_update(api, blocker, old="member", new="kicked"))
    await api.settle()
    delegate = await services.delegates.by_telegram_user(blocker.user_id)
    assert delegate is not None and not delegate.reachable
    assert (await services.outbox.counts())[State.DROPPED] == 4


async def test_5xx_is_retried_with_backoff_until_the_message_expires(
    api: FakeBotApi, app: BotApplication, clock: ManualClock
) -> None:
    services = services_of(app)
    sender, dispatcher = services.delivery.sender, services.delivery.dispatcher
    patient, stubborn = api.user(401, "Patient"), api.user(402, "Stubborn")
    doomed, refused = api.user(403, "Doomed"), api.user(404, "Refused")

    api.fail_next("sendMessage", status=502, count=1)
    item_id = await services.outbox.enqueue(patient.chat_id, Rendered("after a hiccup"))
    assert item_id is not None
    await sender.wait_idle(timeout=10)
    waiting = await services.outbox.get(item_id)
    assert waiting is not None and waiting.state is State.PENDING and waiting.attempts == 1
    assert waiting.not_before == clock.now() + 2 * SECOND
    assert patient.messages == []
    clock.advance(2 * SECOND)
    assert (await dispatcher.run_due(clock.now()))["outbox"] == 1
    await sender.wait_idle(timeout=10)
    assert [m.text for m in patient.messages] == ["after a hiccup"]

    # The audit's defect: the fifth failure made a dead letter. Eight failures in a row (about
    # ten minutes of backoff) are still retried, and the ninth attempt gets through.
    api.fail_next("sendMessage", status=500, count=8)
    item_id = await services.outbox.enqueue(stubborn.chat_id, Rendered("still there"))
    assert item_id is not None
    for _ in range(8):
        await sender.wait_idle(timeout=10)
        clock.advance(dt.timedelta(minutes=10))
        await dispatcher.run_due(clock.now())
    await sender.wait_idle(timeout=10)
    assert [m.text for m in stubborn.messages] == ["still there"]
    assert await services.outbox.count_dead() == 0

    # A notice that keeps failing is given up once its 6-hour horizon has passed, not before.
    api.outage = 500
    item_id = await services.outbox.enqueue(doomed.chat_id, Rendered("never"))
    assert item_id is not None
    owed_at = clock.now()
    while clock.now() < owed_at + dt.timedelta(hours=6, minutes=10):
        await sender.wait_idle(timeout=10)
        assert await services.outbox.count_dead() == 0 or clock.now() >= owed_at + 6 * HOUR
        clock.advance(dt.timedelta(minutes=5))
        await dispatcher.run_due(clock.now())
    await sender.wait_idle(timeout=10)
    (letter,) = await services.outbox.dead_letters()
    assert letter.id == item_id and letter.dead_reason is DeadReason.EXPIRED
    assert letter.attempts > 5 and "Internal Server Error" in (letter.last_error or "")
    assert doomed.messages == []
    api.outage = None

    # A 400 is Telegram refusing the message itself: dead at once, with that reason.
    api.fail_next("sendMessage", status=400, count=1)
    item_id = await services.outbox.enqueue(refused.chat_id, Rendered("refused"))
    await sender.wait_idle(timeout=10)
    refusal = await services.outbox.get(item_id or 0)
    assert refusal is not None and refusal.state is State.DEAD
    assert refusal.dead_reason is DeadReason.REFUSED and refusal.attempts == 1
    assert await services.outbox.dead_by_reason() == {
        DeadReason.REFUSED: 1,
        DeadReason.EXPIRED: 1,
    }


async def test_dropped_connections_are_retried(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    async with FaultProxy(api.base_url) as proxy:
        settings = flow_settings(api, tmp_path / "proxy.db", MATCHMAKER_API_BASE_URL=proxy.url)
        application = await start_bot(settings, clock)
        try:
            services = services_of(application)
            users = [api.user(500 + n, f"U{n}") for n in range(4)]
            proxy.drop = {"sendMessage"}
            async with services.db.transaction():
                for user in users:
                    await services.outbox.enqueue(user.chat_id, Rendered("survives"))
            await services.delivery.sender.wait_idle(timeout=10)
            assert proxy.dropped >= 4
            assert (await services.outbox.counts())[State.PENDING] == 4
            proxy.drop = set()
            clock.advance(5 * SECOND)
            await services.delivery.dispatcher.run_due(clock.now())
            await services.delivery.sender.wait_idle(timeout=10)
            assert all([m.text for m in u.messages] == ["survives"] for u in users)
        finally:
            await stop_bot(application)


async def test_templates_are_rendered_in_each_recipients_language(
    api: FakeBotApi, app: BotApplication
) -> None:
    services = services_of(app)

    async def apology(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        return Rendered(tr._("Sorry, something went wrong. Please try again."))

    services.delivery.renderers.add("test.apology", apology)
    russian, english = api.user(601, "Иван"), api.user(602, "Anna")
    for user, locale in ((russian, "ru"), (english, "en")):
        draft = await services.delegates.start_draft(user.user_id, user.chat_id)
        await services.delegates.update(draft.id, locale=locale)
        await services.outbox.enqueue(user.chat_id, TemplateRef("test.apology"))
    await services.outbox.enqueue(english.chat_id, TemplateRef("test.unknown"))
    await services.delivery.sender.wait_idle(timeout=10)
    assert [m.text for m in russian.messages] == [
        "Извините, что-то пошло не так. Попробуйте ещё раз."
    ]
    assert [m.text for m in english.messages] == ["Sorry, something went wrong. Please try again."]
    (letter,) = await services.outbox.dead_letters()
    assert "test.unknown" in (letter.last_error or "")


async def test_due_work_hooks_run_with_the_chosen_time(
    app: BotApplication, clock: ManualClock
) -> None:
    dispatcher = services_of(app).delivery.dispatcher
    seen: list[dt.datetime] = []

    async def remember(now: dt.datetime) -> int:
        seen.append(now)
        return len(seen)

    async def broken(now: dt.datetime) -> None:
        raise RuntimeError("a bug in one feature")

    dispatcher.add_hook("broken", broken)
    dispatcher.add_hook("remember", remember)
    with pytest.raises(ValueError):
        dispatcher.add_hook("remember", remember)
    moment = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)
    results = await dispatcher.run_due(moment)
    assert moment in seen and results["remember"] == len(seen)
    assert isinstance(results["broken"], RuntimeError)
    # Features add their own hooks (matching, reminders) between the outbox and these two.
    assert dispatcher.hooks[0] == "outbox" and dispatcher.hooks[-2:] == ("broken", "remember")
    # The sandbox's /clock +15m: time moves and what fell due is done at once.
    before = clock.now()
    await dispatcher.advance_clock(dt.timedelta(minutes=15))
    assert clock.now() == before + dt.timedelta(minutes=15) and seen[-1] == clock.now()


async def test_an_item_due_later_goes_out_when_its_time_comes(
    api: FakeBotApi, app: BotApplication, clock: ManualClock
) -> None:
    services = services_of(app)
    user = api.user(801, "Planner")
    await services.outbox.enqueue(
        user.chat_id, Rendered("Your meeting starts in 15 minutes"), priority=Priority.REMINDER,
        not_before=clock.now() + dt.timedelta(minutes=45), dedupe_key="reminder:1:15m",
    )  # fmt: skip
    await services.delivery.dispatcher.run_due(clock.now())
    await services.delivery.sender.wait_idle(timeout=10)
    assert user.messages == []
    await services.delivery.dispatcher.advance_clock(dt.timedelta(minutes=45))
    await services.delivery.sender.wait_idle(timeout=10)
    assert [m.text for m in user.messages] == ["Your meeting starts in 15 minutes"]


@pytest.mark.parametrize(
    "point", ["outbox.before_send:20", "outbox.after_send:20", "outbox.after_mark:20"]
)
async def test_a_kill_mid_drain_then_a_restart_sends_everything(
    api: FakeBotApi, tmp_path: Path, point: str
) -> None:
    total = 60
    users = [api.user(700 + n, f"U{n}") for n in range(total)]
    database = tmp_path / "crash.db"
    await fill_outbox(
        database,
        [Outgoing(u.chat_id, Rendered(f"item {n}"), Priority.NOTICE) for n, u in enumerate(users)],
    )
    env = bot_environment(api, database)
    crashed = await run_bot(env | {"MATCHMAKER_CRASH_AT": point}, tmp_path / "first.log")
    assert await crashed.wait() == EXIT_CODE, (tmp_path / "first.log").read_text()
    in_flight = count_rows(database, "state = 'sending'")
    sent_before = count_rows(database, "state = 'sent'")
    assert sent_before < total, "the crash came mid-drain"

    restarted = await run_bot(env, tmp_path / "second.log")
    try:
        await wait_until(
            lambda: count_rows(database, "state = 'sent'") == total,
            within=30,
            what="every item sent after the restart",
        )
    finally:
        restarted.terminate()
        await restarted.wait()
    await api.settle()
    received = Counter(m.text for u in users for m in u.messages)
    assert set(received) == {f"item {n}" for n in range(total)}, "nothing is lost"
    # Only items left 'sending' can go twice: the one at the crash point and the other workers'.
    duplicates = sum(received.values()) - total
    assert duplicates <= in_flight, (duplicates, in_flight)
    if point.startswith("outbox.after_send"):
        assert duplicates >= 1, "the item Telegram accepted but we did not mark is sent again"


def count_rows(database: Path, condition: str) -> int:
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as conn:
        row = conn.execute(f"SELECT count(*) FROM outbox WHERE {condition}").fetchone()
    return int(row[0])


def chat_member_update(api: FakeBotApi, user: FakeUser, *, old: str, new: str) -> dict[str, Any]:
    bot_user = {
        "id": api.bot_id, "is_bot": True, "first_name": api.bot_name,
        "username": api.bot_username,
    }  # fmt: skip
    member = {"kicked": {"until_date": 0}}
    return {
        "my_chat_member": {
            "chat": user.chat_dict(),
            "from": user.user_dict(),
            "date": int(time.time()),
            "old_chat_member": {"status": old, "user": bot_user, **member.get(old, {})},
            "new_chat_member": {"status": new, "user": bot_user, **member.get(new, {})},
        }
    }
