"""Nudges: when a delegate without meetings is shown their best matches, and when everyone with
meetings gets the final agenda of the next event day.

Both are owed once per person and day (the outbox's dedupe key holds that across restarts); these
rules only say which day is due at a moment and until when its message makes sense. Times are
local times of the event's zone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.domain.scheduling import Schedule

DEFAULT_NUDGE_AT = dt.time(11, 0)
DEFAULT_AGENDA_AT = dt.time(19, 0)
DEFAULT_DAYS_BEFORE = 1
NUDGE_COUNT = 3  # matches offered in one nudge


_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


class PolicyError(ValueError):
    """A [nudges] or [followup] entry is invalid; `key` names it."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


def parse_clock_time(key: str, raw: object) -> dt.time:
    """Read "19:00" as a local time of day."""
    match = _CLOCK.match(str(raw))
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise PolicyError(key, f"{raw!r} is not a time of day like 19:00")
    return dt.time(int(match.group(1)), int(match.group(2)))


@dataclass(frozen=True)
class NudgePolicy:
    """The [nudges] table: when suggestions and the evening agenda go out (None: never)."""

    at: dt.time | None = DEFAULT_NUDGE_AT
    days_before: int = DEFAULT_DAYS_BEFORE  # also nudge on this many days before the event
    agenda_at: dt.time | None = DEFAULT_AGENDA_AT


@dataclass(frozen=True)
class DueDay:
    """A day whose message is owed now: the local date, its start, and when the message lapses."""

    day: dt.date
    starts: dt.datetime  # the local day's midnight, UTC
    expires_at: dt.datetime


def _midnight(day: dt.date, schedule: Schedule) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=schedule.zone).astimezone(dt.UTC)


def nudge_days(schedule: Schedule, policy: NudgePolicy) -> tuple[dt.date, ...]:
    """The local days on which delegates without meetings are nudged: a few before, and each
    event day."""
    if policy.at is None or not schedule.days:
        return ()
    first = schedule.days[0]
    before = (first - dt.timedelta(days=n) for n in range(policy.days_before, 0, -1))
    return tuple(sorted({*before, *schedule.days}))


def nudge_day(schedule: Schedule, policy: NudgePolicy, now: dt.datetime) -> DueDay | None:
    """The nudge day due at `now`: a nudge day whose nudge time has come, until the day's last
    slot has begun (before the event: until midnight)."""
    if policy.at is None:
        return None
    local = schedule.local(now)
    day = local.date()
    if day not in nudge_days(schedule, policy) or local.time() < policy.at:
        return None
    slots = schedule.slots_on(day)
    lapses = slots[-1].start if slots else _midnight(day + dt.timedelta(days=1), schedule)
    if now >= lapses:
        return None
    return DueDay(day, _midnight(day, schedule), lapses)


def needs_nudge(*, wants_nudges: bool, booked_from_today: int, suggestions: int) -> bool:
    """Whether a delegate is nudged on a nudge day: they did not opt out, have no booked meeting
    from that day on, and there is someone to suggest."""
    return wants_nudges and booked_from_today == 0 and suggestions > 0


def agenda_day(schedule: Schedule, policy: NudgePolicy, now: dt.datetime) -> DueDay | None:
    """The event day whose final agenda is due at `now`: from the agenda hour of the evening
    before until that day's first slot begins."""
    if policy.agenda_at is None:
        return None
    for day in schedule.days:
        slots = schedule.slots_on(day)
        if not slots:
            continue
        evening = dt.datetime.combine(
            day - dt.timedelta(days=1), policy.agenda_at, tzinfo=schedule.zone
        ).astimezone(dt.UTC)
        if evening <= now < slots[0].start:
            return DueDay(day, _midnight(day, schedule), slots[0].start)
    return None


def parse_nudges(section: Mapping[str, Any] | None) -> NudgePolicy:
    """Read the [nudges] table; `at` or `agenda_at` set to "off" turns that message off."""
    data = dict(section or {})
    unknown = sorted(set(data) - {"at", "days_before", "agenda_at"})
    if unknown:
        raise PolicyError(unknown[0], "unknown key")

    def moment(key: str, default: dt.time) -> dt.time | None:
        if key not in data:
            return default
        raw = data[key]
        if raw is False or str(raw).strip().lower() == "off":
            return None
        return parse_clock_time(key, raw)

    days_before = data.get("days_before", DEFAULT_DAYS_BEFORE)
    if (
        not isinstance(days_before, int)
        or isinstance(days_before, bool)
        or not (0 <= days_before <= 14)
    ):
        raise PolicyError("days_before", f"{days_before!r} is not a whole number 0-14")
    return NudgePolicy(
        at=moment("at", DEFAULT_NUDGE_AT),
        days_before=days_before,
        agenda_at=moment("agenda_at", DEFAULT_AGENDA_AT),
    )
