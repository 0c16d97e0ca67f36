"""The one source of the current time: real in production, settable in tests and the sandbox."""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class Clock(Protocol):
    """Tells the current time as an aware UTC datetime."""

    def now(self) -> dt.datetime: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> dt.datetime:
        """Return the current UTC time."""
        return dt.datetime.now(dt.UTC)


class ManualClock:
    """A clock that moves only when told to, for tests and the sandbox's /clock."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start if start is not None else dt.datetime.now(dt.UTC)
        if self._now.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = self._now.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        """Return the time the clock was set to."""
        return self._now

    def set(self, moment: dt.datetime) -> None:
        """Jump to an aware moment."""
        if moment.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = moment.astimezone(dt.UTC)

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        """Move forward by delta and return the new time."""
        self._now += delta
        return self._now


class OffsetClock:
    """The wall clock shifted by an offset that can grow: the sandbox moves time forward."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def now(self) -> dt.datetime:
        """Return the wall clock plus the offset."""
        return dt.datetime.now(dt.UTC) + self.offset

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        """Move forward by delta and return the new time."""
        self.offset += delta
        return self.now()


def to_iso(moment: dt.datetime) -> str:
    """Format an aware datetime as the UTC ISO-8601 text stored in the database."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are not stored")
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def from_iso(text: str) -> dt.datetime:
    """Parse the stored UTC ISO-8601 text."""
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
