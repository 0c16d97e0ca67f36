"""Telegram down for a while: nothing owed is lost, and organizers can retry what was given up."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from bot.app import BotApplication
from bot.cli import main
from bot.domain.clock import ManualClock
from bot.domain.outbox import DeadReason, Outgoing, Priority, Rendered, State
from bot.sandbox.fake_api import FakeBotApi
from bot.services import Services
from storage.db import Database
from storage.outbox import OutboxRepository
from tests.flows.broadcast_kit import ORGANIZER, seed, services_of, write_broadcast

SECOND = dt.timedelta(seconds=1)


async def step(services: Services, clock: ManualClock, delta: dt.timedelta) -> None:
    """Let `delta` of event time pass, as the due-work job would, and wait for the sender."""
    clock.advance(delta)
    await services.delivery.dispatcher.run_due(clock.now())
    await services.delivery.sender.wait_idle(timeout=20)


def failed_sends(api: FakeBotApi) -> int:
    return sum(1 for c in api.calls if c.method == "sendMessage" and c.status >= 500)


async def test_a_minute_of_5xx_during_a_broadcast_to_100_loses_nothing(
    api: FakeBotApi, bot: BotApplication, clock: ManualClock
) -> None:
    users = [await seed(api, bot, 5000 + n, locale="en") for n in range(100)]
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    audience = await write_broadcast(api, organizer, {"en": "Keynote moved to Hall 1"})
    await organizer.press("Everyone", audience)
    confirm = await organizer.expect("Send the announcement to 100 delegates")
    services = services_of(bot)
    await services.delivery.sender.stop()  # the outage below is meant for the broadcast
    await organizer.press("Send now", confirm)
    await organizer.expect("Announcement #")
    # The audit: 5xx for 60 s, sends 2, 4, 8, 16 s apart, then 79 dead letters of 100.
    api.outage = 502
    assert bot.bot is not None
    await services.delivery.start(bot.bot)
    await services.delivery.sender.wait_idle(timeout=20)
    for _ in range(30):
        await step(services, clock, 2 * SECOND)
    assert all(u.messages == [] for u in users)
    # While Telegram fails one probe at a time goes out, not a retry per copy.
    assert failed_sends(api) <= 30, failed_sends(api)
    api.outage = None
    for _ in range(10):
        await step(services, clock, 2 * SECOND)
    await api.settle()
    assert [len(u.messages) for u in users] == [1] * 100
    assert await services.outbox.count_dead() == 0
    report = await organizer.expect("Finished", timeout=10)
    assert "Sent: 100" in report.text and "Failed: 0" in report.text


async def test_a_reminder_is_retried_until_its_meeting_starts_then_given_up(
    api: FakeBotApi, bot: BotApplication, clock: ManualClock
) -> None:
    services = services_of(bot)
    early, late = api.user(5201, "Early"), api.user(5202, "Late")
    api.outage = 503
    starts_soon = clock.now() + dt.timedelta(minutes=3)
    starts_later = clock.now() + dt.timedelta(minutes=15)
    for user, starts in ((early, starts_soon), (late, starts_later)):
        await services.outbox.enqueue(
            user.chat_id,
            Rendered(f"Your meeting starts at {starts:%H:%M}"),
            priority=Priority.REMINDER,
            expires_at=starts,
        )
    await services.delivery.sender.wait_idle(timeout=10)
    for _ in range(10):  # ten minutes of outage
        await step(services, clock, dt.timedelta(minutes=1))
    # The first meeting began during the outage: its reminder is not sent late.
    api.outage = None
    for _ in range(3):
        await step(services, clock, 15 * SECOND)
    await api.settle()
    assert early.messages == []
    assert [m.text for m in late.messages] == [f"Your meeting starts at {starts_later:%H:%M}"]
    (letter,) = await services.outbox.dead_letters()
    assert letter.chat_id == early.chat_id and letter.dead_reason is DeadReason.EXPIRED


async def give_up_on(
    api: FakeBotApi, services: Services, clock: ManualClock, chats: list[int]
) -> None:
    """Owe each chat a notice and let Telegram fail past the notices' 6-hour horizon."""
    api.outage = 500
    await services.outbox.enqueue_many(
        Outgoing(chat, Rendered(f"Notice for {chat}"), Priority.NOTICE) for chat in chats
    )
    await services.delivery.sender.wait_idle(timeout=10)
    for _ in range(13):
        await step(services, clock, dt.timedelta(minutes=30))
    api.outage = None


