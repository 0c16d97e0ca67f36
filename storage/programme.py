"""The programme repository: sessions loaded from the organizers' file, and reminder requests."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import aiosqlite

from bot.domain.clock import Clock, from_iso, to_iso
from storage.db import Database

KINDS = ("roadshow", "forum", "session", "other")
_COLUMNS = "id, key, kind, starts_at, ends_at, room, speakers, titles"


@dataclass(frozen=True)
class SessionData:
    """One programme entry as the file describes it (times aware, UTC)."""

    key: str
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    room: str | None
    speakers: tuple[str, ...]
    titles: Mapping[str, str] = field(default_factory=dict)  # language code -> title


@dataclass(frozen=True)
class ProgrammeSession:
    """A stored programme entry."""

    id: int
    data: SessionData


@dataclass(frozen=True)
class LoadSummary:
    """What a load changed."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0


@dataclass(frozen=True)
class Subscriber:
    """A delegate who asked to be reminded of a session, with where to reach them."""

    delegate_id: int
    chat_id: int


def _row_to_session(row: aiosqlite.Row) -> ProgrammeSession:
    titles = json.loads(row["titles"])
    return ProgrammeSession(
        id=row["id"],
        data=SessionData(
            key=row["key"],
            kind=row["kind"],
            starts_at=from_iso(row["starts_at"]),
            ends_at=from_iso(row["ends_at"]),
            room=row["room"],
            speakers=tuple(json.loads(row["speakers"])),
            titles={str(k): str(v) for k, v in titles.items()},
        ),
    )


def _values(data: SessionData) -> tuple[str, str, str, str, str | None, str, str]:
    return (
        data.key,
        data.kind,
        to_iso(data.starts_at),
        to_iso(data.ends_at),
        data.room,
        json.dumps(list(data.speakers), ensure_ascii=False),
        json.dumps(dict(sorted(data.titles.items())), ensure_ascii=False),
    )


class ProgrammeRepository:
    """Reads and writes programme sessions and reminder requests."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def load(self, sessions: Iterable[SessionData], *, replace: bool = False) -> LoadSummary:
        """Insert or update every session by key, in one transaction; running it twice changes
        nothing. With replace, sessions whose key is not given are removed (reminders too)."""
        now = to_iso(self._clock.now())
        added = updated = unchanged = removed = 0
        keys: list[str] = []
        async with self._db.transaction() as db:
            for data in sessions:
                keys.append(data.key)
                values = _values(data)
                row = await db.fetchone(
                    f"SELECT {_COLUMNS} FROM programme_sessions WHERE key = ?", (data.key,)
                )
                if row is None:
                    await db.execute(
                        "INSERT INTO programme_sessions (key, kind, starts_at, ends_at, room, "
                        "speakers, titles, created_at, updated_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (*values, now, now),
                    )
                    added += 1
                elif _values(_row_to_session(row).data) == values:
                    unchanged += 1
                else:
                    await db.execute(
                        "UPDATE programme_sessions SET kind = ?, starts_at = ?, ends_at = ?, "
                        "room = ?, speakers = ?, titles = ?, updated_at = ? WHERE key = ?",
                        (*values[1:], now, data.key),
                    )
                    updated += 1
            if replace:
                marks = ", ".join("?" for _ in keys)
                where = f"WHERE key NOT IN ({marks})" if keys else ""
                removed = await db.execute(f"DELETE FROM programme_sessions {where}", keys)
        return LoadSummary(added, updated, unchanged, removed)

    async def all(self) -> list[ProgrammeSession]:
        """Every session, in time order."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM programme_sessions ORDER BY starts_at, ends_at, key"
        )
        return [_row_to_session(row) for row in rows]

    async def get(self, session_id: int) -> ProgrammeSession | None:
        """One session, or None if it is not (or no longer) in the programme."""
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM programme_sessions WHERE id = ?", (session_id,)
        )
        return _row_to_session(row) if row else None

    async def starting_between(
        self, after: dt.datetime, until: dt.datetime
    ) -> list[ProgrammeSession]:
        """Sessions that start after `after` and no later than `until`."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM programme_sessions WHERE starts_at > ? AND starts_at <= ? "
            "ORDER BY starts_at, id",
            (to_iso(after), to_iso(until)),
        )
        return [_row_to_session(row) for row in rows]

    async def reminded(self, delegate_id: int) -> set[int]:
        """The sessions a delegate asked to be reminded of."""
        rows = await self._db.fetchall(
            "SELECT session_id FROM programme_reminders WHERE delegate_id = ?", (delegate_id,)
        )
        return {int(row[0]) for row in rows}

    async def set_reminder(self, delegate_id: int, session_id: int, wanted: bool) -> bool:
        """Ask for (or cancel) a reminder; return whether anything changed."""
        if wanted:
            changed = await self._db.execute(
                "INSERT OR IGNORE INTO programme_reminders (delegate_id, session_id, created_at) "
                "VALUES (?, ?, ?)",
                (delegate_id, session_id, to_iso(self._clock.now())),
            )
        else:
            changed = await self._db.execute(
                "DELETE FROM programme_reminders WHERE delegate_id = ? AND session_id = ?",
                (delegate_id, session_id),
            )
        return changed > 0

    async def subscribers(self, session_id: int) -> list[Subscriber]:
        """Live delegates with a chat who asked to be reminded of a session."""
        rows = await self._db.fetchall(
            "SELECT d.id, d.chat_id FROM programme_reminders AS r "
            "JOIN delegates AS d ON d.id = r.delegate_id "
            "WHERE r.session_id = ? AND d.deleted_at IS NULL AND d.chat_id IS NOT NULL "
            "ORDER BY d.id",
            (session_id,),
        )
        return [Subscriber(int(row[0]), int(row[1])) for row in rows]
