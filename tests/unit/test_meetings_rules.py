"""Meeting rules: who may do what in which state, languages, booking tokens, overlaps."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bot.domain.links import is_booking_token, new_booking_token
from bot.domain.meetings import (
    Action,
    InvalidCounterpart,
    Meeting,
    MeetingClosed,
    MeetingState,
    NotYourMeeting,
    check_action,
    check_counterpart,
    overlapping_requests,
    shared_languages,
)

T = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)


def meeting(id: int = 1, requester: int = 1, invitee: int = 2, **changes: object) -> Meeting:
    base = Meeting(
        id=id, requester_id=requester, invitee_id=invitee, slot_start=T,
        slot_end=T + dt.timedelta(minutes=20), state=MeetingState.REQUESTED, table=None,
        note=None, reason=None, expires_at=T, replaces_id=None, created_at=T, updated_at=T,
    )  # fmt: skip
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("state", "actor", "action", "error"),
    [
        (MeetingState.REQUESTED, 2, Action.ACCEPT, None),
        (MeetingState.REQUESTED, 1, Action.ACCEPT, NotYourMeeting),  # the requester cannot
        (MeetingState.REQUESTED, 3, Action.ACCEPT, NotYourMeeting),  # a stranger cannot
        (MeetingState.REQUESTED, 2, Action.DECLINE, None),
        (MeetingState.REQUESTED, 2, Action.PROPOSE, None),
        (MeetingState.ACCEPTED, 2, Action.ACCEPT, MeetingClosed),  # pressed twice
        (MeetingState.EXPIRED, 2, Action.ACCEPT, MeetingClosed),
        (MeetingState.WITHDRAWN, 2, Action.DECLINE, MeetingClosed),
        (MeetingState.ACCEPTED, 1, Action.CANCEL, None),
        (MeetingState.ACCEPTED, 2, Action.CANCEL, None),
        (MeetingState.ACCEPTED, 3, Action.CANCEL, NotYourMeeting),
        (MeetingState.REQUESTED, 1, Action.CANCEL, MeetingClosed),
        (MeetingState.CANCELLED, 1, Action.RESCHEDULE, MeetingClosed),
        (MeetingState.ACCEPTED, 1, Action.RESCHEDULE, None),
        (MeetingState.ACCEPTED, 2, Action.FEEDBACK, None),
    ],
)
def test_who_may_do_what(
    state: MeetingState, actor: int, action: Action, error: type[Exception] | None
) -> None:
    m = meeting(state=state)
    if error is None:
        check_action(m, actor, action)
    else:
        with pytest.raises(error):
            check_action(m, actor, action)


def test_nobody_meets_themselves() -> None:
    with pytest.raises(InvalidCounterpart):
        check_counterpart(4, 4)
    check_counterpart(4, 5)


@pytest.mark.parametrize(
    ("mine", "theirs", "shared"),
    [(("en", "ru"), ("ru", "zh"), ("ru",)), (("zh",), ("en",), ()), (("en",), ("en",), ("en",))],
)
def test_shared_languages(
    mine: tuple[str, ...], theirs: tuple[str, ...], shared: tuple[str, ...]
) -> None:
    assert shared_languages(mine, theirs) == shared


def test_booking_tokens_are_random_and_distinct_from_claim_tokens() -> None:
    tokens = {new_booking_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(is_booking_token(t) and len(t) <= 64 for t in tokens)
    assert not is_booking_token("c_" + next(iter(tokens))[2:])
    assert not is_booking_token("b_123")
    assert not is_booking_token("b_" + "x" * 21 + "!")


def test_accepting_withdraws_overlapping_requests_of_either_person() -> None:
    accepted = meeting(1, 1, 2, state=MeetingState.ACCEPTED)
    same_invitee = meeting(2, 3, 2)
    same_requester = meeting(3, 1, 4)
    other_slot = meeting(4, 3, 2, slot_start=T + dt.timedelta(minutes=20))
    strangers = meeting(5, 5, 6)
    found = overlapping_requests(
        accepted, [accepted, same_invitee, same_requester, other_slot, strangers]
    )
    assert [m.id for m in found] == [2, 3]


def test_other_refuses_strangers() -> None:
    m = meeting()
    assert m.other(1) == 2 and m.other(2) == 1
    with pytest.raises(NotYourMeeting):
        m.other(9)


def test_another_language_is_never_shared() -> None:
    from bot.domain.languages import OTHER_LANGUAGE
    from bot.domain.meetings import shared_languages

    assert shared_languages(("ru", OTHER_LANGUAGE), ("tg", OTHER_LANGUAGE)) == ()
    assert shared_languages(("tg", "ru"), ("ru", "tg")) == ("tg", "ru")
