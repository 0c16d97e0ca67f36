"""The leads repository: what visitors did at exhibits, what exhibitors noted, and who may answer
an organization's meeting requests (meeting_teams)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import aiosqlite

from bot.domain.clock import Clock, from_iso, to_iso
from bot.domain.leads import ACTIONS, Counts
from storage.db import Database

_COLUMNS = {"scan": "scanned_at", "save": "saved_at", "ask": "asked_at"}
assert set(_COLUMNS) == set(ACTIONS)


@dataclass(frozen=True)
class Lead:
    """A visitor who opted in at an exhibit, as its representatives see them."""

    id: int
    exhibit_id: int
    exhibit_key: str
    delegate_id: int
    name: str
    organization: str
    contact: str | None
    scanned_at: dt.datetime | None
    saved_at: dt.datetime | None
    asked_at: dt.datetime | None
    note: str | None
    score: int | None


@dataclass(frozen=True)
class ExhibitCount:
    """One exhibit's lead counts, for organizers."""

    exhibit_id: int
    key: str
    hall: str | None
    booth: str | None
    counts: Counts


@dataclass(frozen=True)
class Saver:
    """A visitor with a chat who saved some of a roadshow session's projects."""

    delegate_id: int
    chat_id: int
    exhibit_ids: tuple[int, ...]


def _at(value: str | None) -> dt.datetime | None:
    return from_iso(value) if value else None


def _lead(row: aiosqlite.Row) -> Lead:
    return Lead(
        id=int(row["id"]),
        exhibit_id=int(row["exhibit_id"]),
        exhibit_key=row["key"],
        delegate_id=int(row["delegate_id"]),
        name=row["name"] or "",
        organization=row["organization"] or "",
        contact=row["contact"],
        scanned_at=_at(row["scanned_at"]),
        saved_at=_at(row["saved_at"]),
        asked_at=_at(row["asked_at"]),
        note=row["note"],
        score=row["score"],
    )


_LEAD_SELECT = (
    "SELECT l.id, l.exhibit_id, e.key, l.delegate_id, d.name, d.organization, d.contact, "
    "l.scanned_at, l.saved_at, l.asked_at, l.note, l.score "
    "FROM exhibit_leads AS l JOIN exhibits AS e ON e.id = l.exhibit_id "
    "JOIN delegates AS d ON d.id = l.delegate_id "
    "WHERE l.opted_in_at IS NOT NULL AND d.deleted_at IS NULL "
)


