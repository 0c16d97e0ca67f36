"""Messages between the two sides of a request, and the guests of booked meetings.

Writes join the caller's transaction. A guest's seat is a busy_slots row with the meeting's id,
so the schema refuses a guest who is busy in that slot, and freeing a meeting's slot frees its
guests too.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite

from bot.domain.clock import Clock, from_iso, to_iso
from bot.domain.guests import ALREADY_BROUGHT, GUEST_BUSY, NOT_ELIGIBLE, GuestError, GuestKind
from bot.domain.meetings import Meeting
from bot.domain.talk import Basis
from storage.db import Database
from storage.meetings import _COLUMNS, _row_to_meeting


@dataclass(frozen=True)
class TalkMessage:
    """One relayed message."""

    id: int
    meeting_id: int
    author_id: int
    recipient_id: int
    body: str
    language: str | None
    basis: Basis
    created_at: dt.datetime


@dataclass(frozen=True)
class Guest:
    """Someone a party brings to a booked meeting."""

    meeting_id: int
    guest_id: int
    added_by: int
    kind: GuestKind


@dataclass(frozen=True)
class Candidate:
    """A delegate who could join a meeting: a colleague or an interpreter."""

    id: int
    name: str
    organization: str | None
    role: str | None
    meeting_languages: tuple[str, ...]


def _row_to_message(row: aiosqlite.Row) -> TalkMessage:
    return TalkMessage(
        id=row["id"],
        meeting_id=row["meeting_id"],
        author_id=row["author_id"],
        recipient_id=row["recipient_id"],
        body=row["body"],
        language=row["language"],
        basis=Basis(row["language_basis"]),
        created_at=from_iso(row["created_at"]),
    )


_MESSAGE_COLUMNS = (
    "m.id, m.meeting_id, m.author_id, m.recipient_id, m.body, m.language, m.language_basis, "
    "m.created_at"
)


class TalkRepository:
    """Reads and writes meeting messages and meeting guests."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    # --- messages -------------------------------------------------------------------------------

    async def add_message(
        self,
        meeting_id: int,
        author_id: int,
        recipient_id: int,
        body: str,
        language: str | None,
        basis: Basis,
    ) -> int:
        """Store a message; return its id."""
        return await self._db.insert(
            "INSERT INTO meeting_messages (meeting_id, author_id, recipient_id, body, language, "
            "language_basis, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (meeting_id, author_id, recipient_id, body, language, basis.value,
             to_iso(self._clock.now())),
        )  # fmt: skip

    async def set_outbox(self, message_id: int, outbox_id: int) -> None:
        """Remember the outbox item that relays a message."""
        await self._db.execute(
            "UPDATE meeting_messages SET outbox_id = ? WHERE id = ?", (outbox_id, message_id)
        )

    async def message(self, message_id: int) -> TalkMessage | None:
        """One message."""
        row = await self._db.fetchone(
            f"SELECT {_MESSAGE_COLUMNS} FROM meeting_messages AS m WHERE m.id = ?", (message_id,)
        )
        return _row_to_message(row) if row else None

    async def thread(self, meeting_id: int) -> list[TalkMessage]:
        """A meeting's messages, oldest first."""
        rows = await self._db.fetchall(
            f"SELECT {_MESSAGE_COLUMNS} FROM meeting_messages AS m WHERE m.meeting_id = ? "
            "ORDER BY m.id",
            (meeting_id,),
        )
        return [_row_to_message(row) for row in rows]

    async def undelivered(self, since: dt.datetime) -> list[TalkMessage]:
        """Messages written since `since` whose copy the outbox dropped (the recipient blocked
        the bot or cannot be reached) and whose writer has not been told yet."""
        rows = await self._db.fetchall(
            f"SELECT {_MESSAGE_COLUMNS} FROM meeting_messages AS m "
            "JOIN outbox AS o ON o.id = m.outbox_id "
            "WHERE m.created_at >= ? AND m.bounced_at IS NULL AND o.state = 'dropped' "
            "ORDER BY m.id",
            (to_iso(since),),
        )
        return [_row_to_message(row) for row in rows]

    async def mark_bounced(self, message_id: int) -> bool:
        """Record that the writer was told; False when someone already did."""
        changed = await self._db.execute(
            "UPDATE meeting_messages SET bounced_at = ? WHERE id = ? AND bounced_at IS NULL",
            (to_iso(self._clock.now()), message_id),
        )
        return changed == 1

    async def reachable(self, delegate_id: int) -> bool:
        """Whether the bot can still write to the delegate (no 403, not erased, has a chat)."""
        value = await self._db.fetchval(
            "SELECT reachable AND chat_id IS NOT NULL FROM delegates "
            "WHERE id = ? AND deleted_at IS NULL",
            (delegate_id,),
        )
        return bool(value)

    async def replacement(self, meeting_id: int) -> Meeting | None:
        """The newest meeting that replaced this one (another time proposed or accepted)."""
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM meetings WHERE replaces_id = ? ORDER BY id DESC LIMIT 1",
            (meeting_id,),
        )
        return _row_to_meeting(row) if row else None

    # --- guests ---------------------------------------------------------------------------------

    async def guests(self, meeting_ids: Sequence[int]) -> list[Guest]:
        """The guests of these meetings, by meeting and seat order."""
        if not meeting_ids:
            return []
        marks = ", ".join("?" for _ in meeting_ids)
        rows = await self._db.fetchall(
            "SELECT g.meeting_id, g.guest_id, g.added_by, g.kind FROM meeting_guests AS g "
            "JOIN delegates AS d ON d.id = g.guest_id AND d.deleted_at IS NULL "
            f"WHERE g.meeting_id IN ({marks}) ORDER BY g.meeting_id, g.created_at, g.guest_id",
            tuple(meeting_ids),
        )
        return [Guest(int(r[0]), int(r[1]), int(r[2]), GuestKind(r[3])) for r in rows]

    async def as_guest(self, delegate_id: int) -> list[Meeting]:
        """Booked meetings the delegate joins as a guest, by time."""
        rows = await self._db.fetchall(
            f"SELECT {', '.join('m.' + c.strip() for c in _COLUMNS.split(','))} "
            "FROM meetings AS m JOIN meeting_guests AS g ON g.meeting_id = m.id "
            "WHERE g.guest_id = ? AND m.state = 'accepted' ORDER BY m.slot_start, m.id",
            (delegate_id,),
        )
        return [_row_to_meeting(row) for row in rows]

    async def role(self, delegate_id: int) -> str | None:
        """A live delegate's role (their organization type)."""
        value = await self._db.fetchval(
            "SELECT role FROM delegates WHERE id = ? AND deleted_at IS NULL", (delegate_id,)
        )
        return str(value) if value else None

    async def candidates(
        self, organization: str | None, slot_start: dt.datetime, *, limit: int
    ) -> list[Candidate]:
        """Registered delegates free in the slot who could join: interpreters first, then
        delegates whose organization has the length of `organization` without spaces, by name.
        SQLite folds the case of ASCII letters only, so the caller compares the names
        (bot.domain.guests.same_organization); the length only narrows the rows."""
        key = "".join((organization or "").split())
        rows = await self._db.fetchall(
            "SELECT d.id, d.name, d.organization, d.role, d.meeting_languages FROM delegates AS d "
            "WHERE d.deleted_at IS NULL AND d.registered_at IS NOT NULL AND d.name IS NOT NULL "
            "AND (d.role = 'interpreter' OR length(replace(d.organization, ' ', '')) = ?) "
            "AND NOT EXISTS (SELECT 1 FROM busy_slots AS b "
            "                WHERE b.delegate_id = d.id AND b.slot_start = ?) "
            "ORDER BY d.role = 'interpreter' DESC, d.name COLLATE NOCASE, d.id LIMIT ?",
            (len(key) if key else -1, to_iso(slot_start), limit),
        )
        return [Candidate(int(r[0]), r[1], r[2], r[3], tuple((r[4] or "").split())) for r in rows]

    async def add_guest(
        self, meeting: Meeting, guest_id: int, added_by: int, kind: GuestKind
    ) -> None:
        """Seat a guest at a meeting and hold their slot; GuestError when a rule refuses.

        Must run inside the caller's transaction: a refusal leaves partial rows to roll back.
        """
        now = to_iso(self._clock.now())
        try:
            await self._db.execute(
                "INSERT INTO meeting_guests (meeting_id, guest_id, added_by, kind, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (meeting.id, guest_id, added_by, kind.value, now),
            )
        except sqlite3.IntegrityError as error:
            why = ALREADY_BROUGHT if "added_by" in str(error) else NOT_ELIGIBLE
            raise GuestError(why) from None
        try:
            await self._db.execute(
                "INSERT INTO busy_slots (delegate_id, slot_start, meeting_id, created_at) "
                "VALUES (?, ?, ?, ?)",
                (guest_id, to_iso(meeting.slot_start), meeting.id, now),
            )
        except sqlite3.IntegrityError:
            await self._db.execute(
                "DELETE FROM meeting_guests WHERE meeting_id = ? AND guest_id = ?",
                (meeting.id, guest_id),
            )
            raise GuestError(GUEST_BUSY) from None

    async def remove_guest(self, meeting_id: int, guest_id: int) -> bool:
        """Take a guest off a meeting and free their slot; return whether they were there."""
        removed = await self._db.execute(
            "DELETE FROM meeting_guests WHERE meeting_id = ? AND guest_id = ?",
            (meeting_id, guest_id),
        )
        await self._db.execute(
            "DELETE FROM busy_slots WHERE meeting_id = ? AND delegate_id = ?",
            (meeting_id, guest_id),
        )
        return removed == 1

    async def forget_owed_to_guest(self, meeting_id: int, guest_id: int) -> int:
        """Delete what is still owed to a removed guest about a meeting (its confirmation and
        reminder, not yet sent), so that being added again owes them afresh."""
        return await self._db.execute(
            "DELETE FROM outbox WHERE state = 'pending' AND delegate_id = ? "
            "AND (dedupe_key = ? OR dedupe_key LIKE ?)",
            (guest_id, f"meeting:{meeting_id}:remind:{guest_id}",
             f"meeting:{meeting_id}:guest@%:{guest_id}"),
        )  # fmt: skip

    async def guests_of_closed(self) -> list[int]:
        """Meetings no longer booked (cancelled, moved) that still have guests seated."""
        rows = await self._db.fetchall(
            "SELECT g.meeting_id FROM meeting_guests AS g JOIN meetings AS m "
            "ON m.id = g.meeting_id WHERE m.state <> 'accepted' GROUP BY g.meeting_id"
        )
        return [int(row[0]) for row in rows]
