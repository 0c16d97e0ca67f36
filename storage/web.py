"""The web face's own rows: the venue board's secret link."""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain.board import BoardPerson
from bot.domain.clock import Clock, to_iso
from storage.db import Database


class BoardLinkRepository:
    """The one live board secret, and the revoked ones before it."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def live(self) -> str | None:
        """The secret that opens the board now, if one was made."""
        value = await self._db.fetchval("SELECT secret FROM board_links WHERE revoked_at IS NULL")
        return str(value) if value is not None else None

    async def add_if_none(self, secret: str) -> str:
        """Make `secret` the live one unless there is one; return the live secret."""
        async with self._db.transaction() as db:
            current = await db.fetchval("SELECT secret FROM board_links WHERE revoked_at IS NULL")
            if current is not None:
                return str(current)
            await db.insert(
                "INSERT INTO board_links (secret, created_at) VALUES (?, ?)",
                (secret, to_iso(self._clock.now())),
            )
            return secret

    async def replace(self, secret: str) -> None:
        """Revoke the live secret and make `secret` the live one."""
        now = to_iso(self._clock.now())
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE board_links SET revoked_at = ? WHERE revoked_at IS NULL", (now,)
            )
            await db.insert(
                "INSERT INTO board_links (secret, created_at) VALUES (?, ?)", (secret, now)
            )


class BoardRepository:
    """What the venue board shows of delegates, read in one query per refresh."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def people(self, delegate_ids: Iterable[int]) -> dict[int, BoardPerson]:
        """Name, organization and country of each delegate still here (never a contact)."""
        ids = sorted(set(delegate_ids))
        if not ids:
            return {}
        marks = ", ".join("?" for _ in ids)
        rows = await self._db.fetchall(
            f"SELECT id, name, organization, country FROM delegates "
            f"WHERE id IN ({marks}) AND deleted_at IS NULL",
            ids,
        )
        return {
            int(row["id"]): BoardPerson(
                name=row["name"] or "", organization=row["organization"], country=row["country"]
            )
            for row in rows
        }
