"""The venue board's view: per table the meeting now and the next one, no contacts."""

from __future__ import annotations

import dataclasses
import datetime as dt

from bot.domain.board import BoardPerson, board_view
from bot.domain.guests import GuestKind
from bot.domain.meetings import Meeting, MeetingState
from bot.domain.ratelimit import RateLimit

T0 = dt.datetime(2026, 11, 24, 1, 30, tzinfo=dt.UTC)
SLOT = dt.timedelta(minutes=20)
PEOPLE = {
    1: BoardPerson("Anna", "TPU", "RU"),
    2: BoardPerson("李伟", "清华", "CN"),
    3: BoardPerson("ليلى", None, "SA"),
}


def meeting(mid: int, table: str, start: dt.datetime, a: int = 1, b: int = 2) -> Meeting:
    return Meeting(
        id=mid, requester_id=a, invitee_id=b, slot_start=start, slot_end=start + SLOT,
        state=MeetingState.ACCEPTED, table=table, note=None, reason=None, expires_at=start,
        replaces_id=None, created_at=T0, updated_at=T0,
    )  # fmt: skip


def test_now_and_next_per_table_in_schedule_order() -> None:
    meetings = [
        meeting(1, "A2", T0 + SLOT, 1, 3),
        meeting(2, "A1", T0),
        meeting(3, "A1", T0 + 2 * SLOT, 3, 2),
        meeting(4, "A1", T0 + SLOT * 3),
    ]
    views = board_view(["A1", "A2", "A3"], meetings, PEOPLE, T0 + dt.timedelta(minutes=5))
    assert [v.name for v in views] == ["A1", "A2", "A3"]
    a1, a2, a3 = views
    assert a1.now is not None and [p.name for p in a1.now.people] == ["Anna", "李伟"]
    assert a1.next is not None and a1.next.start == T0 + 2 * SLOT
    assert a2.now is None and a2.next is not None and a2.next.people[1].name == "ليلى"
    assert a3.now is None and a3.next is None


def test_ended_cancelled_and_unknown_tables_are_left_out() -> None:
    cancelled = dataclasses.replace(meeting(2, "A1", T0 + SLOT), state=MeetingState.CANCELLED)
    meetings = [meeting(1, "A1", T0 - SLOT), cancelled, meeting(3, "Z9", T0)]
    (a1,) = board_view(["A1"], meetings, PEOPLE, T0)
    assert a1.now is None and a1.next is None


def test_a_meeting_is_now_until_its_end() -> None:
    (a1,) = board_view(["A1"], [meeting(1, "A1", T0)], PEOPLE, T0 + SLOT - dt.timedelta(seconds=1))
    assert a1.now is not None
    (a1,) = board_view(["A1"], [meeting(1, "A1", T0)], PEOPLE, T0 + SLOT)
    assert a1.now is None


def test_the_board_carries_no_contact_field() -> None:
    assert {f.name for f in dataclasses.fields(BoardPerson)} == {"name", "organization", "country"}


def test_rate_limit_allows_a_burst_then_refills() -> None:
    limit = RateLimit(burst=3, per_second=1.0)
    assert [limit.allow(7, T0) for _ in range(4)] == [True, True, True, False]
    assert limit.allow(8, T0), "another user has their own budget"
    assert not limit.allow(7, T0 + dt.timedelta(seconds=0.5))
    assert limit.allow(7, T0 + dt.timedelta(seconds=1.5))


def test_rate_limit_forgets_full_buckets_when_it_holds_too_many() -> None:
    limit = RateLimit(burst=2, per_second=1.0, max_keys=2)
    limit.allow(1, T0)
    limit.allow(2, T0)
    assert limit.allow(3, T0 + dt.timedelta(seconds=10))
    assert len(limit._buckets) <= 2


def test_guests_follow_the_two_at_their_table_in_seat_order() -> None:
    people = {**PEOPLE, 4: BoardPerson("Sara", "TPU", "RU"), 5: BoardPerson("Omar", None, "EG")}
    seated = {
        1: [(5, GuestKind.INTERPRETER), (4, GuestKind.COLLEAGUE)],
        9: [(4, GuestKind.COLLEAGUE)],
    }
    (a1,) = board_view(["A1"], [meeting(1, "A1", T0)], people, T0, seated)
    assert a1.now is not None
    assert [p.name for p in a1.now.people] == ["Anna", "李伟"]
    assert [(g.person.name, g.interpreter) for g in a1.now.guests] == [
        ("Omar", True),
        ("Sara", False),
    ]
    # A guest whose profile is gone is left out; a meeting without guests has none.
    (a1,) = board_view(["A1"], [meeting(1, "A1", T0)], PEOPLE, T0, seated)
    assert a1.now is not None and a1.now.guests == ()
    (a1,) = board_view(["A1"], [meeting(2, "A1", T0)], people, T0, seated)
    assert a1.now is not None and a1.now.guests == ()
