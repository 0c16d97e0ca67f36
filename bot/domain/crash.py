"""Named crash points: kill the process at a chosen place to prove that nothing owed is lost.

Set MATCHMAKER_CRASH_AT to a comma-separated list of points, each optionally followed by `:N`
to crash on the N-th time that point is reached instead of the first, e.g.
`MATCHMAKER_CRASH_AT=outbox.after_send:120`. The process then ends with os._exit(137), as if
killed with SIGKILL: no cleanup, no commit, no shutdown handlers; only the logs are flushed.

The points in the code:

- `outbox.enqueued`      after an outbox row is inserted, before the caller's transaction commits
- `outbox.before_send`   an item is claimed ('sending') and rendered; Telegram not called yet
- `outbox.after_send`    Telegram accepted the message; the item is not yet marked sent
- `outbox.after_mark`    the item is marked sent
- `registration.after_save`  a registration answer and the next step are saved; not yet asked
- `meetings.accept.in_transaction`  an accept wrote the booking, the busy slots and both
                                    confirmations; the transaction is not committed
- `meetings.accept.after_commit`    the booking is committed, both confirmations wait in the
                                    outbox; none sent, the button press not answered
- `import.in_transaction`  a row of an import is written (`:N`: the N-th row); its batch is
                           not committed

Unset, a crash point costs one comparison. The variable is read once, on the first call.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Mapping

ENV_VAR = "MATCHMAKER_CRASH_AT"
EXIT_CODE = 137  # what a shell reports for a process killed by SIGKILL

POINTS: frozenset[str] = frozenset(
    {
        "outbox.enqueued",
        "outbox.before_send",
        "outbox.after_send",
        "outbox.after_mark",
        "registration.after_save",
        "meetings.accept.in_transaction",
        "meetings.accept.after_commit",
        "import.in_transaction",
    }
)

log = logging.getLogger(__name__)

_plan: dict[str, int] | None = None
_reached: dict[str, int] = {}


def parse_plan(text: str) -> dict[str, int]:
    """Parse `point[:N],...` into point -> the hit that crashes (1 for the first)."""
    plan: dict[str, int] = {}
    for part in text.split(","):
        entry = part.strip()
        if not entry:
            continue
        name, sep, count_text = entry.partition(":")
        name = name.strip()
        if name not in POINTS:
            raise ValueError(f"{ENV_VAR}: unknown crash point {name!r}; known: {sorted(POINTS)}")
        count = 1
        if sep:
            try:
                count = int(count_text)
            except ValueError:
                raise ValueError(f"{ENV_VAR}: {entry!r} needs a whole number after ':'") from None
            if count < 1:
                raise ValueError(f"{ENV_VAR}: {entry!r} must count from 1")
        plan[name] = count
    return plan


def configure(environ: Mapping[str, str] | None = None) -> dict[str, int]:
    """(Re)read the plan from the environment; tests use it, code need not call it."""
    global _plan
    env = os.environ if environ is None else environ
    _plan = parse_plan(env.get(ENV_VAR, ""))
    _reached.clear()
    return dict(_plan)


def crash_point(name: str) -> None:
    """Kill the process here if MATCHMAKER_CRASH_AT names this point (and its count is up)."""
    plan = _plan if _plan is not None else configure()
    if not plan or name not in plan:
        return
    hits = _reached.get(name, 0) + 1
    _reached[name] = hits
    if hits != plan[name]:
        return
    log.critical("crash point %s reached (hit %d): exiting with %d", name, hits, EXIT_CODE)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(EXIT_CODE)
