"""The event schedule: days, sessions, breaks, slots and tables, and the rules timed around them.

Times are written in the event's IANA zone and handled as aware UTC datetimes. Slots are laid out
in absolute time from each session's start, so a session that crosses a daylight-saving change
holds as many slots as it really lasts. A slot is identified by its UTC start.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

DEFAULT_SLOT_MINUTES = 20
DEFAULT_REQUEST_HOURS = 12.0
DEFAULT_REMINDER_MINUTES = 15
REMINDER_CHOICES: tuple[int, ...] = (0, 5, 15, 30, 60)
# The follow-up question is asked this long after a meeting ends, and no longer after a day.
FOLLOW_UP_DELAY = dt.timedelta(minutes=5)
FOLLOW_UP_WINDOW = dt.timedelta(days=1)

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*$")
_RANGE = re.compile(r"^\s*([A-Za-z]*)(\d+)\s*\.\.\s*([A-Za-z]*)(\d+)\s*$")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class ScheduleError(ValueError):
    """The [schedule] section is invalid; `key` names the offending entry."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"schedule.{key}: {problem}")
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class Window:
    """A local time range within a day, such as a session 09:30-12:00 or a break."""

    start: dt.time
    end: dt.time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True, order=True)
class Slot:
    """One meeting slot: an aware UTC start and end."""

    start: dt.datetime
    end: dt.datetime

    @property
    def key(self) -> int:
        """A compact id for buttons: minutes since 1970 UTC."""
        return slot_key(self.start)


