"""Outbox rules: sending order, retries, content that can be stored, Telegram's pacing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pytest

from bot.domain.outbox import (
    DEFAULT_HORIZONS,
    OutageGate,
    OutboxItem,
    Outgoing,
    Permit,
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
    parse_horizons,
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
    policy = RetryPolicy()
    assert policy.delay(failures) == dt.timedelta(seconds=delay_seconds)


def _failed(
    priority: Priority, attempts: int, *, expires_at: dt.datetime | None = None
) -> OutboxItem:
    return dataclasses.replace(
        _item(1, priority, 0), attempts=attempts, created_at=NOW, expires_at=expires_at
    )


@pytest.mark.parametrize(
    ("priority", "attempts", "minutes_later", "retry_in"),
    [
        # The audit's defect: the fifth failure was the last; now a broadcast keeps going.
        (Priority.BROADCAST, 4, 1, dt.timedelta(seconds=32)),
        (Priority.BROADCAST, 50, 60, dt.timedelta(minutes=5)),
        (Priority.BROADCAST, 50, 11 * 60 + 58, dt.timedelta(seconds=119)),  # not past 12 h
        (Priority.BROADCAST, 50, 12 * 60, None),
        (Priority.CONFIRMATION, 20, 5 * 60, dt.timedelta(minutes=5)),
        (Priority.NOTICE, 20, 6 * 60, None),
    ],
)
def test_transient_failures_are_retried_until_the_kinds_horizon(
    priority: Priority, attempts: int, minutes_later: int, retry_in: dt.timedelta | None
) -> None:
    now = NOW + dt.timedelta(minutes=minutes_later)
    expected = None if retry_in is None else now + retry_in
    assert RetryPolicy().after_failure(_failed(priority, attempts), now) == expected


def test_a_reminder_is_retried_until_its_meeting_starts_and_not_after() -> None:
    starts = NOW + dt.timedelta(minutes=10)
    reminder = _failed(Priority.REMINDER, 30, expires_at=starts)
    policy = RetryPolicy()
    assert policy.deadline(reminder) == starts
    assert policy.after_failure(reminder, NOW) == NOW + dt.timedelta(minutes=5)
    last_chance = starts - dt.timedelta(seconds=1)
    assert policy.after_failure(reminder, starts - dt.timedelta(seconds=30)) == last_chance
    assert policy.after_failure(reminder, last_chance) is None
    assert policy.after_failure(reminder, starts) is None


def test_horizons_are_configurable_by_kind() -> None:
    horizons = parse_horizons("broadcast=2d, notice=90m")
    assert horizons[Priority.BROADCAST] == dt.timedelta(days=2)
    assert horizons[Priority.NOTICE] == dt.timedelta(minutes=90)
    assert horizons[Priority.CONFIRMATION] == DEFAULT_HORIZONS[Priority.CONFIRMATION]
    policy = RetryPolicy(horizons=horizons)
    assert policy.deadline(_failed(Priority.BROADCAST, 1)) == NOW + dt.timedelta(days=2)
    for bad in ("broadcast", "reply=1h", "notice=0h", "notice=1w", "notice=-3m"):
        with pytest.raises(ValueError):
            parse_horizons(bad)


def test_the_outage_gate_lets_one_probe_out_and_opens_on_the_first_answer() -> None:
    gate = OutageGate()
    assert gate.permit(NOW) is Permit.SEND
    gate.failed(NOW, Permit.SEND)
    # Other sends of the same moment fail too: the outage is counted once.
    gate.failed(NOW, Permit.SEND)
    assert gate.level == 1 and gate.waiting(NOW)
    assert gate.permit(NOW + dt.timedelta(seconds=1)) is None
    later = NOW + dt.timedelta(seconds=2)
    assert gate.permit(later) is Permit.PROBE
    assert gate.permit(later) is None, "one probe at a time"
    gate.failed(later, Permit.PROBE)
    assert gate.reopens_at == later + dt.timedelta(seconds=4)
    for _ in range(10):
        gate.failed(later, Permit.PROBE)
    assert gate.reopens_at == later + dt.timedelta(seconds=15), "the wait is capped"
    probe_at = later + dt.timedelta(seconds=15)
    assert gate.permit(probe_at) is Permit.PROBE
    gate.withdraw(Permit.PROBE)  # nothing was due
    assert gate.permit(probe_at) is Permit.PROBE
    assert gate.answered(Permit.PROBE) == NOW, "the outage began at the first failure"
    assert not gate.closed and gate.permit(probe_at) is Permit.SEND
    assert gate.answered(Permit.SEND) is None


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
