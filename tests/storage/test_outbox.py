"""The outbox repository: written with the change that caused it, claimed in order."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.domain.clock import ManualClock, from_iso
from bot.domain.crash import EXIT_CODE
from bot.domain.outbox import DeadReason, Outgoing, Priority, Rendered, State, TemplateRef
from storage.db import Database, migration_files
from storage.delegates import DelegateRepository
from storage.outbox import RETRY_WINDOW, OutboxRepository

ROOT = Path(__file__).resolve().parents[2]
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def outbox(db: Database, clock: ManualClock) -> OutboxRepository:
    return OutboxRepository(db, clock)


async def test_a_failed_transaction_takes_its_messages_with_it(
    db: Database, clock: ManualClock, outbox: OutboxRepository
) -> None:
    delegates = DelegateRepository(db, clock)
    with pytest.raises(RuntimeError):
        async with db.transaction():
            delegate = await delegates.start_draft(5, 5)
            await outbox.enqueue(5, Rendered("Your meeting is confirmed"), delegate_id=delegate.id)
            raise RuntimeError("the booking failed after the message was written")
    assert await db.fetchval("SELECT count(*) FROM delegates") == 0
    assert await db.fetchval("SELECT count(*) FROM outbox") == 0

    async with db.transaction():
        delegate = await delegates.start_draft(5, 5)
        item_id = await outbox.enqueue(5, Rendered("Confirmed"), delegate_id=delegate.id)
    assert item_id is not None
    stored = await outbox.get(item_id)
    assert stored is not None and stored.state is State.PENDING
    assert stored.not_before == clock.now() and stored.delegate_id == delegate.id


async def test_a_dedupe_key_is_used_once(outbox: OutboxRepository) -> None:
    first = await outbox.enqueue(1, Rendered("Reminder"), dedupe_key="reminder:7:15m")
    again = await outbox.enqueue(1, Rendered("Reminder"), dedupe_key="reminder:7:15m")
    other = await outbox.enqueue(1, Rendered("Reminder"), dedupe_key="reminder:8:15m")
    assert first is not None and again is None and other is not None
    added = await outbox.enqueue_many(
        Outgoing(chat, Rendered("News"), Priority.BROADCAST, dedupe_key=f"news:1:{chat}")
        for chat in (1, 2, 3, 2)
    )
    assert added == 3
    assert (await outbox.counts())[State.PENDING] == 5


async def test_claims_follow_priority_then_due_time_and_skip_the_future(
    clock: ManualClock, outbox: OutboxRepository
) -> None:
    now = clock.now()
    broadcast = await outbox.enqueue(1, Rendered("b"), priority=Priority.BROADCAST)
    late_notice = await outbox.enqueue(2, Rendered("n2"), not_before=now - MINUTE)
    early_notice = await outbox.enqueue(3, Rendered("n1"), not_before=now - 5 * MINUTE)
    reminder = await outbox.enqueue(4, Rendered("r"), priority=Priority.REMINDER)
    future = await outbox.enqueue(
        5, Rendered("later"), priority=Priority.REMINDER, not_before=now + 10 * MINUTE
    )
    claimed = await outbox.claim(now, limit=3)
    assert [item.id for item in claimed] == [reminder, early_notice, late_notice]
    assert all(item.state is State.SENDING for item in claimed)
    assert [item.id for item in await outbox.claim(now, limit=10)] == [broadcast]
    assert await outbox.claim(now, limit=10) == []
    assert await outbox.count_due(now) == 0
    assert await outbox.count_due(now + 10 * MINUTE) == 1
    assert await outbox.next_due() == now + 10 * MINUTE
    assert [item.id for item in await outbox.claim(now + 10 * MINUTE)] == [future]


async def test_outcomes_and_crash_recovery(clock: ManualClock, outbox: OutboxRepository) -> None:
    ids = [await outbox.enqueue(chat, Rendered(f"m{chat}")) for chat in range(1, 6)]
    claimed = await outbox.claim(clock.now(), limit=5)
    assert len(claimed) == 5
    await outbox.mark_sent(claimed[0].id, 101)
    await outbox.retry_later(claimed[1].id, clock.now() + MINUTE, "NetworkError: 502")
    await outbox.dead_letter(claimed[2].id, "BadRequest: chat not found", DeadReason.REFUSED)
    await outbox.release(claimed[3].id)
    counts = await outbox.counts()
    assert counts[State.SENT] == 1 and counts[State.DEAD] == 1 and counts[State.SENDING] == 1
    assert counts[State.PENDING] == 2

    sent = await outbox.get(claimed[0].id)
    assert sent is not None and sent.message_id == 101 and sent.sent_at == clock.now()
    assert not await outbox.mark_sent(claimed[0].id, 101), "a settled item is not marked twice"
    retried = await outbox.get(claimed[1].id)
    assert retried is not None and retried.attempts == 1 and retried.last_error
    assert retried.not_before == clock.now() + MINUTE

    # A crash left claimed[4] 'sending': on start it goes back to pending.
    assert await outbox.requeue_in_flight() == 1
    assert (await outbox.counts())[State.SENDING] == 0
    assert ids[4] in [item.id for item in await outbox.claim(clock.now(), limit=5)]


async def test_dead_letters_are_listed_counted_and_retried(
    clock: ManualClock, outbox: OutboxRepository
) -> None:
    for chat in (1, 2):
        await outbox.enqueue(chat, Rendered("x"))
    for item in await outbox.claim(clock.now(), limit=2):
        await outbox.dead_letter(item.id, f"gave up on {item.chat_id}", DeadReason.EXPIRED)
    assert await outbox.count_dead() == 2
    letters = await outbox.dead_letters()
    assert {item.last_error for item in letters} == {"gave up on 1", "gave up on 2"}
    assert {item.dead_reason for item in letters} == {DeadReason.EXPIRED}
    assert await outbox.dead_by_reason() == {DeadReason.EXPIRED: 2}
    assert await outbox.retry_dead([letters[0].id]) == 1
    assert await outbox.retry_dead() == 1
    assert await outbox.count_dead() == 0
    retried = await outbox.claim(clock.now(), limit=2)
    assert all(item.attempts == 0 and item.dead_reason is None for item in retried)
    # A retried letter has a fresh window: its old expiry had passed.
    assert all(item.expires_at == clock.now() + RETRY_WINDOW for item in retried)


async def test_dead_letters_are_retried_by_reason(
    clock: ManualClock, outbox: OutboxRepository
) -> None:
    for chat in (1, 2, 3):
        await outbox.enqueue(chat, Rendered("x"))
    reasons = [DeadReason.REFUSED, DeadReason.EXPIRED, DeadReason.EXPIRED]
    for item, reason in zip(await outbox.claim(clock.now(), limit=3), reasons, strict=True):
        await outbox.dead_letter(item.id, "x", reason)
    assert await outbox.dead_by_reason() == {DeadReason.REFUSED: 1, DeadReason.EXPIRED: 2}
    assert len(await outbox.dead_letters(reason=DeadReason.REFUSED)) == 1
    assert await outbox.retry_dead(reason=DeadReason.EXPIRED) == 2
    assert await outbox.dead_by_reason() == {DeadReason.REFUSED: 1}
    assert await outbox.count_due(clock.now()) == 2


async def test_blocking_marks_the_delegate_and_drops_what_is_owed(
    db: Database, clock: ManualClock, outbox: OutboxRepository
) -> None:
    delegates = DelegateRepository(db, clock)
    blocked = await delegates.start_draft(10, 10)
    await delegates.start_draft(11, 11)
    for chat in (10, 10, 11):
        await outbox.enqueue(chat, Rendered("hello"))
    assert await outbox.mark_unreachable(10, "Forbidden: bot was blocked by the user") == 2
    again = await delegates.get(blocked.id)
    assert again is not None and not again.reachable
    counts = await outbox.counts()
    assert counts[State.DROPPED] == 2 and counts[State.PENDING] == 1
    assert await outbox.mark_reachable(10)
    again = await delegates.get(blocked.id)
    assert again is not None and again.reachable


async def test_recipient_and_template_round_trip(
    db: Database, clock: ManualClock, outbox: OutboxRepository
) -> None:
    delegates = DelegateRepository(db, clock)
    draft = await delegates.start_draft(20, 20)
    await delegates.update(draft.id, locale="ko")
    await outbox.enqueue(
        20, TemplateRef("match.notice", {"name": "Ан", "score": 3}), priority=Priority.NOTICE
    )
    (item,) = await outbox.claim(clock.now())
    assert item.content == TemplateRef("match.notice", {"name": "Ан", "score": 3})
    recipient = await outbox.recipient(item)
    assert recipient is not None and recipient.locale == "ko" and recipient.reachable
    await outbox.mark_sent(item.id, 1)
    await delegates.erase(draft.id)
    await outbox.enqueue(20, Rendered("after erasure"), delegate_id=draft.id)
    (late,) = await outbox.claim(clock.now())
    erased = await outbox.recipient(late)
    assert erased is not None and not erased.reachable


async def test_a_chat_gets_one_item_at_a_time_in_order(
    clock: ManualClock, outbox: OutboxRepository
) -> None:
    first = await outbox.enqueue(1, Rendered("first"))
    second = await outbox.enqueue(1, Rendered("second"))
    urgent = await outbox.enqueue(1, Rendered("urgent"), priority=Priority.REMINDER)
    other = await outbox.enqueue(2, Rendered("other"))
    claimed = await outbox.claim(clock.now(), limit=10)
    assert [item.id for item in claimed] == [urgent, other]
    assert await outbox.claim(clock.now(), limit=10) == []
    await outbox.mark_sent(urgent, 1)  # type: ignore[arg-type]
    assert [item.id for item in await outbox.claim(clock.now(), limit=10)] == [first]
    await outbox.mark_sent(first, 2)  # type: ignore[arg-type]
    assert [item.id for item in await outbox.claim(clock.now(), limit=10)] == [second]


async def test_the_schema_refuses_inconsistent_rows(db: Database, clock: ManualClock) -> None:
    now = clock.now().isoformat()
    base = "INSERT INTO outbox (chat_id, priority, text, template, state, not_before, " \
           "created_at, updated_at, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"  # fmt: skip
    bad_rows = [
        (1, 30, "text", "and.template", "pending", now, now, now, None),
        (1, 30, None, None, "pending", now, now, now, None),
        (1, 30, "text", None, "lost", now, now, now, None),
        (1, 0, "text", None, "pending", now, now, now, None),
        (1, 30, "text", None, "sent", now, now, now, None),
        (1, 30, "", None, "pending", now, now, now, None),
    ]
    for row in bad_rows:
        with pytest.raises(sqlite3.IntegrityError):
            await db.execute(base, row)


def test_a_crash_inside_the_transaction_keeps_neither_change_nor_message(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import asyncio, sys
        from bot.domain.clock import ManualClock
        from bot.domain.outbox import Rendered
        from storage.db import Database
        from storage.delegates import DelegateRepository
        from storage.outbox import OutboxRepository
        from tests.conftest import EVENT_START

        async def main(path):
            db = Database(path)
            await db.connect()
            await db.migrate()
            clock = ManualClock(EVENT_START)
            async with db.transaction():
                delegate = await DelegateRepository(db, clock).start_draft(9, 9)
                await OutboxRepository(db, clock).enqueue(9, Rendered("hi"),
                                                          delegate_id=delegate.id)
                print("not reached", flush=True)

        asyncio.run(main(sys.argv[1]))
        """
    )
    path = tmp_path / "crash.db"
    result = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, cwd=ROOT,
        timeout=60, env={"MATCHMAKER_CRASH_AT": "outbox.enqueued", "PATH": ""},
    )  # fmt: skip
    assert result.returncode == EXIT_CODE, result.stderr
    assert "not reached" not in result.stdout
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM delegates").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM outbox").fetchone() == (0,)