class LeadRepository:
    """Leads per exhibit and visitor, and the teams of organization meeting requests."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def record(self, exhibit_id: int, delegate_id: int, action: str) -> None:
        """Note that a visitor scanned, saved or asked (the first time counts)."""
        column = _COLUMNS[action]
        now = to_iso(self._clock.now())
        await self._db.execute(
            f"INSERT INTO exhibit_leads (exhibit_id, delegate_id, {column}, "  # noqa: S608
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (exhibit_id, delegate_id) DO UPDATE SET "
            f"{column} = coalesce({column}, excluded.{column}), updated_at = excluded.updated_at",
            (exhibit_id, delegate_id, now, now, now),
        )

    async def set_opt_in(self, exhibit_id: int, delegate_id: int, wanted: bool) -> None:
        """Let the exhibit's representatives see the visitor, or stop it."""
        now = to_iso(self._clock.now())
        await self._db.execute(
            "INSERT INTO exhibit_leads (exhibit_id, delegate_id, opted_in_at, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (exhibit_id, delegate_id) DO UPDATE SET "
            "opted_in_at = excluded.opted_in_at, updated_at = excluded.updated_at",
            (exhibit_id, delegate_id, now if wanted else None, now, now),
        )

    async def opted_in(self, exhibit_id: int, delegate_id: int) -> bool:
        """Whether the visitor left their card at the exhibit."""
        value = await self._db.fetchval(
            "SELECT opted_in_at FROM exhibit_leads WHERE exhibit_id = ? AND delegate_id = ?",
            (exhibit_id, delegate_id),
        )
        return value is not None

    async def for_exhibits(self, exhibit_ids: Sequence[int]) -> list[Lead]:
        """The opted-in leads of these exhibits, the most recently active first."""
        if not exhibit_ids:
            return []
        marks = ", ".join("?" * len(exhibit_ids))
        rows = await self._db.fetchall(
            f"{_LEAD_SELECT} AND l.exhibit_id IN ({marks}) "  # noqa: S608 - only marks
            "ORDER BY l.updated_at DESC, l.id DESC",
            list(exhibit_ids),
        )
        return [_lead(r) for r in rows]

    async def get(self, lead_id: int) -> Lead | None:
        """One opted-in lead."""
        row = await self._db.fetchone(f"{_LEAD_SELECT} AND l.id = ?", (lead_id,))
        return _lead(row) if row is not None else None

    async def set_note(self, lead_id: int, note: str | None) -> None:
        """The exhibitor's note on a lead."""
        await self._db.execute(
            "UPDATE exhibit_leads SET note = ?, updated_at = ? WHERE id = ?",
            (note, to_iso(self._clock.now()), lead_id),
        )

    async def set_score(self, lead_id: int, score: int) -> None:
        """The exhibitor's 1-5 interest score on a lead."""
        await self._db.execute(
            "UPDATE exhibit_leads SET score = ?, updated_at = ? WHERE id = ?",
            (score, to_iso(self._clock.now()), lead_id),
        )

    async def counts(self) -> list[ExhibitCount]:
        """Per exhibit (every one, counted or not): scans, saves, asks and cards left."""
        rows = await self._db.fetchall(
            "SELECT e.id, e.key, e.hall, e.booth, count(l.scanned_at), count(l.saved_at), "
            "count(l.asked_at), count(l.opted_in_at) FROM exhibits AS e "
            "LEFT JOIN exhibit_leads AS l ON l.exhibit_id = e.id "
            "GROUP BY e.id ORDER BY e.key"
        )
        return [
            ExhibitCount(int(r[0]), r[1], r[2], r[3], Counts(r[4], r[5], r[6], r[7])) for r in rows
        ]

    async def forget(self, delegate_id: int) -> int:
        """Remove a visitor's leads (their /delete_me); the caller holds the transaction."""
        return await self._db.execute(
            "DELETE FROM exhibit_leads WHERE delegate_id = ?", (delegate_id,)
        )

    async def delegates(self) -> list[tuple[int, str | None]]:
        """Every live registered delegate with a chat: (id, organization)."""
        rows = await self._db.fetchall(
            "SELECT id, organization FROM delegates WHERE deleted_at IS NULL "
            "AND registered_at IS NOT NULL AND chat_id IS NOT NULL ORDER BY id"
        )
        return [(int(r[0]), r[1]) for r in rows]

    async def organizations(self) -> list[tuple[int, str, str | None]]:
        """Every exhibit's (id, organization, owner_external_id), by id."""
        rows = await self._db.fetchall(
            "SELECT id, organization, owner_external_id FROM exhibits ORDER BY id"
        )
        return [(int(r[0]), r[1], r[2]) for r in rows]

    async def member(self, delegate_id: int) -> tuple[str | None, str | None] | None:
        """A live registered delegate's (organization, external_id); None otherwise."""
        row = await self._db.fetchone(
            "SELECT organization, external_id FROM delegates WHERE id = ? "
            "AND deleted_at IS NULL AND registered_at IS NOT NULL",
            (delegate_id,),
        )
        return (row[0], row[1]) if row is not None else None

    async def projects(self, roadshow: str) -> list[int]:
        """The exhibits pitched in a programme session (roadshow = its key), in key order."""
        rows = await self._db.fetchall(
            "SELECT id FROM exhibits WHERE roadshow = ? ORDER BY key", (roadshow,)
        )
        return [int(r[0]) for r in rows]

    async def project_counts(self) -> dict[str, int]:
        """Session key -> how many exhibits are pitched in it."""
        rows = await self._db.fetchall(
            "SELECT roadshow, count(*) FROM exhibits WHERE roadshow IS NOT NULL GROUP BY 1"
        )
        return {str(r[0]): int(r[1]) for r in rows}

    async def sessions_ended(self, low: dt.datetime, high: dt.datetime) -> list[tuple[int, str]]:
        """Programme sessions (id, key) that ended in (low, high]."""
        rows = await self._db.fetchall(
            "SELECT id, key FROM programme_sessions WHERE ends_at > ? AND ends_at <= ? "
            "ORDER BY ends_at, id",
            (to_iso(low), to_iso(high)),
        )
        return [(int(r[0]), str(r[1])) for r in rows]

    async def savers(self, roadshow: str) -> list[Saver]:
        """Live visitors with a chat who saved projects of a roadshow session, with which."""
        rows = await self._db.fetchall(
            "SELECT d.id, d.chat_id, group_concat(e.id) FROM exhibit_saves AS s "
            "JOIN exhibits AS e ON e.id = s.exhibit_id "
            "JOIN delegates AS d ON d.id = s.delegate_id "
            "WHERE e.roadshow = ? AND d.deleted_at IS NULL AND d.chat_id IS NOT NULL "
            "GROUP BY d.id ORDER BY d.id",
            (roadshow,),
        )
        return [
            Saver(int(r[0]), int(r[1]), tuple(sorted(int(i) for i in str(r[2]).split(","))))
            for r in rows
        ]


class TeamRepository:
    """The representatives who may answer a meeting request made from an organization's card."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, meeting_id: int, members: Iterable[int]) -> None:
        """Name who may answer the request (inside the caller's transaction)."""
        await self._db.executemany(
            "INSERT OR IGNORE INTO meeting_teams (meeting_id, delegate_id) VALUES (?, ?)",
            [(meeting_id, m) for m in members],
        )

    async def members(self, meeting_id: int) -> list[int]:
        """The request's team, by id."""
        rows = await self._db.fetchall(
            "SELECT delegate_id FROM meeting_teams WHERE meeting_id = ? ORDER BY delegate_id",
            (meeting_id,),
        )
        return [int(r[0]) for r in rows]

    async def has(self, meeting_id: int, delegate_id: int) -> bool:
        """Whether the delegate may answer the request for their organization."""
        value = await self._db.fetchval(
            "SELECT 1 FROM meeting_teams WHERE meeting_id = ? AND delegate_id = ?",
            (meeting_id, delegate_id),
        )
        return value is not None

    async def take(self, meeting_id: int, delegate_id: int) -> bool:
        """Make a team member the invitee of a still open request; False if no longer open.

        Raises sqlite3.IntegrityError when the requester already asked that member for the slot.
        """
        changed = await self._db.execute(
            "UPDATE meetings SET invitee_id = ? WHERE id = ? AND state = 'requested' "
            "AND requester_id <> ?",
            (delegate_id, meeting_id, delegate_id),
        )
        return changed == 1
