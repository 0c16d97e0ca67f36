"""The time zone a delegate lives in, when their country has only one."""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo


@cache
def _zones_by_country() -> dict[str, tuple[str, ...]]:
    # tzdata ships the IANA zone.tab: one line per zone, the country code first.
    text = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    zones: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, _coordinates, name, *_ = line.split("\t")
            zones.setdefault(code, []).append(name)
    return {code: tuple(names) for code, names in zones.items()}


def home_zone(country: str | None) -> ZoneInfo | None:
    """The country's zone if it has exactly one (Korea, Israel…); None when it has several."""
    if not country:
        return None
    names = _zones_by_country().get(country.upper(), ())
    return ZoneInfo(names[0]) if len(names) == 1 else None


def differs_at(zone: ZoneInfo, other: ZoneInfo, moment: dt.datetime) -> bool:
    """Whether two zones show a different clock time at a moment."""
    return moment.astimezone(zone).utcoffset() != moment.astimezone(other).utcoffset()
