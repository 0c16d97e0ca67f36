"""Stored text vectors: one row per (encoder version, text), the text itself never stored."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from bot.domain.clock import Clock, to_iso
from bot.domain.encoding import Vector
from storage.db import Database

_DTYPE = np.dtype("<f2")  # half precision: cosines stay within 1e-3, the table half the size


class VectorRepository:
    """Vectors keyed by bot.domain.encoding.text_key."""

    def __init__(self, db: Database, clock: Clock, *, table: str = "text_vectors") -> None:
        self._db = db
        self._clock = clock
        self._table = table  # text_vectors (items) or exhibit_vectors (the catalogue)

    async def load(self, encoder: str, keys: Sequence[str] | None = None) -> dict[str, Vector]:
        """The stored vectors of this encoder version, by key (all, or those of `keys`)."""
        if keys is None:
            rows = await self._db.fetchall(
                f"SELECT key, dim, vector FROM {self._table} WHERE encoder = ?",
                (encoder,),  # noqa: S608 - a fixed table name
            )
        else:
            rows = []
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ", ".join("?" * len(chunk))
                rows += await self._db.fetchall(
                    f"SELECT key, dim, vector FROM {self._table} "  # noqa: S608 - only marks
                    f"WHERE encoder = ? AND key IN ({marks})",
                    (encoder, *chunk),
                )
        out: dict[str, Vector] = {}
        for row in rows:
            raw = np.frombuffer(row["vector"], dtype=_DTYPE)
            if raw.shape[0] == row["dim"]:
                out[row["key"]] = raw.astype(np.float32)
        return out

    async def save(self, encoder: str, vectors: Mapping[str, Vector]) -> None:
        """Store vectors (a key already stored is kept: same key, same text, same model)."""
        if not vectors:
            return
        now = to_iso(self._clock.now())
        await self._db.executemany(
            f"INSERT OR IGNORE INTO {self._table} (key, encoder, dim, vector, created_at) "  # noqa: S608 - a fixed table name
            "VALUES (?, ?, ?, ?, ?)",
            [
                (key, encoder, int(vec.shape[0]), vec.astype(_DTYPE).tobytes(), now)
                for key, vec in vectors.items()
            ],
        )

    async def prune(self, encoder: str, keep: Iterable[str]) -> int:
        """Delete vectors of other encoder versions and of texts no item has any more."""
        wanted = set(keep)
        stored = await self._db.fetchall(
            f"SELECT key FROM {self._table} WHERE encoder = ?",
            (encoder,),  # noqa: S608 - a fixed table name
        )
        stale = [(row["key"],) for row in stored if row["key"] not in wanted]
        async with self._db.transaction():
            removed = await self._db.execute(
                f"DELETE FROM {self._table} WHERE encoder <> ?",
                (encoder,),  # noqa: S608 - a fixed table name
            )
            if stale:
                await self._db.executemany(f"DELETE FROM {self._table} WHERE key = ?", stale)  # noqa: S608 - a fixed table name
        return removed + len(stale)

    async def count(self) -> int:
        """How many vectors are stored."""
        return int(await self._db.fetchval(f"SELECT count(*) FROM {self._table}") or 0)  # noqa: S608 - a fixed table name
