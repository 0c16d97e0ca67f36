"""Callback data: short, versioned, and parsed by one function that rejects the unknown."""

from __future__ import annotations

import re
from dataclasses import dataclass

VERSION = "1"
# Namespaces other features' messages link to (the profile opens the meeting reminder choice).
MEETINGS = "m"
_PATTERN = re.compile(r"^([a-z]{1,3})" + VERSION + r":([a-z]{1,8}):([A-Za-z0-9_\-]{0,40})$")
# Numbers in an argument ("12", "12-3") become SQLite integers, which stop at 2**63 - 1: a
# forged press with a larger one is refused here like any other unknown data.
LARGEST_ID = 2**63 - 1


@dataclass(frozen=True)
class Callback:
    """A parsed button press: namespace, action and one argument."""

    namespace: str
    action: str
    arg: str


def make(namespace: str, action: str, arg: str | int = "") -> str:
    """Build callback data such as 'r1:role:investor'."""
    data = f"{namespace}{VERSION}:{action}:{arg}"
    if not _PATTERN.match(data) or len(data.encode()) > 64:
        raise ValueError(f"bad callback data {data!r}")
    return data


def parse(data: str | None, namespace: str, actions: frozenset[str]) -> Callback | None:
    """Return the callback if it is well formed and its action known, else None."""
    if not data:
        return None
    match = _PATTERN.match(data)
    if not match or match.group(1) != namespace or match.group(2) not in actions:
        return None
    arg = match.group(3)
    if any(part.isdigit() and not is_id(part) for part in arg.split("-")):
        return None
    return Callback(match.group(1), match.group(2), arg)


def is_id(text: str) -> bool:
    """Whether text is a number the database can hold (decimal digits, at most 2**63 - 1)."""
    return text.isdecimal() and int(text) <= LARGEST_ID


def pattern(namespace: str) -> str:
    """Return the regex a CallbackQueryHandler uses to route a namespace."""
    return "^" + re.escape(namespace + VERSION + ":")
