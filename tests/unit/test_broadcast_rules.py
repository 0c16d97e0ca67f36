"""Broadcast rules: which version a reader gets, invite codes, today's bounds, throttling."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.domain.links import hash_code, new_invite_code
from bot.services.broadcasts import (
    NoText,
    ProgressThrottle,
    choose_version,
    day_bounds,
    missing_versions,
)
from storage.broadcasts import Audience, Progress

V = {"en": "E", "ru": "R", "zh": "Z"}


@pytest.mark.parametrize(
    ("versions", "locale", "default", "main", "expected"),
    [
        (V, "ru", "en", "en", "R"),
        (V, "ko", "en", "en", "E"),  # no Korean: the event's default
        (V, "ko", "zh", "en", "Z"),  # the default is Chinese
        (V, "ko", "ar", "ru", "E"),  # no default version either: English
        ({"ru": "R", "zh": "Z"}, "ko", "ar", "zh", "Z"),  # else the first written
        ({"ru": "R"}, None, "en", "ru", "R"),  # one text for everyone
    ],
)
def test_choose_version(
    versions: dict[str, str], locale: str | None, default: str, main: str, expected: str
) -> None:
    assert choose_version(versions, locale, default, main) == expected


def test_choose_version_needs_a_text() -> None:
    with pytest.raises(NoText):
        choose_version({}, "en", "en", None)


def test_missing_versions_keep_the_usual_order() -> None:
    assert missing_versions({"ru": "x"}) == ["en", "zh", "ko", "ar"]


def test_invite_codes_are_random_and_hashed() -> None:
    a, b = new_invite_code(), new_invite_code()
    assert a != b and a.startswith("org_")
    assert len(hash_code(a)) == 64 and hash_code(a) == hash_code(f" {a} ") != hash_code(b)


def test_today_is_the_event_zone_day() -> None:
    zone = ZoneInfo("Asia/Shanghai")
    now = dt.datetime(2026, 11, 24, 17, 0, tzinfo=dt.UTC)  # 01:00 on the 25th in Shanghai
    start, end = day_bounds(now, zone)
    assert start == dt.datetime(2026, 11, 24, 16, 0, tzinfo=dt.UTC)
    assert end - start == dt.timedelta(days=1)


@pytest.mark.parametrize(("kind", "value"), [("all", "x"), ("today", "x"), ("role", None)])
def test_audience_values_are_checked(kind: str, value: str | None) -> None:
    with pytest.raises(ValueError, match="audience"):
        Audience(kind, value)


def test_unknown_audience_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown"):
        Audience("vips")


def test_progress_is_edited_on_change_at_most_every_few_seconds() -> None:
    throttle = ProgressThrottle(3.0)
    p1, p2 = Progress(1, 0, 0, 0, 9), Progress(2, 0, 0, 0, 8)
    assert throttle.due(1, p1, 100.0, final=False)
    assert not throttle.due(1, p1, 110.0, final=False)  # nothing changed
    assert not throttle.due(1, p2, 101.0, final=False)  # too soon
    assert throttle.due(1, p2, 103.5, final=False)
    assert throttle.due(1, p2, 103.6, final=True)  # the final report always goes
    assert throttle.due(2, p1, 103.6, final=False)  # per broadcast
