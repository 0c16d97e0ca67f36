"""A delegate's agenda as an iCalendar file that phone calendars import at the right hour."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import icalendar

from bot.i18n import without_bidi_marks


@dataclass(frozen=True)
class CalendarEntry:
    """One booked meeting as it appears in the file, already written in the reader's language."""

    uid: str
    start: dt.datetime
    end: dt.datetime
    summary: str
    location: str
    description: str


def agenda_ics(
    entries: Sequence[CalendarEntry], *, zone: ZoneInfo, name: str, stamp: dt.datetime
) -> bytes:
    """The .ics bytes: events in the event's zone with its VTIMEZONE, so the hour is right."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//matchmaker//meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", without_bidi_marks(name))
    calendar.add("x-wr-timezone", str(zone))
    for entry in entries:
        event = icalendar.Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", stamp.astimezone(dt.UTC))
        event.add("dtstart", entry.start.astimezone(zone))
        event.add("dtend", entry.end.astimezone(zone))
        event.add("summary", without_bidi_marks(entry.summary))
        if entry.location:
            event.add("location", without_bidi_marks(entry.location))
        if entry.description:
            event.add("description", without_bidi_marks(entry.description))
        calendar.add_component(event)
    # UTC needs no VTIMEZONE; every other zone is written out so importers need no database.
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