async def test_a_message_owed_for_later_expires_a_horizon_after_it_is_due(
    clock: ManualClock, outbox: OutboxRepository
) -> None:
    later = clock.now() + dt.timedelta(hours=3)
    delayed = await outbox.enqueue(1, Rendered("x"), priority=Priority.NOTICE, not_before=later)
    now = await outbox.enqueue(2, Rendered("y"), priority=Priority.NOTICE)
    reminder = await outbox.enqueue(
        3, Rendered("z"), priority=Priority.REMINDER, not_before=later, expires_at=later
    )
    items = {i: await outbox.get(i or 0) for i in (delayed, now, reminder)}
    assert items[delayed] is not None and items[delayed].expires_at == later + 6 * HOUR
    assert items[now] is not None and items[now].expires_at is None
    assert items[reminder] is not None and items[reminder].expires_at == later


async def test_migration_9_gives_old_dead_letters_their_reason(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        for version, _, sql in migration_files():
            if version >= 9:
                break
            conn.executescript(f"BEGIN;\n{sql}\n;PRAGMA user_version = {version};\nCOMMIT;")
        stamp = "2026-11-24T01:00:00.000000+00:00"
        for n, error in enumerate(
            ("BadRequest: chat not found", "render failed: KeyError('x')", "NetworkError: 502")
        ):
            conn.execute(
                "INSERT INTO outbox (chat_id, priority, text, not_before, created_at, updated_at, "
                "attempts, state, last_error) VALUES (?, 30, 'x', ?, ?, ?, 5, 'dead', ?)",
                (n, stamp, stamp, stamp, error),
            )
        conn.commit()
    db = Database(path)
    await db.connect()
    try:
        await db.migrate()
        outbox = OutboxRepository(db, ManualClock(from_iso(stamp)))
        assert await outbox.dead_by_reason() == {
            DeadReason.REFUSED: 1,
            DeadReason.EXPIRED: 1,
            DeadReason.RENDER: 1,
        }
    finally:
        await db.close()