async def test_organizers_see_dead_letters_by_reason_and_retry_them(
    api: FakeBotApi, bot: BotApplication, clock: ManualClock
) -> None:
    services = services_of(bot)
    anna = await seed(api, bot, 5301, locale="en")
    boris = await seed(api, bot, 5302, locale="ru")
    refused = await seed(api, bot, 5303, locale="en")
    await give_up_on(api, services, clock, [anna.chat_id, boris.chat_id])
    api.fail_next("sendMessage", status=400, count=1)
    await services.outbox.enqueue(refused.chat_id, Rendered("refused"))
    # The sender probes again within 15 s of the last failure; this probe meets the 400.
    await step(services, clock, 15 * SECOND)
    assert await services.outbox.dead_by_reason() == {
        DeadReason.REFUSED: 1,
        DeadReason.EXPIRED: 2,
    }

    organizer = api.user(ORGANIZER, "Olga", language_code="ru")
    await organizer.send_text("/stats")
    stats = await organizer.expect("Недоставленные сообщения: 3")
    assert "Не доставлено: сбой Telegram длился, пока не стало поздно: 2" in stats.text
    assert "Отклонено Telegram в таком виде: 1" in stats.text
    assert "🔁 Повторить недоставленные (2)" in stats.button_texts()

    # A delegate pressing the organizer's button (forged, or forwarded) changes nothing.
    mallory = await seed(api, bot, 5399, locale="en")
    await mallory.press_data("o1:retry:expired", stats)
    await api.settle()
    assert "only available to the event organizers" in mallory.callback_answers[-1]["text"]
    assert (await services.outbox.counts())[State.DEAD] == 3
    # An unknown reason is refused as a stale button.
    await organizer.press_data("o1:retry:bogus", stats)
    await api.settle()
    assert organizer.callback_answers[-1].get("show_alert") is True

    await organizer.press("Повторить недоставленные", stats)
    await api.settle()
    assert "2 сообщения снова в очереди" in organizer.callback_answers[-1]["text"]
    await services.delivery.sender.wait_idle(timeout=10)
    await api.settle()
    assert [m.text for m in anna.messages] == [f"Notice for {anna.chat_id}"]
    assert [m.text for m in boris.messages] == [f"Notice for {boris.chat_id}"]
    edited = next(m for m in organizer.messages if m.message_id == stats.message_id)
    assert "🔁 Повторить недоставленные (2)" not in edited.button_texts()
    assert "🔁 Повторить отклонённые (1)" in edited.button_texts()
    assert await services.outbox.dead_by_reason() == {DeadReason.REFUSED: 1}
    audit = await services.db.fetchall("SELECT actor_id, action, subject FROM audit_log")
    assert [tuple(row) for row in audit] == [(ORGANIZER, "retry_dead", "expired")]


async def three_dead_letters(database: Path, clock: ManualClock) -> None:
    db = Database(database)
    await db.connect()
    try:
        await db.migrate()
        outbox = OutboxRepository(db, clock)
        await outbox.enqueue_many(Outgoing(chat, Rendered("x")) for chat in (1, 2, 3))
        reasons = [DeadReason.REFUSED, DeadReason.EXPIRED, DeadReason.EXPIRED]
        for item, reason in zip(await outbox.claim(clock.now(), 3), reasons, strict=True):
            await outbox.dead_letter(item.id, "failed", reason)
    finally:
        await db.close()


def test_cli_retry_dead_owes_dead_letters_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], clock: ManualClock
) -> None:
    database = tmp_path / "dead.db"
    asyncio.run(three_dead_letters(database, clock))
    assert main(["stats", "--db", str(database)]) == 0
    assert "dead letters: 3 (expired 2, refused 1; matchmaker retry-dead)" in (
        capsys.readouterr().out
    )
    assert main(["retry-dead", "--db", str(database), "--reason", "expired"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2 dead letter(s) owed again (expired 2)"), out
    assert main(["retry-dead", "--db", str(database)]) == 0
    assert capsys.readouterr().out.startswith("1 dead letter(s) owed again (refused 1)")
    assert main(["retry-dead", "--db", str(database)]) == 0
    assert capsys.readouterr().out.startswith("0 dead letter(s) owed again;")
    assert main(["retry-dead", "--db", str(tmp_path / "missing.db")]) == 2


async def test_a_reminder_owed_while_the_bot_was_down_is_not_sent_after_its_meeting_began(
    api: FakeBotApi, bot: BotApplication, clock: ManualClock
) -> None:
    services = services_of(bot)
    stale, fresh = api.user(5401, "Stale"), api.user(5402, "Fresh")
    await services.delivery.sender.stop()  # the bot is down
    for user, minutes in ((stale, 5), (fresh, 30)):
        await services.outbox.enqueue(
            user.chat_id,
            Rendered(f"Your meeting starts in {minutes} minutes"),
            priority=Priority.REMINDER,
            expires_at=clock.now() + dt.timedelta(minutes=minutes),
        )
    clock.advance(dt.timedelta(minutes=10))
    assert bot.bot is not None
    await services.delivery.start(bot.bot)
    await services.delivery.sender.wait_idle(timeout=10)
    await api.settle()
    assert stale.messages == []
    assert [m.text for m in fresh.messages] == ["Your meeting starts in 30 minutes"]
    (letter,) = await services.outbox.dead_letters()
    assert letter.chat_id == stale.chat_id and letter.dead_reason is DeadReason.EXPIRED
    assert letter.attempts == 0, "Telegram was not asked"
