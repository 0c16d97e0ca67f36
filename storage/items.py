"""The items repository: offers and needs, drafts included."""

from __future__ import annotations

from typing import Any

import aiosqlite

from bot.domain.clock import Clock, from_iso, to_iso
from bot.domain.items import ItemStep, Side, StoredItem, parse_side
from storage.db import Database

__all__ = ["ItemRepository", "StoredItem"]

_COLUMNS = (
    "id, delegate_id, side, text, kind, trl, ip_status, fields, complete, step, imported, "
    "created_at, updated_at"
)

# Columns update() may set; anything else is refused so no caller can build SQL from input.
_WRITABLE = frozenset({"text", "kind", "trl", "ip_status", "fields", "complete", "step"})


def _row_to_item(row: aiosqlite.Row) -> StoredItem:
    side = parse_side(row["side"])
    if side is None:
        raise ValueError(f"item {row['id']} has side {row['side']!r}")
    return StoredItem(
        id=row["id"],
        delegate_id=row["delegate_id"],
        side=side,
        text=row["text"] or "",
        kind=row["kind"],
        trl=row["trl"],
        ip_status=row["ip_status"],
        fields=tuple(row["fields"].split()),
        complete=bool(row["complete"]),
        created_at=from_iso(row["created_at"]),
        updated_at=from_iso(row["updated_at"]),
        step=ItemStep(row["step"]) if row["step"] else None,
        imported=bool(row["imported"]),
    )


def _to_column(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, tuple | list):
        return " ".join(value)
    if isinstance(value, ItemStep):
        return value.value
    return value


class ItemRepository:
    """Reads and writes offers and needs; every write joins the caller's transaction."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def add(
        self,
        delegate_id: int,
        side: str,
        text: str,
        *,
        kind: str | None = None,
        trl: int | None = None,
        ip_status: str | None = None,
        fields: tuple[str, ...] = (),
        complete: bool = True,
        step: ItemStep | None = None,
        imported: bool = False,
    ) -> StoredItem:
        """Store a new item and return it."""
        now = to_iso(self._clock.now())
        item_id = await self._db.insert(
            "INSERT INTO items (delegate_id, side, text, kind, trl, ip_status, fields, complete, "
            "step, imported, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                delegate_id, side, text or None, kind, trl, ip_status, " ".join(fields),
                int(complete), _to_column(step), int(imported), now, now,
            ),
        )  # fmt: skip
        return await self._must_get(item_id)

    async def start_draft(self, delegate_id: int, side: Side) -> StoredItem:
        """Begin a new item that waits for its text; any other pending question is dropped."""
        async with self._db.transaction():
            await self.drop_questions(delegate_id)
            return await self.add(delegate_id, side, "", complete=False, step=ItemStep.TEXT)

    async def drop_questions(self, delegate_id: int) -> None:
        """Forget unfinished drafts and cancel pending edits of the delegate's items."""
        async with self._db.transaction() as db:
            await db.execute(
                "DELETE FROM items WHERE delegate_id = ? AND complete = 0", (delegate_id,)
            )
            await db.execute(
                "UPDATE items SET step = NULL WHERE delegate_id = ? AND step IS NOT NULL",
                (delegate_id,),
            )

    async def ask(self, item_id: int, step: ItemStep) -> StoredItem:
        """Make `step` the delegate's one pending question, about this item."""
        async with self._db.transaction() as db:
            item = await self._must_get(item_id)
            await db.execute(
                "DELETE FROM items WHERE delegate_id = ? AND complete = 0 AND id <> ?",
                (item.delegate_id, item_id),
            )
            await db.execute(
                "UPDATE items SET step = NULL WHERE delegate_id = ? AND id <> ? "
                "AND step IS NOT NULL",
                (item.delegate_id, item_id),
            )
            return await self.update(item_id, step=step)

    async def update(self, item_id: int, **fields: Any) -> StoredItem:
        """Save changed columns at once and return the item as stored."""
        unknown = set(fields) - _WRITABLE
        if unknown:
            raise ValueError(f"not writable: {sorted(unknown)}")
        if not fields:
            return await self._must_get(item_id)
        assignments = ", ".join(f"{name} = ?" for name in fields)
        values = [_to_column(value) for value in fields.values()]
        await self._db.execute(
            f"UPDATE items SET {assignments}, updated_at = ? WHERE id = ?",
            (*values, to_iso(self._clock.now()), item_id),
        )
        return await self._must_get(item_id)

    async def delete(self, item_id: int) -> None:
        """Remove an item."""
        await self._db.execute("DELETE FROM items WHERE id = ?", (item_id,))

    async def delete_for_delegate(self, delegate_id: int) -> int:
        """Remove all of a delegate's items (their data is being erased); return how many."""
        return await self._db.execute("DELETE FROM items WHERE delegate_id = ?", (delegate_id,))

    async def get(self, item_id: int) -> StoredItem | None:
        """Return one item, complete or draft."""
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM items WHERE id = ?", (item_id,))
        return _row_to_item(row) if row else None

    async def _must_get(self, item_id: int) -> StoredItem:
        item = await self.get(item_id)
        if item is None:
            raise LookupError(f"item {item_id} does not exist")
        return item

    async def for_delegate(self, delegate_id: int) -> list[StoredItem]:
        """Return a delegate's items, drafts included, oldest first."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM items WHERE delegate_id = ? ORDER BY id", (delegate_id,)
        )
        return [_row_to_item(row) for row in rows]

    async def complete_for(self, delegate_id: int) -> list[StoredItem]:
        """Return a delegate's complete items, oldest first."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM items WHERE delegate_id = ? AND complete = 1 ORDER BY id",
            (delegate_id,),
        )
        return [_row_to_item(row) for row in rows]

    async def count_complete(self, delegate_id: int) -> int:
        """How many complete items a delegate has."""
        value = await self._db.fetchval(
            "SELECT count(*) FROM items WHERE delegate_id = ? AND complete = 1", (delegate_id,)
        )
        return int(value or 0)

    async def pending_question(self, delegate_id: int) -> StoredItem | None:
        """Return the item whose question the delegate is being asked, if any."""
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM items WHERE delegate_id = ? AND step IS NOT NULL",
            (delegate_id,),
        )
        return _row_to_item(row) if row else None

    async def all_complete(self) -> list[StoredItem]:
        """Return every complete item, by delegate and age."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM items WHERE complete = 1 ORDER BY delegate_id, id"
        )
        return [_row_to_item(row) for row in rows]

    async def replace_imported(
        self, delegate_id: int, side: str, text: str | None, fields: tuple[str, ...]
    ) -> bool:
        """Make the import's one item of a side say `text`; return whether anything changed.

        Inserts it, updates it when the text or fields changed, deletes it when the text is now
        empty. Running the same import twice changes nothing; an erased delegate gets nothing.
        """
        wanted = (text or "").strip()
        async with self._db.transaction() as db:
            erased = await db.fetchval(
                "SELECT deleted_at IS NOT NULL FROM delegates WHERE id = ?", (delegate_id,)
            )
            if erased:
                return False  # who deleted their data is not brought back by a re-import
            row = await db.fetchone(
                f"SELECT {_COLUMNS} FROM items WHERE delegate_id = ? AND side = ? "
                "AND imported = 1",
                (delegate_id, side),
            )
            current = _row_to_item(row) if row else None
            if not wanted:
                if current is None:
                    return False
                await self.delete(current.id)
                return True
            if current is None:
                await self.add(delegate_id, side, wanted, fields=fields, imported=True)
                return True
            if current.text == wanted and current.fields == fields:
                return False
            await self.update(current.id, text=wanted, fields=fields)
            return True
