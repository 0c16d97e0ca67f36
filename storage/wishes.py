"""The wishes repository: whom each delegate must meet, would like to meet, or not at all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.autoschedule import Priority, Wish, WishRow
from bot.domain.clock import Clock, to_iso
from storage.db import Database


@dataclass(frozen=True)
class WishImport:
    """What an import of wishes did, with the rows it refused (line, reason)."""

    inserted: int
    updated: int
    unchanged: int
    skipped: tuple[tuple[int, str], ...]


class WishRepository:
    """Reads and writes wishes; writes join the caller's transaction."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def set(
        self, delegate_id: int, counterpart_id: int, priority: Priority, *, source: str = "chat"
    ) -> str:
        """Save a wish; return 'inserted', 'updated' or 'unchanged'."""
        now = to_iso(self._clock.now())
        async with self._db.transaction() as db:
            old = await db.fetchval(
                "SELECT priority FROM wishes WHERE delegate_id = ? AND counterpart_id = ?",
                (delegate_id, counterpart_id),
            )
            if old == priority.value:
                return "unchanged"
            await db.execute(
                "INSERT INTO wishes (delegate_id, counterpart_id, priority, source, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (delegate_id, counterpart_id) DO UPDATE SET "
                "priority = excluded.priority, source = excluded.source, "
                "updated_at = excluded.updated_at",
                (delegate_id, counterpart_id, priority.value, source, now, now),
            )
        return "inserted" if old is None else "updated"

    async def clear(self, delegate_id: int, counterpart_id: int) -> bool:
        """Remove a wish; return whether there was one."""
        changed = await self._db.execute(
            "DELETE FROM wishes WHERE delegate_id = ? AND counterpart_id = ?",
            (delegate_id, counterpart_id),
        )
        return changed == 1

    async def get(self, delegate_id: int, counterpart_id: int) -> Priority | None:
        """A delegate's wish about one counterpart."""
        value = await self._db.fetchval(
            "SELECT priority FROM wishes WHERE delegate_id = ? AND counterpart_id = ?",
            (delegate_id, counterpart_id),
        )
        return Priority(value) if value else None

    async def for_delegate(self, delegate_id: int) -> list[tuple[int, Priority]]:
        """A delegate's wishes about live counterparts: must first, then by name."""
        rows = await self._db.fetchall(
            "SELECT w.counterpart_id, w.priority FROM wishes AS w "
            "JOIN delegates AS d ON d.id = w.counterpart_id "
            "WHERE w.delegate_id = ? AND d.deleted_at IS NULL "
            "ORDER BY CASE w.priority WHEN 'must' THEN 0 WHEN 'maybe' THEN 1 ELSE 2 END, "
            "d.name COLLATE NOCASE, d.id",
            (delegate_id,),
        )
        return [(int(row[0]), Priority(row[1])) for row in rows]

    async def between_live(self) -> list[Wish]:
        """Every wish whose two delegates are registered, live and shown."""
        rows = await self._db.fetchall(
            "SELECT w.delegate_id, w.counterpart_id, w.priority FROM wishes AS w "
            "JOIN delegates AS a ON a.id = w.delegate_id "
            "JOIN delegates AS b ON b.id = w.counterpart_id "
            "WHERE a.deleted_at IS NULL AND b.deleted_at IS NULL "
            "AND a.registered_at IS NOT NULL AND b.registered_at IS NOT NULL "
            "AND a.consent = 1 AND b.consent = 1 "
            "ORDER BY w.delegate_id, w.counterpart_id"
        )
        return [Wish(int(r[0]), int(r[1]), Priority(r[2])) for r in rows]

    async def forget(self, delegate_id: int) -> int:
        """Drop every wish by or about a delegate (they erased their data)."""
        return await self._db.execute(
            "DELETE FROM wishes WHERE delegate_id = ? OR counterpart_id = ?",
            (delegate_id, delegate_id),
        )

    async def resolve(self, name: str) -> int | None:
        """The live delegate an organizer's file names: external_id or tg:<telegram user id>."""
        if name.startswith("tg:") and name[3:].isascii() and name[3:].isdigit():
            value = await self._db.fetchval(
                "SELECT id FROM delegates WHERE telegram_user_id = ? AND deleted_at IS NULL",
                (int(name[3:]),),
            )
        else:
            value = await self._db.fetchval(
                "SELECT id FROM delegates WHERE external_id = ? AND deleted_at IS NULL", (name,)
            )
        return int(value) if value is not None else None

    async def import_rows(self, rows: Sequence[WishRow]) -> WishImport:
        """Save an organizer's wishes in one transaction; rows naming nobody are skipped."""
        counts = {"inserted": 0, "updated": 0, "unchanged": 0}
        skipped: list[tuple[int, str]] = []
        async with self._db.transaction():
            for row in rows:
                who = await self.resolve(row.delegate)
                whom = await self.resolve(row.counterpart)
                if who is None:
                    skipped.append((row.line, f"unknown delegate {row.delegate!r}"))
                elif whom is None:
                    skipped.append((row.line, f"unknown counterpart {row.counterpart!r}"))
                elif who == whom:
                    skipped.append((row.line, "a delegate cannot wish to meet themselves"))
                else:
                    counts[await self.set(who, whom, row.priority, source="import")] += 1
        return WishImport(
            counts["inserted"], counts["updated"], counts["unchanged"], tuple(skipped)
        )
