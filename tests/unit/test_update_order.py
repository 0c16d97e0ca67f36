"""Per-user update order: one person's updates in turn, different people side by side."""

from __future__ import annotations

import asyncio
import datetime as dt

from telegram import Chat, Message, Update, User

from bot.transport.update_order import PerUserUpdateProcessor, owner_of


def update_from(user_id: int, update_id: int) -> Update:
    user = User(user_id, f"U{user_id}", is_bot=False)
    chat = Chat(user_id, Chat.PRIVATE)
    message = Message(
        update_id,
        dt.datetime(2026, 11, 24, tzinfo=dt.UTC),
        chat,
        from_user=user,
        text=str(update_id),
    )
    return Update(update_id, message=message)


def test_the_owner_is_the_user_then_the_chat() -> None:
    assert owner_of(update_from(7, 1)) == 7
    assert owner_of(Update(2)) is None
    assert owner_of("not an update") is None


async def test_one_users_updates_run_in_order_while_others_run_alongside() -> None:
    processor = PerUserUpdateProcessor(running=8)
    log: list[tuple[int, str, int]] = []
    release = asyncio.Event()

    async def handle(update: Update, *, wait: bool) -> None:
        assert update.effective_user is not None
        who = update.effective_user.id
        log.append((who, "start", update.update_id))
        if wait:
            await release.wait()
        await asyncio.sleep(0)
        log.append((who, "end", update.update_id))

    # Alice's first update waits; her next two must wait for it, Bob's must not.
    alice = [update_from(1, n) for n in (1, 2, 3)]
    bob = update_from(2, 4)
    tasks = [
        asyncio.create_task(processor.process_update(u, handle(u, wait=u.update_id == 1)))
        for u in [*alice, bob]
    ]
    await asyncio.sleep(0.05)
    assert (2, "end", 4) in log
    assert [entry for entry in log if entry[0] == 1] == [(1, "start", 1)]
    release.set()
    await asyncio.gather(*tasks)
    assert [entry for entry in log if entry[0] == 1] == [
        (1, "start", 1), (1, "end", 1), (1, "start", 2), (1, "end", 2),
        (1, "start", 3), (1, "end", 3),
    ]  # fmt: skip
    assert processor.busy_owners == 0


async def test_the_running_limit_counts_only_updates_at_work() -> None:
    processor = PerUserUpdateProcessor(running=2)
    running = 0
    peak = 0

    async def work() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1

    # Twenty updates from one person queue in their lane; five other people still get through.
    spam = [update_from(1, n) for n in range(20)]
    others = [update_from(100 + n, 100 + n) for n in range(5)]
    tasks = [asyncio.create_task(processor.process_update(u, work())) for u in spam + others]
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert peak == 2
