"""Days, times and time zones as the reader's language writes them (CLDR patterns via Babel).

One place joins a day and a time (the locale's own date-time pattern: "Tue, Nov 24, 09:30",
"11月24日周二 09:30", "الثلاثاء، 24 نوفمبر، 09:30") and names a zone for people rather than
as an IANA id.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel.dates import format_interval, format_skeleton, get_timezone_location, get_timezone_name

from bot.i18n import Translator

_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/GMT", "GMT", "Z"})


def day_text(moment: dt.datetime, zone: ZoneInfo, tr: Translator, skeleton: str = "MMMEd") -> str:
    """The day of `moment` in `zone`, e.g. "Tue, Nov 24" or "11月24日周二"."""
    return str(format_skeleton(skeleton, moment, tzinfo=zone, locale=tr.babel_locale))


def time_text(moment: dt.datetime, zone: ZoneInfo, tr: Translator) -> str:
    """The hour and minute of `moment` in `zone`."""
    return str(format_skeleton("Hm", moment, tzinfo=zone, locale=tr.babel_locale))


def hours_text(start: dt.datetime, end: dt.datetime, zone: ZoneInfo, tr: Translator) -> str:
    """A span of hours, e.g. "09:30 – 09:50" or "09:30~09:50", as the locale writes it."""
    return str(format_interval(start, end, "Hm", tzinfo=zone, locale=tr.babel_locale))


def day_and_time(day: str, time: str, tr: Translator) -> str:
    """A day and a time joined by the locale's date-time pattern (never a hand-typed comma)."""
    pattern = str(tr.babel_locale.datetime_formats["medium"])
    return pattern.replace("{1}", day).replace("{0}", time)


def moment_text(moment: dt.datetime, zone: ZoneInfo, tr: Translator) -> str:
    """A point in time with its day, e.g. "Tue, Nov 24, 09:30"."""
    return day_and_time(day_text(moment, zone, tr), time_text(moment, zone, tr), tr)


def span_text(start: dt.datetime, end: dt.datetime, zone: ZoneInfo, tr: Translator) -> str:
    """A span with its day, e.g. "Tue, Nov 24, 09:30 – 09:50"."""
    return day_and_time(day_text(start, zone, tr), hours_text(start, end, zone, tr), tr)


def zone_text(zone: ZoneInfo, tr: Translator) -> str:
    """A time zone named for people: "Korean Time", "한국 시간", "Душанбе", not "Asia/Seoul".

    CLDR's generic name where the locale has one; where Babel would fall back to the region
    pattern (which some locales' data get wrong, e.g. a summer-time suffix in a zone without
    one), the zone's city in the reader's language.
    """
    if zone.key in _UTC_NAMES:
        return "UTC"
    locale = tr.babel_locale
    generic = str(get_timezone_name(zone, "long", locale=locale))
    if generic != str(get_timezone_location(zone, locale=locale)):
        return generic
    return str(get_timezone_location(zone, locale=locale, return_city=True))
