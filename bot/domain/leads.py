"""Leads for exhibitors and an organization's representatives: the rules, without storage.

A lead is a visitor who scanned an exhibit's booth QR, saved it or asked to meet about it.
The exhibitor sees a lead only when the visitor opted in ("Leave my card" on the card); the
exhibitor scores it 1-5 and notes it. An organization's representatives are its delegates,
their organization named the way matching compares organizations (transliterated, letters and
digits only, so "Xi'an Jiaotong University" and "XI'AN JIAOTONG UNIVERSITY" are one); they
share the organization's exhibits, its leads and the meeting requests made from its cards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

# The matching engine's own comparison of organizations (it keeps a delegate's colleagues out
# of their matches); one rule for both.
from bot.domain.matching import _org_key

ACTIONS = ("scan", "save", "ask")  # what a visitor did; one timestamp column each
SCORES = (1, 2, 3, 4, 5)
NOTE_MAX = 500
# A roadshow's follow-up (the projects a visitor saved) goes out after the session ends and
# makes no sense a day later.
FOLLOW_UP_AFTER = dt.timedelta(minutes=5)
FOLLOW_UP_WINDOW = dt.timedelta(hours=12)


class LeadError(Exception):
    """A lead action that the presser may not do (not a representative, unknown lead)."""


def organization_key(name: str | None) -> str:
    """The organization as matching compares it; empty for no organization."""
    return _org_key(name or "")


def same_organization(one: str | None, other: str | None) -> bool:
    """Whether two organization names are one organization (never for a blank name)."""
    key = organization_key(one)
    return bool(key) and key == organization_key(other)


def representatives(
    organization: str,
    owner: int | None,
    delegates: Iterable[tuple[int, str | None]],
) -> list[int]:
    """Who answers for an organization's exhibit: its owner first, then the organization's
    delegates (id, organization) by id."""
    key = organization_key(organization)
    team = [owner] if owner is not None else []
    if key:
        team += sorted(i for i, org in delegates if i != owner and organization_key(org) == key)
    return team


def check_score(score: int) -> int:
    """A lead's interest score, 1 to 5."""
    if score not in SCORES:
        raise LeadError(f"a score is 1 to 5, not {score}")
    return score


def clean_note(text: str) -> str | None:
    """A typed note on one line, cut to NOTE_MAX; None when blank."""
    cleaned = " ".join(text.split())
    if not cleaned:
        return None
    return cleaned if len(cleaned) <= NOTE_MAX else cleaned[: NOTE_MAX - 1] + "…"


def follow_up_window(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Sessions whose end falls in (low, high] owe their follow-up at `now`."""
    return now - FOLLOW_UP_WINDOW, now - FOLLOW_UP_AFTER


def stars(score: int | None) -> str:
    """A score as stars, e.g. ★★★☆☆; empty when not scored."""
    if score is None:
        return ""
    return "★" * score + "☆" * (5 - score)


@dataclass(frozen=True)
class Counts:
    """How many visitors scanned, saved, asked about and left their card at an exhibit."""

    scans: int = 0
    saves: int = 0
    asks: int = 0
    opted_in: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.scans + other.scans,
            self.saves + other.saves,
            self.asks + other.asks,
            self.opted_in + other.opted_in,
        )

    @property
    def total(self) -> int:
        """Every action counted, for ranking."""
        return self.scans + self.saves + self.asks


def per_hall(rows: Iterable[tuple[str | None, Counts]]) -> list[tuple[str, Counts]]:
    """Sum per-exhibit counts per hall ("" for no hall), busiest first."""
    halls: dict[str, Counts] = {}
    for hall, counts in rows:
        halls[hall or ""] = halls.get(hall or "", Counts()) + counts
    return sorted(halls.items(), key=lambda kv: (-kv[1].total, kv[0]))
