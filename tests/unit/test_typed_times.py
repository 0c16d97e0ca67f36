"""Typed meeting times, read in the delegate's language with CLDR's words (issue 17, item 1)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.domain.typed_times import TypedMoment, parse_moment, wanted_start

TODAY = dt.date(2026, 11, 24)  # a Tuesday
TOMORROW = dt.date(2026, 11, 25)


@pytest.mark.parametrize(
    ("locale", "text", "day", "time"),
    [
        ("en", "14:40", None, dt.time(14, 40)),
        ("ru", "9.30", None, dt.time(9, 30)),
        ("ru", "завтра 10:00", TOMORROW, dt.time(10)),
        ("ru", "в среду в 9:30", TOMORROW, dt.time(9, 30)),
        ("ru", "25.11 14:40", TOMORROW, dt.time(14, 40)),
        ("ru", "25 ноября 14:40", TOMORROW, dt.time(14, 40)),
        ("ru", "послезавтра", dt.date(2026, 11, 26), None),
        ("zh", "明天 10:00", TOMORROW, dt.time(10)),
        ("zh", "11月25日 14:40", TOMORROW, dt.time(14, 40)),
        ("zh", "明天下午3点半", TOMORROW, dt.time(15, 30)),
        ("zh", "周三 10:00", TOMORROW, dt.time(10)),
        ("ko", "내일 10:00", TOMORROW, dt.time(10)),
        ("ko", "11월 25일 오후 2시 40분", TOMORROW, dt.time(14, 40)),
        ("ko", "수요일 10시", TOMORROW, dt.time(10)),
        ("ar", "غدًا 10:00", TOMORROW, dt.time(10)),
        ("ar", "غدا ١٠:٣٠", TOMORROW, dt.time(10, 30)),  # no tanween, Arabic-Indic digits
        ("ar", "الأربعاء 2:40 م", TOMORROW, dt.time(14, 40)),
        ("ar", "25/11 9:30", TOMORROW, dt.time(9, 30)),  # day first, as Arabic writes dates
        ("en", "11/25 9:30", TOMORROW, dt.time(9, 30)),  # month first, as English does
        ("en", "Wednesday 9:30", TOMORROW, dt.time(9, 30)),
        ("en", "Nov 25 2:40 pm", TOMORROW, dt.time(14, 40)),
    ],
)
def test_a_typed_time_is_read_in_the_delegates_language(
    locale: str, text: str, day: dt.date | None, time: dt.time | None
) -> None:
    assert parse_moment(text, locale, TODAY) == TypedMoment(day, time)


@pytest.mark.parametrize(
    ("locale", "text"),
    [("en", "ok"), ("en", "25"), ("en", "hello 10:00 there"), ("ru", "25:70"), ("ar", "شكرا")],
)
def test_what_names_no_time_is_not_read_as_one(locale: str, text: str) -> None:
    assert parse_moment(text, locale, TODAY) is None


def test_a_time_without_a_day_is_the_first_event_day_it_is_still_ahead() -> None:
    days, zone = (TODAY, TOMORROW), ZoneInfo("Asia/Shanghai")
    now = dt.datetime(2026, 11, 24, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai
    later_today = wanted_start(TypedMoment(None, dt.time(14, 40)), days, now, zone)
    assert later_today == dt.datetime(2026, 11, 24, 14, 40, tzinfo=zone)
    past_today = wanted_start(TypedMoment(None, dt.time(9, 30)), days, now, zone)
    assert past_today == dt.datetime(2026, 11, 25, 9, 30, tzinfo=zone)
    assert wanted_start(TypedMoment(dt.date(2026, 12, 1), dt.time(9)), days, now, zone) is None
