"""Organizers who took the role with an invite code, and the invites (only their hashes)."""

from __future__ import annotations

from bot.domain.clock import Clock, to_iso
from storage.db import Database


class OrganizerRepository:
    """Invite codes (hashed) and the organizers who redeemed them."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def add_invite(self, code_hash: str) -> int:
        """Store a new invite by the hash of its code."""
        return await self._db.insert(
            "INSERT INTO organizer_invites (code_hash, created_at) VALUES (?, ?)",
            (code_hash, to_iso(self._clock.now())),
        )

    async def redeem(self, code_hash: str, telegram_user_id: int) -> bool:
        """Use an unused invite for this account; False if unknown or already used."""
        now = to_iso(self._clock.now())
        async with self._db.transaction() as db:
            row = await db.fetchone(
                "UPDATE organizer_invites SET used_at = ?, used_by = ? "
                "WHERE code_hash = ? AND used_at IS NULL RETURNING id",
                (now, telegram_user_id, code_hash),
            )
            if row is None:
                return False
            await db.execute(
                "INSERT INTO organizers (telegram_user_id, invite_id, created_at) "
                "VALUES (?, ?, ?) ON CONFLICT (telegram_user_id) DO NOTHING",
                (telegram_user_id, row[0], now),
            )
        return True

    async def is_organizer(self, telegram_user_id: int) -> bool:
        """Whether this account redeemed an invite."""
        value = await self._db.fetchval(
            "SELECT 1 FROM organizers WHERE telegram_user_id = ?", (telegram_user_id,)
        )
        return value is not None
