"""Outbox rules: sending order, retries, content that can be stored, Telegram's pacing."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from bot.domain.outbox import (
    OutboxItem,
    Outgoing,
    Priority,
    Rendered,
    RetryPolicy,
    SendBudget,
    State,
    TemplateRef,
    decode_buttons,
    decode_params,
    encode_buttons,
    encode_params,
    sending_order,
)

NOW = dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC)


def _item(item_id: int, priority: Priority, due_minutes_ago: int) -> OutboxItem:
    return OutboxItem(
        id=item_id, chat_id=item_id, delegate_id=None, priority=priority,
        content=Rendered("hi"), not_before=NOW - dt.timedelta(minutes=due_minutes_ago),
        created_at=NOW, attempts=0, state=State.PENDING, dedupe_key=None, last_error=None,
        sent_at=None, message_id=None,
    )  # fmt: skip


def test_priority_ranks_replies_then_reminders_confirmations_notices_broadcasts() -> None:
    assert (
        Priority.REPLY < Priority.REMINDER < Priority.CONFIRMATION < Priority.NOTICE
        < Priority.BROADCAST
    )  # fmt: skip


def test_sending_order_is_priority_then_longest_due_then_first_written() -> None:
    items = [
        _item(1, Priority.BROADCAST, 60),
        _item(2, Priority.NOTICE, 1),
        _item(3, Priority.REMINDER, 0),
        _item(4, Priority.NOTICE, 5),
        _item(5, Priority.NOTICE, 5),
        _item(6, Priority.CONFIRMATION, 0),
    ]
    assert [item.id for item in sending_order(items)] == [3, 6, 4, 5, 2, 1]


@pytest.mark.parametrize(
    ("failures", "delay_seconds"),
    [(0, 0), (1, 2), (2, 4), (3, 8), (8, 256), (9, 300), (40, 300)],
)
def test_retry_delay_doubles_and_is_capped(failures: int, delay_seconds: int) -> None:
    policy = RetryPolicy(max_attempts=50)
    assert policy.delay(failures) == dt.timedelta(seconds=delay_seconds)


@pytest.mark.parametrize(
    ("failures", "retry_in"),
    [(1, dt.timedelta(seconds=2)), (4, dt.timedelta(seconds=16)), (5, None), (6, None)],
)
def test_after_the_last_attempt_the_item_is_given_up(
    failures: int, retry_in: dt.timedelta | None
) -> None:
    expected = None if retry_in is None else NOW + retry_in
    assert RetryPolicy(max_attempts=5).after_failure(failures, NOW) == expected


def test_buttons_and_params_survive_storage() -> None:
    buttons = (
        (("✅ Accept", "m:acc:12"), ("Decline", "m:dec:12")),
        (("Профиль", "p:show"),),
    )
    assert decode_buttons(encode_buttons(buttons)) == buttons
    assert encode_buttons(()) is None and decode_buttons(None) == ()
    params = {"name": "李明", "slot": "2026-11-24T02:00:00+00:00", "n": 3}
    assert decode_params(encode_params(params)) == params


@pytest.mark.parametrize(
    "params",
    [{"when": NOW}, {"nan": math.nan}, {"set": {1, 2}}],
)
def test_template_params_must_be_json(params: dict[str, object]) -> None:
    with pytest.raises((TypeError, ValueError)):
        TemplateRef("match.notice", params)


def test_what_cannot_go_into_the_outbox() -> None:
    with pytest.raises(ValueError):
        Rendered("")
    with pytest.raises(ValueError):
        TemplateRef("")
    with pytest.raises(ValueError):
        Outgoing(1, Rendered("hi"), Priority.REPLY)
    with pytest.raises(ValueError):
        Outgoing(1, Rendered("hi"), not_before=dt.datetime(2026, 11, 24, 9, 0))  # noqa: DTZ001


def test_budget_spaces_starts_and_waits_for_the_first_finish_plus_a_window() -> None:
    budget = SendBudget(3, window=1.0, chat_gap=None)
    starts = []
    now = 10.0
    for _ in range(3):
        ready = budget.ready_at(now, None)
        assert ready is not None
        now = ready
        starts.append(now)
        budget.start(now, None)
    assert starts == pytest.approx([10.0, 10 + 1 / 3, 10 + 2 / 3])
    # All three in flight: nothing to wait for but a finish.
    assert budget.ready_at(now, None) is None
    budget.finish(10.7, None)
    budget.finish(10.8, None)
    budget.finish(10.9, None)
    assert budget.ready_at(10.9, None) == pytest.approx(11.7)
    budget.start(11.7, None)
    assert budget.ready_at(11.7, None) == pytest.approx(11.7 + 1 / 3)  # spacing, not the window


def test_budget_counts_from_the_finish_so_arrivals_stay_a_window_apart() -> None:
    budget = SendBudget(2, window=1.0, chat_gap=None)
    budget.start(0.0, None)
    budget.start(0.5, None)
    budget.finish(0.8, None)  # a slow answer: Telegram may have counted it as late as 0.8
    budget.finish(0.81, None)
    assert budget.ready_at(1.0, None) == pytest.approx(1.8)


def test_budget_keeps_one_message_per_chat_per_gap_without_blocking_other_chats() -> None:
    budget = SendBudget(30, window=1.0, chat_gap=1.0)
    budget.start(0.0, 7)
    assert budget.ready_at(0.1, 7) is None  # same chat, in flight
    assert budget.ready_at(0.1, 8) == 0.1
    budget.finish(0.05, 7)
    assert budget.ready_at(0.5, 7) == pytest.approx(1.05)
    assert budget.ready_at(0.5, None) == 0.5


def test_a_pause_holds_everything_until_it_ends() -> None:
    budget = SendBudget(30, chat_gap=1.0)
    budget.pause(5.0)
    assert budget.ready_at(1.0, None) == 5.0
    assert budget.ready_at(1.0, 3) == 5.0
    budget.pause(2.0)  # a shorter pause does not shorten the longer one
    assert budget.ready_at(1.0, None) == 5.0


def test_an_unlimited_budget_only_honours_pauses() -> None:
    budget = SendBudget(None, chat_gap=None)
    for _ in range(1000):
        budget.start(0.0, 1)
    assert budget.ready_at(0.0, 1) == 0.0
    budget.pause(1.5)
    assert budget.ready_at(0.0, 1) == 1.5


def test_idle_chats_are_forgotten() -> None:
    budget = SendBudget(None, chat_gap=1.0)
    for chat in range(5000):
        budget.start(float(chat), chat)
        budget.finish(float(chat), chat)
    assert len(budget._chat_free_at) < 5000
    assert budget.ready_at(4999.5, 4999) == pytest.approx(5000.0)
