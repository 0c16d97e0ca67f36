"""Organizers: who holds the role (configured, or invited once by code) and the audit log."""

from __future__ import annotations

from bot.config import Settings
from bot.domain.clock import Clock
from bot.domain.links import INVITE_PREFIX, hash_code, new_invite_code
from storage.audit import AuditRepository
from storage.db import Database
from storage.organizers import OrganizerRepository


class OrganizerService:
    """The organizer role, re-checked on every command and button, and what organizers did."""

    def __init__(self, db: Database, clock: Clock, settings: Settings) -> None:
        self._db = db
        self._settings = settings
        self.repo = OrganizerRepository(db, clock)
        self.audit = AuditRepository(db, clock)

    async def is_organizer(self, telegram_user_id: int | None) -> bool:
        """Whether the account holds the role right now: configured, or invited."""
        if telegram_user_id is None:
            return False
        if telegram_user_id in self._settings.organizers:
            return True
        return await self.repo.is_organizer(telegram_user_id)

    async def create_invite(self, actor_id: int = 0) -> str:
        """Make a one-time invite code; only its hash is stored."""
        code = new_invite_code()
        async with self._db.transaction():
            invite_id = await self.repo.add_invite(hash_code(code))
            await self.audit.record(actor_id, "invite_organizer", f"invite:{invite_id}")
        return code

    async def redeem(self, code: str, telegram_user_id: int) -> bool:
        """Make the account an organizer with an unused invite code."""
        if not code.startswith(INVITE_PREFIX):
            return False
        async with self._db.transaction():
            if not await self.repo.redeem(hash_code(code), telegram_user_id):
                return False
            await self.audit.record(telegram_user_id, "became_organizer")
        return True
