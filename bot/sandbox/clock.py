"""The sandbox's movable clock: the bot process reads an offset the terminal chat writes."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path

ENV_VAR = "MATCHMAKER_SANDBOX_CLOCK"


class SandboxClock:
    """The wall clock plus an offset read from a file, so `/clock +15m` reaches the bot process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: float | None = None
        self._offset = dt.timedelta()

    def now(self) -> dt.datetime:
        """Return the wall clock plus the offset currently in the file."""
        try:
            stamp = self.path.stat().st_mtime
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            self._stamp = stamp
            text = self.path.read_text(encoding="utf-8").strip() if stamp is not None else ""
            self._offset = dt.timedelta(seconds=float(text or 0))
        return dt.datetime.now(dt.UTC) + self._offset


def write_offset(path: Path, offset: dt.timedelta) -> None:
    """Set the offset the bot process will read."""
    path.write_text(f"{offset.total_seconds():.0f}\n", encoding="utf-8")


def parse_delta(text: str) -> dt.timedelta:
    """Parse '+15m', '2h', '+1d', '90s' into a positive timedelta."""
    cleaned = text.strip().lstrip("+")
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if len(cleaned) < 2 or cleaned[-1] not in units or not cleaned[:-1].isdigit():
        raise ValueError(f"{text!r} is not like +15m, +2h or +1d")
    return dt.timedelta(seconds=int(cleaned[:-1]) * units[cleaned[-1]])


def sandbox_config_for(database: Path) -> Path | None:
    """The sandbox's event file, when `database` is one the sandbox ran on (its clock beside)."""
    if not database.with_suffix(".clock").exists():
        return None
    found = resources.files("bot.sandbox").joinpath("event.toml")
    return found if isinstance(found, Path) else None
