"""Rules of offers and needs: what an item holds, which questions it asks, and in what order."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from bot.domain.registration import BLANKS, InvalidAnswer, Problem, clean_text, is_blank

Side = Literal["offer", "need"]
SIDES: tuple[Side, ...] = ("offer", "need")

# 1000 code points are at most 2000 UTF-16 units: with a name, an organization, field names and
# reasons a match card stays well inside Telegram's 4096.
TEXT_MAX = 1000
TRL_RANGE = range(1, 10)
MAX_FIELDS = 6  # what the matcher weighs per item; more would blur the match
MAX_ITEMS = 10  # per delegate: enough for an event, and /items stays one message


class IpStatus(StrEnum):
    """Where the intellectual property behind an offer stands."""

    GRANTED = "granted"
    PENDING = "pending"
    NONE = "none"


class ItemStep(StrEnum):
    """Questions about an item, in the order a new item asks them."""

    TEXT = "text"
    KIND = "kind"
    TRL = "trl"
    IP = "ip"
    FIELDS = "fields"


# Deal kinds that describe technology, so maturity and patents make sense for an offer of them.
TECHNOLOGY_KINDS = frozenset({"licence", "product", "joint_rnd"})


@dataclass(frozen=True)
class StoredItem:
    """An offer or need as stored: complete (matched) or a draft still asking questions."""

    id: int
    delegate_id: int
    side: Side
    text: str
    kind: str | None
    trl: int | None
    ip_status: str | None
    fields: tuple[str, ...]
    complete: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    step: ItemStep | None = None
    imported: bool = False


def parse_side(value: str) -> Side | None:
    """Return the side a button or column names, or None."""
    if value == "offer":
        return "offer"
    if value == "need":
        return "need"
    return None


def asks_maturity(side: str, kind: str | None) -> bool:
    """Whether an item asks for TRL and IP status: offers of technology do, the rest do not."""
    return side == "offer" and (kind is None or kind in TECHNOLOGY_KINDS)


def validate_item_text(text: str) -> str:
    """Accept a description: non-empty, with a letter or digit, within TEXT_MAX."""
    cleaned = clean_text(text)
    if is_blank(cleaned):
        raise InvalidAnswer(Problem.EMPTY)
    if len(cleaned) > TEXT_MAX:
        raise InvalidAnswer(Problem.TOO_LONG, TEXT_MAX)
    if not any(ch.isalnum() and ch not in BLANKS for ch in cleaned):
        raise InvalidAnswer(Problem.NO_LETTERS)
    if meaningful_words(cleaned) < MIN_WORDS:
        raise InvalidAnswer(Problem.TOO_FEW_WORDS)
    return cleaned


# A description says what the technology is: "Hearing aids", "医用呼吸机" pass, "ok" does not.
MIN_WORDS = 2
_WORD = re.compile(r"[^\W\d_]{2,}|\d{2,}")


_IDEOGRAPHIC = ("CJK UNIFIED", "CJK COMPATIBILITY", "HIRAGANA", "KATAKANA")


def _ideograph(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith(_IDEOGRAPHIC)


def meaningful_words(text: str) -> float:
    """How many different words a text holds; two Chinese or Japanese characters make one."""
    ideographs = sum(1 for ch in text if _ideograph(ch))
    rest = "".join(" " if _ideograph(ch) else ch for ch in text)
    return len({word.casefold() for word in _WORD.findall(rest)}) + ideographs / 2


def parse_trl(value: str) -> int | None:
    """Return the TRL a button names, or None."""
    if value.isascii() and value.isdigit() and int(value) in TRL_RANGE:
        return int(value)
    return None


def parse_ip_status(value: str) -> IpStatus | None:
    """Return the IP status a button names, or None."""
    try:
        return IpStatus(value)
    except ValueError:
        return None


def missing_step(item: StoredItem) -> ItemStep | None:
    """The first question a saved item still needs answered (kind, then maturity), or None."""
    if not item.text:
        return ItemStep.TEXT
    if item.kind is None:
        return ItemStep.KIND
    if asks_maturity(item.side, item.kind):
        if item.trl is None:
            return ItemStep.TRL
        if item.ip_status is None:
            return ItemStep.IP
    return None


def step_after(item: StoredItem, answered: ItemStep) -> ItemStep | None:
    """The question to ask once `answered` is saved; None when the item is done.

    A draft goes on to the next missing answer and ends with the fields. An edit of a complete
    item asks only what the change left missing (a new kind may need a TRL), and a new text
    asks for the fields again, since the topic may have changed.
    """
    missing = missing_step(item)
    if missing is not None:
        return missing
    if not item.complete:
        return None if answered is ItemStep.FIELDS else ItemStep.FIELDS
    return ItemStep.FIELDS if answered is ItemStep.TEXT else None


def toggle_field(fields: Sequence[str], code: str) -> tuple[str, ...]:
    """Add a field code to a selection or remove it; the order of choice is kept."""
    if code in fields:
        return tuple(c for c in fields if c != code)
    return (*fields, code)
