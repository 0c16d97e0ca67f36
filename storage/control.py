"""Lookups and fixes organizers make during the day: finding delegates, reachability,
tables, wrong claims and merging two profiles of one person."""

from __future__ import annotations

import sqlite3
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
    source: str = "chat"  # 'chat' (a bare /start) or 'import'
    telegram_user_id: int | None = None

    @property
    def claimed(self) -> bool:
        """Whether a Telegram account is bound to the profile."""
        return self.telegram_user_id is not None


_SELECT = (
    "SELECT id, name, organization, country, external_id, telegram_username, chat_id, locale, "
    "reachable, registered_at IS NOT NULL, source, telegram_user_id "
    "FROM delegates WHERE deleted_at IS NULL "
)


def _found(row: aiosqlite.Row) -> Found:
    return Found(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], bool(row[8]),
        bool(row[9]), row[10], row[11],
    )  # fmt: skip


class MergeClash(Exception):
    """A change the merge needs breaks a rule of the schema; the caller rolls back."""


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

    # -- tables -----------------------------------------------------------------------------

    async def set_table(self, meeting_id: int, table: str) -> bool:
        """Seat a booked meeting at another table; False if it is not booked or the table is
        taken in that slot (the unique index decides)."""
        try:
            changed = await self._db.execute(
                "UPDATE meetings SET table_name = ?, updated_at = ? "
                "WHERE id = ? AND state = 'accepted'",
                (table, to_iso(self._clock.now()), meeting_id),
            )
        except sqlite3.IntegrityError:
            return False
        return changed == 1

    # -- wrong claims -----------------------------------------------------------------------

    async def unbind(self, delegate_id: int, claim_token: str) -> bool:
        """Unbind the Telegram account from a claimed imported profile and give the profile a
        fresh claim token; the profile keeps its data. False if it is not a claimed import."""
        now = to_iso(self._clock.now())
        changed = await self._db.execute(
            "UPDATE delegates SET telegram_user_id = NULL, chat_id = NULL, claimed_at = NULL, "
            "claim_token = ?, claim_declined_at = NULL, updated_at = ? "
            "WHERE id = ? AND source = 'import' AND deleted_at IS NULL "
            "AND (telegram_user_id IS NOT NULL OR claimed_at IS NOT NULL)",
            (claim_token, now, delegate_id),
        )
        return changed == 1

    # -- merging ----------------------------------------------------------------------------

    async def move_items(self, from_id: int, to_id: int) -> int:
        """Give a delegate's complete items to another; drafts stay (they go with the erasure).

        An item being edited keeps its saved values and leaves the question it was at.
        """
        return await self._db.execute(
            "UPDATE items SET delegate_id = ?, step = NULL, updated_at = ? "
            "WHERE delegate_id = ? AND complete = 1",
            (to_id, to_iso(self._clock.now()), from_id),
        )

    async def move_marks(self, from_id: int, to_id: int) -> int:
        """Copy match marks by and about one delegate to another (none about oneself)."""
        moved = await self._db.execute(
            "INSERT OR IGNORE INTO match_marks (delegate_id, other_id, mark, created_at) "
            "SELECT ?, other_id, mark, created_at FROM match_marks "
            "WHERE delegate_id = ? AND other_id <> ?",
            (to_id, from_id, to_id),
        )
        moved += await self._db.execute(
            "INSERT OR IGNORE INTO match_marks (delegate_id, other_id, mark, created_at) "
            "SELECT delegate_id, ?, mark, created_at FROM match_marks "
            "WHERE other_id = ? AND delegate_id <> ?",
            (to_id, from_id, to_id),
        )
        return moved

    async def move_meeting(self, meeting_id: int, from_id: int, to_id: int) -> None:
        """Put one delegate in another's place in a live meeting and its busy slots;
        MergeClash if that breaks a rule (a pending pair twice, a person busy twice)."""
        try:
            for column in ("requester_id", "invitee_id"):
                await self._db.execute(
                    f"UPDATE meetings SET {column} = ?, updated_at = ? "
                    f"WHERE id = ? AND {column} = ?",
                    (to_id, to_iso(self._clock.now()), meeting_id, from_id),
                )
            await self._db.execute(
                "UPDATE busy_slots SET delegate_id = ? WHERE meeting_id = ? AND delegate_id = ?",
                (to_id, meeting_id, from_id),
            )
        except sqlite3.IntegrityError as error:
            raise MergeClash(f"meeting {meeting_id}: {error}") from None

    async def forget(self, delegate_id: int) -> None:
        """Delete what is left of an erased profile's items and match marks."""
        await self._db.execute("DELETE FROM items WHERE delegate_id = ?", (delegate_id,))
        await self._db.execute(
            "DELETE FROM match_marks WHERE delegate_id = ? OR other_id = ?",
            (delegate_id, delegate_id),
        )

    async def move_blocks(self, from_id: int, to_id: int) -> None:
        """Carry slots a delegate blocked over to another (where that one is free); drop the
        rest."""
        await self._db.execute(
            "UPDATE OR IGNORE busy_slots SET delegate_id = ? "
            "WHERE delegate_id = ? AND meeting_id IS NULL",
            (to_id, from_id),
        )
        await self._db.execute(
            "DELETE FROM busy_slots WHERE delegate_id = ? AND meeting_id IS NULL", (from_id,)
        )

    async def move_extras(self, from_id: int, to_id: int) -> None:
        """Meeting preferences and the live booking link go over where the other has none;
        the leftover link is revoked."""
        now = to_iso(self._clock.now())
        await self._db.execute(
            "INSERT OR IGNORE INTO meeting_prefs (delegate_id, reminder_minutes, updated_at) "
            "SELECT ?, reminder_minutes, ? FROM meeting_prefs WHERE delegate_id = ?",
            (to_id, now, from_id),
        )
        await self._db.execute(
            "UPDATE booking_tokens SET delegate_id = ? WHERE delegate_id = ? "
            "AND revoked_at IS NULL AND NOT EXISTS (SELECT 1 FROM booking_tokens "
            "WHERE delegate_id = ? AND revoked_at IS NULL)",
            (to_id, from_id, to_id),
        )
        await self._db.execute(
            "UPDATE booking_tokens SET revoked_at = ? "
            "WHERE delegate_id = ? AND revoked_at IS NULL",
            (now, from_id),
        )

    async def take_over(
        self, delegate_id: int, telegram_user_id: int, chat_id: int | None, locale: str | None
    ) -> bool:
        """Bind an unclaimed imported profile to the account of an erased chat profile; the
        language the person chose in chat wins. False if the profile is no longer free."""
        now = to_iso(self._clock.now())
        try:
            changed = await self._db.execute(
                "UPDATE delegates SET telegram_user_id = ?, chat_id = ?, claimed_at = ?, "
                "locale = coalesce(?, locale), reachable = 1, updated_at = ? "
                "WHERE id = ? AND source = 'import' AND telegram_user_id IS NULL "
                "AND claimed_at IS NULL AND deleted_at IS NULL",
                (telegram_user_id, chat_id, now, locale, now, delegate_id),
            )
        except sqlite3.IntegrityError as error:
            raise MergeClash(str(error)) from None
        return changed == 1
