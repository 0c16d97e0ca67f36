"""A meeting time typed by a delegate, read in their language: "14:40", "9.30", "завтра 10:00",
"明天 10:00", "내일 10:00", "غدًا 10:00", "Wednesday 9:30", "25.11 14:40", "11月25日 14:40".

The words come from CLDR through Babel, not from tables of our own: the relative day names
("today", "tomorrow", "послезавтра": the locale's `date_fields` day `relative` entries), the
weekday and month names (`get_day_names`, `get_month_names`, every width and context), the
day periods (AM/PM, صباحًا/مساءً) and the order of day and month in a numeric date (the
locale's short date pattern: "25.11" in Russian, "11/25" in English). Digits of any script
count ("١٤:٤٠"). What is read is a day, a time of day, or both; the caller decides what a
time without a day means (`wanted_start`).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import get_date_format, get_day_names, get_month_names, get_period_names

# Markers CJK languages write after an hour, a minute, a month and a day of the month.
_HOUR_MARKS = "点點時时시"
_MINUTE_MARKS = "分분"
_MONTH_MARKS = "月월"
_DAY_MARKS = "日일号號"
# Narrow names ("N", "一") are single letters that stand for too much; they are left out.
_DAY_WIDTHS = ("wide", "abbreviated", "short")
_MONTH_WIDTHS = ("wide", "abbreviated")
_CONTEXTS: tuple[Literal["format", "stand-alone"], ...] = ("format", "stand-alone")

_TIME = re.compile(
    rf"(?<!\d)(\d{{1,2}})\s*(?:[:.٫h]\s*(\d{{2}})(?!\d)|[{_HOUR_MARKS}]\s*(?:(\d{{1,2}})\s*[{_MINUTE_MARKS}]?|半)?)"
)
_CJK_DATE = re.compile(rf"(?<!\d)(\d{{1,2}})\s*[{_MONTH_MARKS}]\s*(\d{{1,2}})\s*[{_DAY_MARKS}]?")
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_NUMERIC_DATE = re.compile(r"(?<!\d)(\d{1,2})\s*[./-]\s*(\d{1,2})\.?(?![\d:])")
_NUMBER = re.compile(r"(?<!\d)(\d{1,2})(?!\d)")


@dataclass(frozen=True)
class TypedMoment:
    """What a typed text names: a day, a time of day, or both (never neither)."""

    day: dt.date | None
    time: dt.time | None


def _fold(text: str) -> str:
    """Lower case, digits of any script as ASCII, marks dropped (harakat and the hamza on an
    alef in Arabic, so "غدا" is "غدًا" and "الاربعاء" is "الأربعاء"), dots of abbreviations
    gone, spaces single."""
    out = []
    for ch in unicodedata.normalize("NFD", text.casefold()):
        if unicodedata.category(ch) == "Mn" or ch in "\u200e\u200f\u061c\u2066\u2067\u2068\u2069":
            continue
        digit = unicodedata.decimal(ch, None)
        out.append(str(digit) if digit is not None else ch)
    return " ".join(unicodedata.normalize("NFC", "".join(out)).split())


def _words(locale: Locale, entries: Iterator[tuple[int, str]]) -> list[tuple[str, int]]:
    # Longest first, so "послезавтра" wins over "завтра" and "星期三" over "三".
    seen = {(_fold(name).rstrip("."), value) for value, name in entries if name}
    return sorted((w for w in seen if w[0]), key=lambda w: -len(w[0]))


@dataclass(frozen=True)
class _LocaleWords:
    relative: list[tuple[str, int]]  # word -> days from today
    weekdays: list[tuple[str, int]]  # word -> Monday 0 .. Sunday 6
    months: list[tuple[str, int]]  # word -> 1..12
    pm: tuple[str, ...]
    am: tuple[str, ...]
    day_first: bool  # "25.11" (day, month) rather than "11/25"


def _relative_entries(locale: Locale) -> Iterator[tuple[int, str]]:
    fields = locale._data.get("date_fields", {})
    for key in ("day", "day-short", "day-narrow"):
        try:
            relative = fields[key]["relative"]
        except (KeyError, TypeError):
            continue
        for offset, word in dict(relative).items():
            if isinstance(offset, int) and offset >= 0:
                yield offset, str(word)


def _name_entries(
    getter: object, widths: Sequence[str], locale: Locale
) -> Iterator[tuple[int, str]]:
    for width in widths:
        for context in _CONTEXTS:
            try:
                names = getter(width, context, locale)  # type: ignore[operator]
            except (KeyError, ValueError):
                continue
            yield from dict(names).items()


@lru_cache(maxsize=16)
def _locale_words(code: str) -> _LocaleWords:
    locale = Locale.parse(code)
    periods: dict[str, set[str]] = {"am": {"am", "a.m."}, "pm": {"pm", "p.m."}}
    for width in ("abbreviated", "wide", "narrow"):
        for context in _CONTEXTS:
            try:
                names = dict(get_period_names(width, context, locale))
            except (KeyError, ValueError):
                continue
            for key in ("am", "pm"):
                if names.get(key):
                    periods[key].add(_fold(str(names[key])))
    pattern = get_date_format("short", locale).pattern
    return _LocaleWords(
        relative=_words(locale, _relative_entries(locale)),
        weekdays=_words(locale, _name_entries(get_day_names, _DAY_WIDTHS, locale)),
        months=_words(locale, _name_entries(get_month_names, _MONTH_WIDTHS, locale)),
        pm=tuple(sorted(periods["pm"], key=len, reverse=True)),
        am=tuple(sorted(periods["am"], key=len, reverse=True)),
        day_first=pattern.find("d") < pattern.find("M"),
    )


def _find_word(text: str, words: Sequence[tuple[str, int]]) -> tuple[int, str] | None:
    """The first word of the list that stands in the text on its own, and the text without
    it. A CJK word of two or more characters counts anywhere ("明天10点"); a longer
    alphabetic word also with another ending ("в среду" for "среда": CLDR names the days in
    the nominative only)."""
    for word, value in words:
        cjk = unicodedata.east_asian_width(word[0]) == "W"
        if cjk and len(word) >= 2:
            pattern = re.escape(word)
        elif len(word) >= 5 and word.isalpha() and not cjk:
            pattern = rf"(?<!\w){re.escape(word[:-1])}\w{{0,2}}(?!\w)"
        else:
            pattern = rf"(?<!\w){re.escape(word)}(?!\w)"
        match = re.search(pattern, text)
        if match is not None:
            return value, text[: match.start()] + " " + text[match.end() :]
    return None


def _on_or_after(today: dt.date, month: int, day: int) -> dt.date | None:
    for year in (today.year, today.year + 1):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            return None
        # A date more than half a year back is next year's.
        if candidate >= today - dt.timedelta(days=183):
            return candidate
    return None


def _read_time(text: str, match: re.Match[str], words: _LocaleWords) -> tuple[dt.time, str] | None:
    """The time of one time-shaped match, with a day period next to it ("2:40 PM", "2:40 م",
    "오후 2시"), and the text without them."""
    hour = int(match.group(1))
    minute_text = match.group(2) or match.group(3)
    minute = int(minute_text) if minute_text else (30 if "半" in match.group(0) else 0)
    before, after = text[: match.start()].rstrip(), text[match.end() :].lstrip()
    for marks, shift in ((words.pm, 12), (words.am, 0)):
        mark = next((m for m in marks if after.startswith(m) or before.endswith(m)), None)
        if mark is None:
            continue
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + shift
        if after.startswith(mark):
            after = after[len(mark) :]
        else:
            before = before[: -len(mark)]
        break
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute), f"{before} {after}"


def _read_day(text: str, words: _LocaleWords, today: dt.date) -> tuple[dt.date, str] | None:
    if found := _find_word(text, words.relative):
        return today + dt.timedelta(days=found[0]), found[1]
    if match := _ISO_DATE.search(text):
        try:
            day = dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            return None
        return day, text[: match.start()] + " " + text[match.end() :]
    if match := _CJK_DATE.search(text):
        day_or_none = _on_or_after(today, int(match.group(1)), int(match.group(2)))
        if day_or_none is None:
            return None
        return day_or_none, text[: match.start()] + " " + text[match.end() :]
    if found := _find_word(text, words.months):
        month, rest = found
        number = _NUMBER.search(rest)
        if number is None:
            return None
        day_or_none = _on_or_after(today, month, int(number.group(1)))
        if day_or_none is None:
            return None
        return day_or_none, rest[: number.start()] + " " + rest[number.end() :]
    if match := _NUMERIC_DATE.search(text):
        first, second = int(match.group(1)), int(match.group(2))
        number_day, month = (first, second) if words.day_first else (second, first)
        day_or_none = _on_or_after(today, month, number_day)
        if day_or_none is None:
            return None
        return day_or_none, text[: match.start()] + " " + text[match.end() :]
    if found := _find_word(text, words.weekdays):
        ahead = (found[0] - today.weekday()) % 7
        return today + dt.timedelta(days=ahead), found[1]
    return None


def parse_moment(text: str, locale: str, today: dt.date) -> TypedMoment | None:
    """The day and time a delegate typed in `locale`; None when the text names neither, or
    holds more than a day and a time (then it was not meant as one)."""
    words = _locale_words(locale)
    folded = _fold(text)
    if not folded or len(folded) > 40:
        return None
    time: dt.time | None = None
    day: dt.date | None = None
    # A date written with the same separator as a time ("25.11 14:40"): the time is the last.
    timed = _read_time_last(folded, words)
    if timed is not None:
        time, folded = timed
    dated = _read_day(folded, words, today)
    if dated is not None:
        day, folded = dated
    if time is None and day is None:
        return None
    leftover = re.sub(r"[\s,،.:;؛/()\-–—@]+|\b(at|в|во|um|à|a las|في|الساعة)\b", "", folded)
    if any(ch.isdigit() for ch in leftover) or len(leftover) > 6:
        return None
    return TypedMoment(day, time)


def _read_time_last(text: str, words: _LocaleWords) -> tuple[dt.time, str] | None:
    """The time read from the last time-shaped group of the text (a numeric date before it,
    "25.11 14:40", is left for the day)."""
    for match in reversed(list(_TIME.finditer(text))):
        found = _read_time(text, match, words)
        if found is not None:
            return found
    return None


def wanted_start(
    moment: TypedMoment, days: Sequence[dt.date], now: dt.datetime, zone: ZoneInfo
) -> dt.datetime | None:
    """The start a typed moment asks for, in the event's zone.

    A time without a day is on the first event day on which it is still ahead; a day without a
    time is that day's first minute (the caller offers that day's times). None when the day is
    not an event day, or the time is past on every one.
    """
    if moment.day is not None:
        if moment.day not in days:
            return None
        return dt.datetime.combine(moment.day, moment.time or dt.time(0, 0), tzinfo=zone)
    assert moment.time is not None
    for day in sorted(days):
        start = dt.datetime.combine(day, moment.time, tzinfo=zone)
        if start >= now:
            return start
    return None


def tomorrow_word(locale: str) -> str:
    """The locale's word for tomorrow (CLDR: "завтра", "明天", "غدًا"), for an example."""
    code = Locale.parse(locale)
    return next((word for offset, word in _relative_entries(code) if offset == 1), "")
