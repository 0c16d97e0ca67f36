"""Slots from the schedule: zones, breaks, daylight saving, day boundaries, blocks and tables."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.domain.scheduling import (
    Schedule,
    ScheduleError,
    Slot,
    follow_up_due,
    free_slots,
    parse_schedule,
    parse_tables,
    pick_table,
    reminder_due,
    request_expiry,
    slot_key,
    slot_start_from_key,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
DAY = dt.date(2026, 11, 24)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def schedule(**section: object) -> Schedule:
    zone = section.pop("zone", SHANGHAI)
    assert isinstance(zone, ZoneInfo)
    return parse_schedule({"days": [DAY.isoformat()], **section}, zone=zone)


def test_sessions_become_utc_slots_of_the_configured_length() -> None:
    s = schedule(sessions=["09:30-12:00", "14:00-17:30"])
    assert len(s.slots) == 7 + 10
    assert s.slots[0] == Slot(utc(2026, 11, 24, 1, 30), utc(2026, 11, 24, 1, 50))
    # 11:50 would end after 12:00: the last morning slot starts at 11:30 local.
    assert s.local(s.slots[6].start).time() == dt.time(11, 30)
    assert s.local(s.slots[7].start).time() == dt.time(14, 0)
    assert all(slot.start.tzinfo is dt.UTC for slot in s.slots)


def test_breaks_remove_overlapping_slots() -> None:
    s = schedule(sessions=["09:00-11:00"], breaks=["10:00-10:30"], slot_minutes=30)
    starts = [s.local(slot.start).strftime("%H:%M") for slot in s.slots]
    assert starts == ["09:00", "09:30", "10:30"]


def test_a_break_cutting_a_slot_removes_it() -> None:
    s = schedule(sessions=["09:00-10:00"], breaks=["09:25-09:35"], slot_minutes=20)
    assert [s.local(slot.start).strftime("%H:%M") for slot in s.slots] == ["09:00", "09:40"]


@pytest.mark.parametrize(
    ("zone", "day", "session", "expected"),
    [
        # New York leaves daylight saving on 1 Nov 2026: 09:00 is 14:00 UTC, not 13:00.
        (NEW_YORK, "2026-10-31", "09:00-10:00", utc(2026, 10, 31, 13, 0)),
        (NEW_YORK, "2026-11-01", "09:00-10:00", utc(2026, 11, 1, 14, 0)),
        (BERLIN, "2026-03-28", "09:00-10:00", utc(2026, 3, 28, 8, 0)),
        (BERLIN, "2026-03-29", "09:00-10:00", utc(2026, 3, 29, 7, 0)),
        (SHANGHAI, "2026-11-24", "09:00-10:00", utc(2026, 11, 24, 1, 0)),
    ],
)
def test_local_times_follow_the_zone_and_its_daylight_saving(
    zone: ZoneInfo, day: str, session: str, expected: dt.datetime
) -> None:
    s = parse_schedule({"days": [day], "sessions": [session]}, zone=zone)
    assert s.slots[0].start == expected


def test_a_session_across_the_spring_change_holds_the_slots_it_really_lasts() -> None:
    # 01:00-04:00 in Berlin on 29 March 2026 lasts two hours: 02:00 jumps to 03:00.
    s = parse_schedule(
        {"days": ["2026-03-29"], "sessions": ["01:00-04:00"], "slot_minutes": 30}, zone=BERLIN
    )
    assert len(s.slots) == 4
    assert [s.local(x.start).strftime("%H:%M") for x in s.slots] == [
        "01:00", "01:30", "03:00", "03:30",
    ]  # fmt: skip
    assert all(x.end - x.start == dt.timedelta(minutes=30) for x in s.slots)


def test_a_session_across_the_autumn_change_holds_the_repeated_hour() -> None:
    s = parse_schedule(
        {"days": ["2026-10-25"], "sessions": ["01:00-04:00"], "slot_minutes": 60}, zone=BERLIN
    )
    assert len(s.slots) == 4  # 01:00, 02:00 (summer), 02:00 (winter), 03:00


def test_a_late_session_in_the_event_zone_crosses_the_utc_day() -> None:
    s = parse_schedule(
        {"days": ["2026-11-24", "2026-11-25"], "sessions": ["07:00-08:00"]}, zone=SHANGHAI
    )
    # 07:00 in Shanghai is 23:00 UTC the day before; the local day is what counts.
    assert s.slots[0].start == utc(2026, 11, 23, 23, 0)
    assert len(s.slots_on(dt.date(2026, 11, 24))) == 3
    assert len(s.slots_on(dt.date(2026, 11, 25))) == 3
    assert s.slots_on(dt.date(2026, 11, 23)) == []


def test_days_default_to_the_event_dates_and_accept_a_range() -> None:
    s = parse_schedule(
        {"sessions": ["09:00-10:00"]}, zone=SHANGHAI, default_days=(DAY, DAY + dt.timedelta(1))
    )
    assert len(s.days) == 2
    s = parse_schedule({"days": "2026-11-24..2026-11-26", "sessions": ["09:00-10:00"]}, zone=UTC)
    assert len(s.days) == 3


UTC = ZoneInfo("UTC")


def test_free_slots_skip_busy_full_and_past_slots_earliest_first() -> None:
    s = schedule(sessions=["09:00-11:00"], slot_minutes=20)
    starts = [slot.start for slot in s.slots]
    now = starts[1]  # the second slot has begun: it and the first are past
    free = free_slots(s, {starts[2], starts[4]}, now=now, full={starts[3]})
    assert [slot.start for slot in free] == [starts[5]]
    assert free_slots(s, set(), now=starts[0] - dt.timedelta(hours=1), limit=2) == list(
        s.slots[:2]
    )


def test_blocked_slots_are_offered_to_no_one() -> None:
    s = schedule(sessions=["09:00-10:00"])
    blocked = {s.slots[0].start}
    assert s.slots[0] not in free_slots(s, blocked, now=utc(2026, 11, 1))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, ("1", "2", "3")),
        ("A1..A3", ("A1", "A2", "A3")),
        ("T08..T10", ("T08", "T09", "T10")),
        (["VIP", "B1..B2"], ("VIP", "B1", "B2")),
        ("2", ("1", "2")),
    ],
)
def test_tables_as_count_range_or_names(value: object, expected: tuple[str, ...]) -> None:
    assert parse_tables(value) == expected


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"sessions": ["9-12"]}, "sessions"),
        ({"sessions": ["12:00-09:00"]}, "sessions"),
        ({"sessions": ["09:00-12:00", "11:00-13:00"]}, "sessions"),
        ({"tables": 0}, "tables"),
        ({"tables": ["A", "A"]}, "tables"),
        ({"slot_minutes": 2}, "slot_minutes"),
        ({"reminder_minutes": 7}, "reminder_minutes"),
        ({"days": ["24.11.2026"]}, "days"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_sections_name_the_key(section: dict[str, object], key: str) -> None:
    with pytest.raises(ScheduleError) as error:
        parse_schedule(section, zone=SHANGHAI)
    assert error.value.key == key


def test_the_first_free_table_in_order() -> None:
    assert pick_table(("A1", "A2", "A3"), {"A1", "A3"}) == "A2"
    assert pick_table(("A1",), {"A1"}) is None


def test_requests_expire_after_the_wait_and_always_before_the_slot() -> None:
    created = utc(2026, 11, 24, 0, 0)
    ttl = dt.timedelta(hours=12)
    assert request_expiry(created, utc(2026, 11, 25, 2), ttl) == utc(2026, 11, 24, 12)
    assert request_expiry(created, utc(2026, 11, 24, 2), ttl) == utc(2026, 11, 24, 2)


@pytest.mark.parametrize(
    ("minutes", "now", "due"),
    [
        (15, utc(2026, 11, 24, 1, 44), False),
        (15, utc(2026, 11, 24, 1, 45), True),
        (15, utc(2026, 11, 24, 1, 59), True),  # fell due during downtime, meeting still ahead
        (15, utc(2026, 11, 24, 2, 0), False),  # the meeting has begun: skipped
        (0, utc(2026, 11, 24, 1, 59), False),  # reminders off
        (60, utc(2026, 11, 24, 1, 0), True),
    ],
)
def test_reminder_due(minutes: int, now: dt.datetime, due: bool) -> None:
    assert reminder_due(utc(2026, 11, 24, 2, 0), minutes, now) is due


def test_follow_up_after_the_end_within_a_day() -> None:
    end = utc(2026, 11, 24, 2, 0)
    assert not follow_up_due(end, end)
    assert follow_up_due(end, end + dt.timedelta(minutes=5))
    assert not follow_up_due(end, end + dt.timedelta(days=2))


def test_slot_keys_round_trip() -> None:
    start = utc(2026, 11, 24, 1, 30)
    assert slot_start_from_key(slot_key(start)) == start
    assert len(str(slot_key(start))) <= 9


@pytest.mark.parametrize("key", [10**18, 2**63 - 1, -5])
def test_a_forged_slot_key_stands_for_no_slot_instead_of_overflowing(key: int) -> None:
    start = slot_start_from_key(key)
    assert start.year in (1970, 9999)