def slot_key(start: dt.datetime) -> int:
    """The compact id of a slot start."""
    return int((start - _EPOCH).total_seconds() // 60)


# Keys come back from button presses, which can be forged: one past what a datetime holds
# stands for a moment no schedule has a slot at, instead of overflowing.
_LAST_KEY = slot_key(dt.datetime(9999, 1, 1, tzinfo=dt.UTC))


def slot_start_from_key(key: int) -> dt.datetime:
    """The slot start a compact id stands for (a forged, out-of-range id: no slot's start)."""
    return _EPOCH + dt.timedelta(minutes=min(max(key, 0), _LAST_KEY))


@dataclass(frozen=True)
class Schedule:
    """When and where meetings can happen."""

    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    days: tuple[dt.date, ...] = ()
    sessions: tuple[Window, ...] = ()
    breaks: tuple[Window, ...] = ()
    slot_minutes: int = DEFAULT_SLOT_MINUTES
    tables: tuple[str, ...] = ("1",)
    room: str | None = None
    request_ttl: dt.timedelta = dt.timedelta(hours=DEFAULT_REQUEST_HOURS)
    reminder_minutes: int = DEFAULT_REMINDER_MINUTES
    # Interpreters available in every slot, per language: (("ar", 1), ("ru", 2)).
    interpreters: tuple[tuple[str, int], ...] = ()

    @property
    def slot_length(self) -> dt.timedelta:
        """The length of one slot."""
        return dt.timedelta(minutes=self.slot_minutes)

    @cached_property
    def slots(self) -> tuple[Slot, ...]:
        """Every slot of the event, in time order."""
        return build_slots(self)

    @cached_property
    def _by_start(self) -> dict[dt.datetime, Slot]:
        return {slot.start: slot for slot in self.slots}

    def slot_at(self, start: dt.datetime) -> Slot | None:
        """The slot that starts at `start`, if the schedule has one."""
        return self._by_start.get(start.astimezone(dt.UTC))

    def local(self, moment: dt.datetime) -> dt.datetime:
        """A moment in the event's zone."""
        return moment.astimezone(self.zone)

    def slots_on(self, day: dt.date) -> list[Slot]:
        """The slots of one local day."""
        return [slot for slot in self.slots if self.local(slot.start).date() == day]


def _local(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, at, tzinfo=zone).astimezone(dt.UTC)


def build_slots(schedule: Schedule) -> tuple[Slot, ...]:
    """Lay out every slot: each session from its start, in steps of the slot length."""
    found: list[Slot] = []
    step = schedule.slot_length
    for day in schedule.days:
        breaks = [
            (_local(day, b.start, schedule.zone), _local(day, b.end, schedule.zone))
            for b in schedule.breaks
        ]
        for session in schedule.sessions:
            begin = _local(day, session.start, schedule.zone)
            end = _local(day, session.end, schedule.zone)
            at = begin
            while at + step <= end:
                slot = Slot(at, at + step)
                if not any(slot.start < b_end and b_start < slot.end for b_start, b_end in breaks):
                    found.append(slot)
                at += step
    return tuple(sorted(set(found)))


def free_slots(
    schedule: Schedule,
    busy: Collection[dt.datetime],
    *,
    now: dt.datetime,
    full: Collection[dt.datetime] = (),
    limit: int | None = None,
) -> list[Slot]:
    """Slots ahead in which nobody involved is busy and a table is left, earliest first.

    `busy` holds the starts where any of the people is booked or blocked; `full` the starts where
    every table is taken.
    """
    found: list[Slot] = []
    for slot in schedule.slots:
        if slot.start <= now or slot.start in busy or slot.start in full:
            continue
        found.append(slot)
        if limit is not None and len(found) >= limit:
            break
    return found


def pick_table(tables: Sequence[str], taken: Collection[str]) -> str | None:
    """The first table in the schedule's order that nobody holds in the slot."""
    return next((table for table in tables if table not in taken), None)


def request_expiry(
    created: dt.datetime, slot_start: dt.datetime, ttl: dt.timedelta
) -> dt.datetime:
    """When an unanswered request lapses: after the waiting time, and always before the slot."""
    return min(created + ttl, slot_start)


def reminder_at(slot_start: dt.datetime, minutes: int) -> dt.datetime | None:
    """When a participant is reminded of a meeting; None when they turned reminders off."""
    if minutes <= 0:
        return None
    return slot_start - dt.timedelta(minutes=minutes)


def reminder_due(slot_start: dt.datetime, minutes: int, now: dt.datetime) -> bool:
    """Whether a reminder should go out at `now`: its time has come and the meeting has not begun.

    A reminder that fell due while the bot was down is still sent if the meeting is ahead.
    """
    at = reminder_at(slot_start, minutes)
    return at is not None and at <= now < slot_start


def follow_up_due(slot_end: dt.datetime, now: dt.datetime) -> bool:
    """Whether to ask "did the meeting take place?" at `now`."""
    return slot_end + FOLLOW_UP_DELAY <= now < slot_end + FOLLOW_UP_WINDOW


# --- parsing the [schedule] section -------------------------------------------------------------


def _parse_time(key: str, hours: str, minutes: str, text: str) -> dt.time:
    h, m = int(hours), int(minutes)
    if h == 24 and m == 0:
        return dt.time(23, 59, 59, 999999)
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ScheduleError(key, f"{text!r} is not a time range like 09:30-12:00")
    return dt.time(h, m)


def parse_window(key: str, text: object) -> Window:
    """Read "09:30-12:00" as a local time window."""
    match = _WINDOW.match(str(text))
    if not match:
        raise ScheduleError(key, f"{text!r} is not a time range like 09:30-12:00")
    start = _parse_time(key, match.group(1), match.group(2), str(text))
    end = _parse_time(key, match.group(3), match.group(4), str(text))
    if end <= start:
        raise ScheduleError(key, f"{text!r} ends before it starts")
    return Window(start, end)


def parse_tables(value: object) -> tuple[str, ...]:
    """Tables as a count (30), a range ("A1..A30") or a list of names and ranges."""
    if isinstance(value, bool):
        raise ScheduleError("tables", "expected a count, a range like A1..A30 or a list")
    if isinstance(value, int):
        if not 1 <= value <= 10_000:
            raise ScheduleError("tables", f"{value} is not between 1 and 10000")
        return tuple(str(n) for n in range(1, value + 1))
    items: Iterable[object] = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        text = str(item).strip()
        match = _RANGE.match(text)
        if match:
            prefix, first, prefix2, last = match.groups()
            if prefix2 and prefix2 != prefix:
                raise ScheduleError("tables", f"{text!r} mixes two prefixes")
            low, high = int(first), int(last)
            if high < low or high - low > 10_000:
                raise ScheduleError("tables", f"{text!r} is not a range like A1..A30")
            width = len(first) if first.startswith("0") else 0
            names += [f"{prefix}{n:0{width}d}" for n in range(low, high + 1)]
        elif text.isdigit() and not isinstance(value, list):
            return parse_tables(int(text))
        elif text:
            names.append(text)
    if not names:
        raise ScheduleError("tables", "no table given")
    if len(set(names)) != len(names):
        raise ScheduleError("tables", "a table name appears twice")
    if any(len(name) > 20 for name in names):
        raise ScheduleError("tables", "table names are at most 20 characters")
    return tuple(names)


def _parse_day(value: object) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ScheduleError("days", f"{value!r} is not a date like 2026-11-24") from None


def _parse_days(value: object) -> tuple[dt.date, ...]:
    if isinstance(value, str) and ".." in value:
        first, _, last = value.partition("..")
        low, high = _parse_day(first), _parse_day(last)
        if high < low:
            raise ScheduleError("days", f"{value!r} ends before it starts")
        return tuple(low + dt.timedelta(days=n) for n in range((high - low).days + 1))
    items = value if isinstance(value, list) else str(value).split(",")
    return tuple(sorted({_parse_day(item) for item in items if str(item).strip()}))


def _number(key: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool):
        raise ScheduleError(key, f"{value!r} is not a number")
    try:
        number = float(str(value))
    except ValueError:
        raise ScheduleError(key, f"{value!r} is not a number") from None
    if not low <= number <= high:
        raise ScheduleError(key, f"{value!r} is not between {low:g} and {high:g}")
    return number


def _parse_interpreters(value: object) -> tuple[tuple[str, int], ...]:
    if not isinstance(value, Mapping):
        raise ScheduleError("interpreters", "expected a table like {ru = 2, ar = 1}")
    found: list[tuple[str, int]] = []
    for language, count in value.items():
        code = str(language).strip().lower()
        if not re.fullmatch(r"[a-z]{2,3}", code):
            raise ScheduleError("interpreters", f"{language!r} is not a language code like ru")
        number = _number(f"interpreters.{code}", count, 0, 1000)
        if number != int(number):
            raise ScheduleError(f"interpreters.{code}", "must be a whole number")
        found.append((code, int(number)))
    return tuple(sorted(found))


def parse_schedule(
    section: Mapping[str, Any] | None,
    *,
    zone: ZoneInfo,
    default_days: Sequence[dt.date] = (),
) -> Schedule:
    """Read the [schedule] table of the TOML configuration (missing: no slots at all)."""
    data = dict(section or {})
    known = {
        "days", "sessions", "breaks", "slot_minutes", "tables", "room", "request_hours",
        "reminder_minutes", "interpreters",
    }  # fmt: skip
    unknown = sorted(set(data) - known)
    if unknown:
        raise ScheduleError(unknown[0], "unknown key")
    days = _parse_days(data["days"]) if "days" in data else tuple(default_days)
    sessions_raw = data.get("sessions", [])
    if not isinstance(sessions_raw, list):
        sessions_raw = [sessions_raw]
    sessions = tuple(sorted((parse_window("sessions", s) for s in sessions_raw), key=str))
    for earlier, later in zip(sessions, sessions[1:], strict=False):
        if later.start < earlier.end:
            raise ScheduleError("sessions", f"{earlier} and {later} overlap")
    breaks_raw = data.get("breaks", [])
    if not isinstance(breaks_raw, list):
        breaks_raw = [breaks_raw]
    breaks = tuple(parse_window("breaks", b) for b in breaks_raw)
    slot_minutes = _number("slot_minutes", data.get("slot_minutes", DEFAULT_SLOT_MINUTES), 5, 240)
    if slot_minutes != int(slot_minutes):
        raise ScheduleError("slot_minutes", "must be a whole number of minutes")
    tables = parse_tables(data.get("tables", 1))
    room = str(data["room"]).strip() if data.get("room") else None
    hours = _number("request_hours", data.get("request_hours", DEFAULT_REQUEST_HOURS), 0.1, 168)
    reminder = _number(
        "reminder_minutes", data.get("reminder_minutes", DEFAULT_REMINDER_MINUTES), 0, 240
    )
    if int(reminder) not in REMINDER_CHOICES:
        raise ScheduleError(
            "reminder_minutes", f"must be one of {', '.join(map(str, REMINDER_CHOICES))}"
        )
    interpreters = _parse_interpreters(data.get("interpreters", {}))
    return Schedule(
        interpreters=interpreters,
        zone=zone,
        days=days,
        sessions=sessions,
        breaks=breaks,
        slot_minutes=int(slot_minutes),
        tables=tables,
        room=room,
        request_ttl=dt.timedelta(hours=hours),
        reminder_minutes=int(reminder),
    )
