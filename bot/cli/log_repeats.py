"""Rate-limiting of identical log lines, so that a fault repeating in a loop cannot fill the disk.

The first line of a kind goes through; the same line again within `window` seconds is held back
and counted, and the first one after the window says how many were held back. Lines are the same
when logger, level, formatted message and exception type are.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

_Key = tuple[str, int, str, str]


@dataclass
class _Seen:
    since: float
    held: int = 0


class RepeatFilter(logging.Filter):
    """Lets each distinct log line through at most once per `window` seconds."""

    def __init__(
        self,
        window: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        remembered: int = 1024,
    ) -> None:
        super().__init__()
        self.window = window
        self._clock = clock
        self._remembered = remembered
        self._seen: OrderedDict[_Key, _Seen] = OrderedDict()

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
        key = (record.name, record.levelno, record.getMessage(), error)
        now = self._clock()
        seen = self._seen.get(key)
        if seen is not None and now - seen.since < self.window:
            seen.held += 1
            return False
        self._seen[key] = _Seen(now)
        self._seen.move_to_end(key)
        while len(self._seen) > self._remembered:
            self._seen.popitem(last=False)
        if seen is not None and seen.held:
            record.msg = (
                f"{key[2]} (the same line {seen.held} more time(s) in the last "
                f"{self.window:g} s, not logged)"
            )
            record.args = None
        return True
