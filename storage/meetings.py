"""The meetings repository: requests, booked meetings, busy slots, booking links, preferences.

Methods are single statements or join the caller's transaction; the service decides what one
booking is. Double booking is prevented by the schema (busy_slots' primary key and the unique
index on accepted meetings per table and slot), not by a check before the insert.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import aiosqlite

from bot.domain.clock import Clock, from_iso, to_iso
from bot.domain.meetings import Meeting, MeetingState, Outcome
from storage.db import Database

_COLUMNS = (
    "id, requester_id, invitee_id, slot_start, slot_end, state, table_name, note, reason, "
    "expires_at, replaces_id, created_at, updated_at, proposed"
)
# What holds a table in a slot: a booked meeting, or a published proposal (a request that
# reserves its table until it is answered or expires).
_HOLDS_TABLE = "(state = 'accepted' OR (state = 'requested' AND table_name IS NOT NULL))"


class Conflict(Exception):
    """A unique constraint refused the write: the person, the pair or the table is taken."""


@dataclass(frozen=True)
class Party:
    """What the meetings feature needs to know about a delegate to reach or print them."""

    id: int
    chat_id: int | None
    locale: str | None
    name: str | None
    organization: str | None
    meeting_languages: tuple[str, ...]
    contact: str | None
    registered: bool
    shown: bool
    host_id: int | None  # who answers for a delegate without Telegram
    country: str | None = None


@dataclass(frozen=True)
class TableStat:
    """Meetings per state, for statistics."""

    accepted: int
    requested: int
    held: int
    no_show: int


def _row_to_meeting(row: aiosqlite.Row) -> Meeting:
    return Meeting(
        id=row["id"],
        requester_id=row["requester_id"],
        invitee_id=row["invitee_id"],
        slot_start=from_iso(row["slot_start"]),
        slot_end=from_iso(row["slot_end"]),
        state=MeetingState(row["state"]),
        table=row["table_name"],
        note=row["note"],
        reason=row["reason"],
        expires_at=from_iso(row["expires_at"]),
        replaces_id=row["replaces_id"],
        created_at=from_iso(row["created_at"]),
        updated_at=from_iso(row["updated_at"]),
        proposed=bool(row["proposed"]),
    )


def _row_to_party(row: aiosqlite.Row) -> Party:
    return Party(
        id=row["id"],
        chat_id=row["chat_id"],
        locale=row["locale"],
        name=row["name"],
        organization=row["organization"],
        meeting_languages=tuple((row["meeting_languages"] or "").split()),
        contact=row["contact"],
        registered=row["registered_at"] is not None and row["deleted_at"] is None,
        shown=bool(row["consent"]),
        host_id=row["host_id"],
        country=row["country"],
    )


_PARTY_SELECT = (
    "SELECT d.id, d.chat_id, d.locale, d.name, d.organization, d.meeting_languages, d.contact, "
    "d.registered_at, d.deleted_at, d.consent, d.country, "
    "(SELECT h.id FROM delegates AS h WHERE d.host_external_id IS NOT NULL "
    " AND h.external_id = d.host_external_id AND h.deleted_at IS NULL) AS host_id "
    "FROM delegates AS d"
)


class MeetingRepository:
    """Reads and writes meetings and what hangs off them."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def _now(self) -> str:
        return to_iso(self._clock.now())

    # --- people ---------------------------------------------------------------------------------

    async def party(self, delegate_id: int) -> Party | None:
        """A delegate as the meetings feature sees them (None if erased or unknown)."""
        row = await self._db.fetchone(
            f"{_PARTY_SELECT} WHERE d.id = ? AND d.deleted_at IS NULL", (delegate_id,)
        )
        return _row_to_party(row) if row else None

    async def parties_of(self, meetings: Iterable[Meeting]) -> dict[int, Party | None]:
        """Everyone taking part in these meetings (None for the erased), read once each."""
        parties: dict[int, Party | None] = {}
        for meeting in meetings:
            for person in meeting.participants:
                if person not in parties:
                    parties[person] = await self.party(person)
        return parties

    async def by_chat(self, chat_id: int) -> Party | None:
        """The live delegate who talks to the bot in a private chat."""
        row = await self._db.fetchone(
            f"{_PARTY_SELECT} WHERE d.chat_id = ? AND d.deleted_at IS NULL", (chat_id,)
        )
        return _row_to_party(row) if row else None

    async def hosted_by(self, host_id: int) -> list[int]:
        """Delegates without Telegram whose requests this delegate answers."""
        rows = await self._db.fetchall(
            "SELECT d.id FROM delegates AS d JOIN delegates AS h "
            "ON h.external_id = d.host_external_id WHERE h.id = ? AND d.deleted_at IS NULL",
            (host_id,),
        )
        return [int(row[0]) for row in rows]

    async def all_parties(self) -> list[Party]:
        """Every registered, live delegate, by name (for badges and printed schedules)."""
        rows = await self._db.fetchall(
            f"{_PARTY_SELECT} WHERE d.deleted_at IS NULL AND d.registered_at IS NOT NULL "
            "ORDER BY d.name COLLATE NOCASE, d.id"
        )
        return [_row_to_party(row) for row in rows]

    # --- meetings -------------------------------------------------------------------------------

    async def get(self, meeting_id: int) -> Meeting | None:
        """Return one meeting."""
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM meetings WHERE id = ?", (meeting_id,)
        )
        return _row_to_meeting(row) if row else None

    async def insert_request(
        self,
        requester_id: int,
        invitee_id: int,
        slot_start: dt.datetime,
        slot_end: dt.datetime,
        expires_at: dt.datetime,
        *,
        note: str | None,
        reason: str | None,
        replaces_id: int | None = None,
    ) -> Meeting:
        """Write a pending request; Conflict when the same pair already asked for this slot."""
        now = self._now()
        try:
            meeting_id = await self._db.insert(
                "INSERT INTO meetings (requester_id, invitee_id, slot_start, slot_end, state, "
                "note, reason, expires_at, replaces_id, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, 'requested', ?, ?, ?, ?, ?, ?)",
                (
                    requester_id, invitee_id, to_iso(slot_start), to_iso(slot_end), note, reason,
                    to_iso(expires_at), replaces_id, now, now,
                ),
            )  # fmt: skip
        except sqlite3.IntegrityError as error:
            raise Conflict(str(error)) from error
        meeting = await self.get(meeting_id)
        assert meeting is not None
        return meeting

    async def set_state(
        self,
        meeting_id: int,
        state: MeetingState,
        *,
        expected: Iterable[MeetingState],
        cancelled_by: int | None = None,
    ) -> bool:
        """Move a meeting to `state` if it is still in one of `expected`; return whether it did."""
        allowed = [s.value for s in expected]
        marks = ", ".join("?" for _ in allowed)
        changed = await self._db.execute(
            f"UPDATE meetings SET state = ?, cancelled_by = coalesce(?, cancelled_by), "
            f"updated_at = ? WHERE id = ? AND state IN ({marks})",
            (state.value, cancelled_by, self._now(), meeting_id, *allowed),
        )
        return changed == 1

    async def book(self, meeting: Meeting, table: str) -> None:
        """Make a request accepted at a table and occupy both people; Conflict if anyone is taken.

        Must run inside the caller's transaction: a Conflict leaves partial rows to roll back.
        """
        now = self._now()
        start = to_iso(meeting.slot_start)
        try:
            changed = await self._db.execute(
                "UPDATE meetings SET state = 'accepted', table_name = ?, updated_at = ? "
                "WHERE id = ? AND state = 'requested'",
                (table, now, meeting.id),
            )
            if changed != 1:
                raise Conflict(f"meeting {meeting.id} is no longer requested")
            await self._db.executemany(
                "INSERT INTO busy_slots (delegate_id, slot_start, meeting_id, created_at) "
                "VALUES (?, ?, ?, ?)",
                [(person, start, meeting.id, now) for person in meeting.participants],
            )
        except sqlite3.IntegrityError as error:
            raise Conflict(str(error)) from error

    async def release(self, meeting_id: int) -> None:
        """Free both people's slot held by a meeting."""
        await self._db.execute("DELETE FROM busy_slots WHERE meeting_id = ?", (meeting_id,))

    async def tables_taken(self, slot_start: dt.datetime) -> set[str]:
        """Tables held in a slot by accepted meetings and by published proposals."""
        rows = await self._db.fetchall(
            f"SELECT table_name FROM meetings WHERE {_HOLDS_TABLE} AND slot_start = ?",
            (to_iso(slot_start),),
        )
        return {row[0] for row in rows}

    async def full_slots(self, table_count: int) -> set[dt.datetime]:
        """Slot starts in which every table is taken (by meetings or proposals)."""
        rows = await self._db.fetchall(
            f"SELECT slot_start FROM meetings WHERE {_HOLDS_TABLE} "
            "GROUP BY slot_start HAVING count(*) >= ?",
            (table_count,),
        )
        return {from_iso(row[0]) for row in rows}

    async def tables_held(self) -> dict[dt.datetime, int]:
        """How many tables meetings and proposals hold in each slot."""
        rows = await self._db.fetchall(
            f"SELECT slot_start, count(*) FROM meetings WHERE {_HOLDS_TABLE} GROUP BY slot_start"
        )
        return {from_iso(row[0]): int(row[1]) for row in rows}

    async def insert_proposal(
        self,
        requester_id: int,
        invitee_id: int,
        slot_start: dt.datetime,
        slot_end: dt.datetime,
        expires_at: dt.datetime,
        table: str,
        *,
        reason: str | None,
    ) -> Meeting:
        """Write a scheduler's proposal that reserves its table and both people's slot.

        Must run inside the caller's transaction: a Conflict leaves partial rows to roll back.
        """
        now = self._now()
        start = to_iso(slot_start)
        try:
            meeting_id = await self._db.insert(
                "INSERT INTO meetings (requester_id, invitee_id, slot_start, slot_end, state, "
                "table_name, reason, expires_at, proposed, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, 'requested', ?, ?, ?, 1, ?, ?)",
                (
                    requester_id, invitee_id, start, to_iso(slot_end), table, reason,
                    to_iso(expires_at), now, now,
                ),
            )  # fmt: skip
            await self._db.executemany(
                "INSERT INTO busy_slots (delegate_id, slot_start, meeting_id, created_at) "
                "VALUES (?, ?, ?, ?)",
                [(person, start, meeting_id, now) for person in (requester_id, invitee_id)],
            )
        except sqlite3.IntegrityError as error:
            raise Conflict(str(error)) from error
        meeting = await self.get(meeting_id)
        assert meeting is not None
        return meeting

    async def confirm_reserved(self, meeting: Meeting) -> None:
        """Accept a proposal at the table it reserved (its busy slots are already held)."""
        changed = await self._db.execute(
            "UPDATE meetings SET state = 'accepted', updated_at = ? "
            "WHERE id = ? AND state = 'requested' AND table_name IS NOT NULL",
            (self._now(), meeting.id),
        )
        if changed != 1:
            raise Conflict(f"meeting {meeting.id} is no longer requested")

    async def scheduled(self) -> list[Meeting]:
        """Accepted meetings and published proposals, by slot and table (printed schedules)."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM meetings WHERE {_HOLDS_TABLE} ORDER BY slot_start, table_name"
        )
        return [_row_to_meeting(row) for row in rows]

    async def busy_rows(self) -> list[tuple[int, dt.datetime]]:
        """Every (delegate, slot start) taken by a meeting, a proposal or a block."""
        rows = await self._db.fetchall("SELECT delegate_id, slot_start FROM busy_slots")
        return [(int(row[0]), from_iso(row[1])) for row in rows]

    async def declined_proposals(self) -> list[tuple[int, int]]:
        """Pairs who declined a scheduler's proposal: it is not proposed to them again."""
        rows = await self._db.fetchall(
            "SELECT DISTINCT requester_id, invitee_id FROM meetings "
            "WHERE proposed = 1 AND state = 'declined'"
        )
        return [(int(row[0]), int(row[1])) for row in rows]

    async def busy(self, delegate_ids: Sequence[int]) -> set[dt.datetime]:
        """Slot starts in which any of the delegates has a meeting or a block."""
        if not delegate_ids:
            return set()
        marks = ", ".join("?" for _ in delegate_ids)
        rows = await self._db.fetchall(
            f"SELECT DISTINCT slot_start FROM busy_slots WHERE delegate_id IN ({marks})",
            tuple(delegate_ids),
        )
        return {from_iso(row[0]) for row in rows}

    async def pending_in_slot(
        self, delegate_ids: Sequence[int], slot_start: dt.datetime
    ) -> list[Meeting]:
        """Pending requests in a slot involving any of the delegates."""
        marks = ", ".join("?" for _ in delegate_ids)
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM meetings WHERE state = 'requested' AND slot_start = ? "
            f"AND (requester_id IN ({marks}) OR invitee_id IN ({marks}))",
            (to_iso(slot_start), *delegate_ids, *delegate_ids),
        )
        return [_row_to_meeting(row) for row in rows]

    async def for_delegate(
        self, delegate_id: int, states: Iterable[MeetingState] | None = None
    ) -> list[Meeting]:
        """A delegate's meetings (optionally in some states), by slot."""
        params: list[object] = [delegate_id, delegate_id]
        where = ""
        if states is not None:
            values = [s.value for s in states]
            where = f" AND state IN ({', '.join('?' for _ in values)})"
            params += values
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM meetings WHERE (requester_id = ? OR invitee_id = ?)"
            f"{where} ORDER BY slot_start, id",
            params,
        )
        return [_row_to_meeting(row) for row in rows]

    async def accepted(self) -> list[Meeting]:
        """Every accepted meeting, by slot and table (for printed schedules)."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM meetings WHERE state = 'accepted' "
            "ORDER BY slot_start, table_name"
        )
        return [_row_to_meeting(row) for row in rows]

    async def expiring(self, now: dt.datetime) -> list[Meeting]:
        """Pending requests whose time to answer is over at `now`."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM meetings WHERE state = 'requested' AND expires_at <= ? "
            "ORDER BY expires_at, id",
            (to_iso(now),),
        )
        return [_row_to_meeting(row) for row in rows]

    async def accepted_between(self, low: dt.datetime, high: dt.datetime) -> list[Meeting]:
        """Accepted meetings starting in [low, high)."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM meetings WHERE state = 'accepted' "
            "AND slot_start >= ? AND slot_start < ? ORDER BY slot_start, id",
            (to_iso(low), to_iso(high)),
        )
        return [_row_to_meeting(row) for row in rows]

    async def ended_between(self, low: dt.datetime, high: dt.datetime) -> list[Meeting]:
        """Accepted meetings ending in (low, high]."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM meetings WHERE state = 'accepted' "
            "AND slot_end > ? AND slot_end <= ? ORDER BY slot_end, id",
            (to_iso(low), to_iso(high)),
        )
        return [_row_to_meeting(row) for row in rows]

    async def owed_already(self, keys: Sequence[str]) -> set[str]:
        """Which of these outbox dedupe keys were already used (owed, sent or dropped).

        Lets a tick skip what it owed before in one query per few hundred keys, instead of a
        transaction and an insert that does nothing for every participant of every meeting.
        """
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            rows = await self._db.fetchall(
                f"SELECT dedupe_key FROM outbox WHERE dedupe_key IN ({marks})", tuple(chunk)
            )
            found.update(row["dedupe_key"] for row in rows)
        return found

    async def drop_owed(self, meeting_id: int, kinds: Iterable[str]) -> int:
        """Drop messages still owed about a meeting (its reminders when it is cancelled or moved).

        Outbox rows are matched by the dedupe keys this feature gives them.
        """
        dropped = 0
        for kind in kinds:
            dropped += await self._db.execute(
                "UPDATE outbox SET state = 'dropped', last_error = ?, updated_at = ? "
                "WHERE dedupe_key LIKE ? AND state = 'pending'",
                (f"meeting {kind} no longer due", self._now(), f"meeting:{meeting_id}:{kind}:%"),
            )
        return dropped

    # --- blocks ---------------------------------------------------------------------------------

    async def block(self, delegate_id: int, slot_start: dt.datetime) -> bool:
        """Block a slot; False when a meeting or a block already holds it."""
        changed = await self._db.execute(
            "INSERT INTO busy_slots (delegate_id, slot_start, meeting_id, created_at) "
            "VALUES (?, ?, NULL, ?) ON CONFLICT DO NOTHING",
            (delegate_id, to_iso(slot_start), self._now()),
        )
        return changed == 1

    async def unblock(self, delegate_id: int, slot_start: dt.datetime) -> bool:
        """Remove a block (never a meeting)."""
        changed = await self._db.execute(
            "DELETE FROM busy_slots WHERE delegate_id = ? AND slot_start = ? "
            "AND meeting_id IS NULL",
            (delegate_id, to_iso(slot_start)),
        )
        return changed == 1

    async def blocked(self, delegate_id: int) -> set[dt.datetime]:
        """The slots a delegate blocked."""
        rows = await self._db.fetchall(
            "SELECT slot_start FROM busy_slots WHERE delegate_id = ? AND meeting_id IS NULL",
            (delegate_id,),
        )
        return {from_iso(row[0]) for row in rows}

    async def occupant(self, delegate_id: int, slot_start: dt.datetime) -> int | None | bool:
        """What holds a delegate's slot: a meeting id, None for a block, False for nothing."""
        row = await self._db.fetchone(
            "SELECT meeting_id FROM busy_slots WHERE delegate_id = ? AND slot_start = ?",
            (delegate_id, to_iso(slot_start)),
        )
        if row is None:
            return False
        return None if row[0] is None else int(row[0])

    # --- booking links --------------------------------------------------------------------------

    async def live_token(self, delegate_id: int) -> str | None:
        """The delegate's current booking token."""
        value = await self._db.fetchval(
            "SELECT token FROM booking_tokens WHERE delegate_id = ? AND revoked_at IS NULL",
            (delegate_id,),
        )
        return str(value) if value else None

    async def replace_token(self, delegate_id: int, token: str) -> None:
        """Revoke the delegate's token, if any, and make `token` the live one."""
        now = self._now()
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE booking_tokens SET revoked_at = ? "
                "WHERE delegate_id = ? AND revoked_at IS NULL",
                (now, delegate_id),
            )
            await db.execute(
                "INSERT INTO booking_tokens (token, delegate_id, created_at) VALUES (?, ?, ?)",
                (token, delegate_id, now),
            )

    async def add_token_if_none(self, delegate_id: int, token: str) -> str:
        """Store `token` unless the delegate already has a live one; return the live token."""
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO booking_tokens (token, delegate_id, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (token, delegate_id, self._now()),
            )
            value = await db.fetchval(
                "SELECT token FROM booking_tokens WHERE delegate_id = ? AND revoked_at IS NULL",
                (delegate_id,),
            )
        return str(value)

    async def token_owner(self, token: str) -> int | None:
        """The delegate a live token books, None if unknown or revoked."""
        value = await self._db.fetchval(
            "SELECT delegate_id FROM booking_tokens WHERE token = ? AND revoked_at IS NULL",
            (token,),
        )
        return int(value) if value is not None else None

    # --- preferences and feedback ---------------------------------------------------------------

    async def reminder_minutes(self, delegate_id: int) -> int | None:
        """The delegate's reminder choice, None when they never chose."""
        value = await self._db.fetchval(
            "SELECT reminder_minutes FROM meeting_prefs WHERE delegate_id = ?", (delegate_id,)
        )
        return int(value) if value is not None else None

    async def reminder_choices(self, delegate_ids: Sequence[int]) -> dict[int, int]:
        """Reminder choices of the delegates who made one."""
        if not delegate_ids:
            return {}
        marks = ", ".join("?" for _ in delegate_ids)
        rows = await self._db.fetchall(
            f"SELECT delegate_id, reminder_minutes FROM meeting_prefs "
            f"WHERE delegate_id IN ({marks})",
            tuple(delegate_ids),
        )
        return {int(row[0]): int(row[1]) for row in rows}

    async def set_reminder_minutes(self, delegate_id: int, minutes: int) -> None:
        """Save the delegate's reminder choice."""
        now = self._now()
        await self._db.execute(
            "INSERT INTO meeting_prefs (delegate_id, reminder_minutes, updated_at) "
            "VALUES (?, ?, ?) ON CONFLICT (delegate_id) DO UPDATE SET "
            "reminder_minutes = excluded.reminder_minutes, updated_at = excluded.updated_at",
            (delegate_id, minutes, now),
        )

    async def record_feedback(
        self,
        meeting_id: int,
        delegate_id: int,
        outcome: Outcome,
        *,
        rating: int | None = None,
        note: str | None = None,
    ) -> None:
        """Save (or correct) a participant's answer about a meeting."""
        await self._db.execute(
            "INSERT INTO meeting_feedback (meeting_id, delegate_id, outcome, rating, note, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (meeting_id, delegate_id) "
            "DO UPDATE SET outcome = excluded.outcome, "
            "rating = coalesce(excluded.rating, rating), note = coalesce(excluded.note, note)",
            (meeting_id, delegate_id, outcome.value, rating, note, self._now()),
        )

    async def set_rating(self, meeting_id: int, delegate_id: int, rating: int) -> bool:
        """Add a 1-5 rating to a participant's answer."""
        changed = await self._db.execute(
            "UPDATE meeting_feedback SET rating = ? WHERE meeting_id = ? AND delegate_id = ?",
            (rating, meeting_id, delegate_id),
        )
        return changed == 1

    async def stats(self) -> TableStat:
        """Counts for organizers: booked, pending, held and no-show meetings."""
        row = await self._db.fetchone(
            "SELECT "
            "(SELECT count(*) FROM meetings WHERE state = 'accepted'), "
            "(SELECT count(*) FROM meetings WHERE state = 'requested'), "
            "(SELECT count(DISTINCT meeting_id) FROM meeting_feedback WHERE outcome = 'held'), "
            "(SELECT count(DISTINCT meeting_id) FROM meeting_feedback WHERE outcome = 'no_show')"
        )
        assert row is not None
        return TableStat(int(row[0]), int(row[1]), int(row[2]), int(row[3]))
