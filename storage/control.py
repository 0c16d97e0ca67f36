"""Lookups and fixes organizers make during the day: finding delegates, reachability."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from bot.domain.clock import Clock, to_iso
from storage.db import Database


@dataclass(frozen=True)
class Found:
    """A delegate as the organizer's search lists them."""

    id: int
    name: str | None
    organization: str | None
    country: str | None
    external_id: str | None
    telegram_username: str | None
    chat_id: int | None
    locale: str | None
    reachable: bool
    registered: bool


_SELECT = (
    "SELECT id, name, organization, country, external_id, telegram_username, chat_id, locale, "
    "reachable, registered_at IS NOT NULL FROM delegates WHERE deleted_at IS NULL "
)


def _found(row: aiosqlite.Row) -> Found:
    return Found(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], bool(row[8]), bool(row[9])
    )


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ControlRepository:
    """Reads and small writes for the organizers' control of the day."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def find(self, query: str, *, limit: int = 10) -> list[Found]:
        """Delegates whose id, external id, name, organization or username matches."""
        text = query.strip().lstrip("@#")
        if not text:
            return []
        pattern = _like(text)
        rows = await self._db.fetchall(
            _SELECT + "AND (CAST(id AS TEXT) = ? OR external_id = ? OR name LIKE ? ESCAPE '\\' "
            "OR organization LIKE ? ESCAPE '\\' OR telegram_username LIKE ? ESCAPE '\\') "
            "ORDER BY name COLLATE NOCASE, id LIMIT ?",
            (text, text, pattern, pattern, pattern, limit),
        )
        return [_found(row) for row in rows]

    async def get(self, delegate_id: int) -> Found | None:
        """One live delegate."""
        row = await self._db.fetchone(_SELECT + "AND id = ?", (delegate_id,))
        return _found(row) if row else None

    async def set_reachable(self, delegate_id: int, reachable: bool) -> bool:
        """Flag a delegate reachable or not; return whether anything changed."""
        changed = await self._db.execute(
            "UPDATE delegates SET reachable = ?, updated_at = ? "
            "WHERE id = ? AND reachable <> ? AND deleted_at IS NULL",
            (int(reachable), to_iso(self._clock.now()), delegate_id, int(reachable)),
        )
        return changed == 1

    async def drop_owed(self, delegate_id: int, reason: str) -> int:
        """Drop every pending message to a delegate (they were marked unreachable)."""
        return await self._db.execute(
            "UPDATE outbox SET state = 'dropped', last_error = ?, updated_at = ? "
            "WHERE delegate_id = ? AND state = 'pending'",
            (reason, to_iso(self._clock.now()), delegate_id),
        )
