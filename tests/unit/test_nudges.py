"""The rules of nudges, the evening agenda and the outcome follow-up: who and what is due when."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.domain.followup import (
    ASK_WINDOW,
    Ended,
    FollowupPolicy,
    Result,
    meeting_result,
    parse_followup,
    questions_due,
    was_held,
)
from bot.domain.meetings import Outcome
from bot.domain.nudges import (
    NudgePolicy,
    PolicyError,
    agenda_day,
    needs_nudge,
    nudge_day,
    nudge_days,
    parse_nudges,
)
from bot.domain.scheduling import parse_schedule

ZONE = ZoneInfo("Asia/Shanghai")
SCHEDULE = parse_schedule(
    {"days": "2026-11-24..2026-11-25", "sessions": ["09:30-12:00", "14:00-17:30"]}, zone=ZONE
)
POLICY = NudgePolicy()  # 11:00, one day before, agenda at 19:00


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=ZONE).astimezone(dt.UTC)


def test_nudge_days_are_the_days_before_and_each_event_day() -> None:
    assert nudge_days(SCHEDULE, POLICY) == (
        dt.date(2026, 11, 23), dt.date(2026, 11, 24), dt.date(2026, 11, 25),
    )  # fmt: skip
    assert nudge_days(SCHEDULE, NudgePolicy(days_before=0)) == SCHEDULE.days
    assert nudge_days(SCHEDULE, NudgePolicy(at=None)) == ()


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (at(22, 12), None),  # two days before: not a nudge day
        (at(23, 10, 59), None),  # not yet the hour
        (at(23, 11), dt.date(2026, 11, 23)),
        (at(23, 23, 59), dt.date(2026, 11, 23)),  # before the event: until midnight
        (at(24, 11), dt.date(2026, 11, 24)),
        (at(24, 16, 59), dt.date(2026, 11, 24)),  # the last slot (17:00) not begun yet
        (at(24, 17), None),  # nothing left to book that day
        (at(26, 11), None),  # after the event
    ],
)
def test_a_nudge_day_is_due_from_its_hour_until_nothing_is_left_to_book(
    moment: dt.datetime, day: dt.date | None
) -> None:
    due = nudge_day(SCHEDULE, POLICY, moment)
    assert (due.day if due else None) == day
    if due is not None:
        assert due.starts == at(due.day.day, 0)
        assert due.starts <= moment < due.expires_at


def test_who_is_nudged() -> None:
    assert needs_nudge(wants_nudges=True, booked_from_today=0, suggestions=3)
    assert not needs_nudge(wants_nudges=False, booked_from_today=0, suggestions=3)  # opted out
    assert not needs_nudge(wants_nudges=True, booked_from_today=1, suggestions=3)  # booked
    assert not needs_nudge(wants_nudges=True, booked_from_today=0, suggestions=0)  # nobody


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (at(23, 18, 59), None),
        (at(23, 19), dt.date(2026, 11, 24)),
        (at(24, 9, 29), dt.date(2026, 11, 24)),  # a bot down all evening still sends it
        (at(24, 9, 30), None),  # the day has begun
        (at(24, 19), dt.date(2026, 11, 25)),
        (at(25, 19), None),  # no event day after
    ],
)
def test_the_agenda_is_due_from_the_evening_before_until_the_day_begins(
    moment: dt.datetime, day: dt.date | None
) -> None:
    due = agenda_day(SCHEDULE, POLICY, moment)
    assert (due.day if due else None) == day
    if due is not None:
        assert due.expires_at == SCHEDULE.slots_on(due.day)[0].start
    assert agenda_day(SCHEDULE, NudgePolicy(agenda_at=None), moment) is None


def test_the_nudges_table_is_read_and_checked() -> None:
    assert parse_nudges(None) == NudgePolicy()
    policy = parse_nudges({"at": "10:30", "days_before": 0, "agenda_at": "off"})
    assert policy == NudgePolicy(at=dt.time(10, 30), days_before=0, agenda_at=None)
    for bad in ({"at": "25:00"}, {"days_before": -1}, {"days_before": True}, {"when": "1"}):
        with pytest.raises(PolicyError):
            parse_nudges(bad)


END = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)


def ended(*answers: Outcome) -> Ended:
    return Ended(7, END, (1, 2), answers)


def test_a_meeting_counts_as_held_unless_its_answers_agree_it_was_missed() -> None:
    assert was_held(())
    assert was_held((Outcome.HELD,))
    assert was_held((Outcome.HELD, Outcome.NO_SHOW))  # disputed: ask anyway
    assert not was_held((Outcome.NO_SHOW,))
    assert not was_held((Outcome.LATE_CANCEL, Outcome.LATE_CANCEL))


def test_both_sides_are_asked_at_each_stage_within_its_window() -> None:
    policy = FollowupPolicy((90, 180))
    day = dt.timedelta(days=1)
    assert questions_due([ended()], policy, END + 90 * day - dt.timedelta(seconds=1)) == []
    assert questions_due([ended()], policy, END + 90 * day) == [(7, 1, 90), (7, 2, 90)]
    assert questions_due([ended()], policy, END + 90 * day + ASK_WINDOW) == []
    assert questions_due([ended()], policy, END + 181 * day) == [(7, 1, 180), (7, 2, 180)]
    assert questions_due([ended(Outcome.NO_SHOW)], policy, END + 90 * day) == []


def test_a_meeting_result_is_the_furthest_any_side_reports() -> None:
    assert meeting_result([]) is None
    assert meeting_result([Result.NOTHING, Result.CONTINUING]) is Result.CONTINUING
    assert meeting_result([Result.CONTINUING, Result.JOINT_RD]) is Result.JOINT_RD
    assert meeting_result([Result.NOTHING]) is Result.NOTHING


def test_the_followup_table_is_read_and_checked() -> None:
    assert parse_followup(None) == FollowupPolicy((90, 180))
    assert parse_followup({"after_days": [180, 90]}).after_days == (90, 180)
    assert parse_followup({"after_days": []}).after_days == ()
    for bad in ({"after_days": [0]}, {"after_days": ["90"]}, {"after_days": [90, 95]},
                {"months": [3]}):  # fmt: skip
        with pytest.raises(PolicyError):
            parse_followup(bad)
