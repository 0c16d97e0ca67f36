"""What matching reads about delegates, and the marks delegates leave on their matches."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import aiosqlite

from bot.domain.clock import Clock, to_iso
from storage.db import Database


class Mark(StrEnum):
    """What a delegate did about a counterpart (or what the bot did for them)."""

    HIDDEN = "hidden"  # never show this counterpart again
    INTERESTED = "interested"  # asked to meet; the counterpart was told
    ANNOUNCED = "announced"  # was told of this match once


@dataclass(frozen=True)
class MatchProfile:
    """A registered, live delegate as matching and match cards see them."""

    id: int
    name: str
    organization: str
    country: str | None
    role: str | None
    meeting_languages: tuple[str, ...]
    consent: bool
    locale: str | None
    chat_id: int | None
    notify_matches: bool


_PROFILE_COLUMNS = (
    "id, name, organization, country, role, meeting_languages, consent, locale, chat_id, "
    "notify_matches"
)
# Matching considers delegates who finished registration (or were imported) and are not erased.
_LIVE = "deleted_at IS NULL AND registered_at IS NOT NULL"


def _row_to_profile(row: aiosqlite.Row) -> MatchProfile:
    return MatchProfile(
        id=row["id"],
        name=row["name"] or "",
        organization=row["organization"] or "",
        country=row["country"],
        role=row["role"],
        meeting_languages=tuple(row["meeting_languages"].split()),
        consent=bool(row["consent"]),
        locale=row["locale"],
        chat_id=row["chat_id"],
        notify_matches=bool(row["notify_matches"]),
    )


class MatchRepository:
    """Reads delegates for matching; writes the marks delegates leave on their matches."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def profiles(self) -> list[MatchProfile]:
        """Return every live, registered delegate."""
        rows = await self._db.fetchall(
            f"SELECT {_PROFILE_COLUMNS} FROM delegates WHERE {_LIVE} ORDER BY id"
        )
        return [_row_to_profile(row) for row in rows]

    async def profile(self, delegate_id: int) -> MatchProfile | None:
        """Return one live, registered delegate."""
        row = await self._db.fetchone(
            f"SELECT {_PROFILE_COLUMNS} FROM delegates WHERE id = ? AND {_LIVE}", (delegate_id,)
        )
        return _row_to_profile(row) if row else None

    async def add_mark(self, delegate_id: int, other_id: int, mark: Mark) -> bool:
        """Record a mark; return False when it was already there or either delegate is erased.

        One guarded statement: a mark about someone whose /delete_me committed meanwhile is
        never written, whatever ran between the caller's checks and this insert.
        """
        changed = await self._db.execute(
            "INSERT INTO match_marks (delegate_id, other_id, mark, created_at) "
            "SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM delegates WHERE id = ? "
            "AND deleted_at IS NULL) AND EXISTS (SELECT 1 FROM delegates WHERE id = ? "
            "AND deleted_at IS NULL) ON CONFLICT DO NOTHING",
            (
                delegate_id, other_id, mark.value, to_iso(self._clock.now()),
                delegate_id, other_id,
            ),
        )  # fmt: skip
        return changed > 0

    async def has_mark(self, delegate_id: int, other_id: int, mark: Mark) -> bool:
        """Whether the delegate left this mark on the counterpart."""
        value = await self._db.fetchval(
            "SELECT 1 FROM match_marks WHERE delegate_id = ? AND other_id = ? AND mark = ?",
            (delegate_id, other_id, mark.value),
        )
        return value is not None

    async def marked(self, delegate_id: int, mark: Mark) -> set[int]:
        """Return the counterparts a delegate left this mark on."""
        rows = await self._db.fetchall(
            "SELECT other_id FROM match_marks WHERE delegate_id = ? AND mark = ?",
            (delegate_id, mark.value),
        )
        return {int(row[0]) for row in rows}

    async def all_marked(self, mark: Mark) -> dict[int, set[int]]:
        """Return, for every delegate who left this mark, the counterparts they left it on."""
        rows = await self._db.fetchall(
            "SELECT delegate_id, other_id FROM match_marks WHERE mark = ?", (mark.value,)
        )
        found: dict[int, set[int]] = {}
        for row in rows:
            found.setdefault(int(row[0]), set()).add(int(row[1]))
        return found

    async def marks_between(self, delegate_id: int, others: Iterable[int]) -> dict[int, set[Mark]]:
        """Return the marks a delegate left on each of the given counterparts."""
        wanted = list(others)
        if not wanted:
            return {}
        placeholders = ", ".join("?" for _ in wanted)
        rows = await self._db.fetchall(
            f"SELECT other_id, mark FROM match_marks WHERE delegate_id = ? "
            f"AND other_id IN ({placeholders})",
            (delegate_id, *wanted),
        )
        found: dict[int, set[Mark]] = {}
        for row in rows:
            found.setdefault(int(row[0]), set()).add(Mark(row[1]))
        return found

    async def forget(self, delegate_id: int) -> int:
        """Remove every mark by or about a delegate (their data is being erased)."""
        return await self._db.execute(
            "DELETE FROM match_marks WHERE delegate_id = ? OR other_id = ?",
            (delegate_id, delegate_id),
        )
