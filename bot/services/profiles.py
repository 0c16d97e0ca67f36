"""A delegate's profile as a whole: erasing it when they ask (/delete_me), in one place.

Erasure is one transaction over every table that holds what the person entered or what is
owed to their chat, then a WAL checkpoint so the text is gone from the raw files too
(SECURITY.md). An organizer's merge erases the chat-made profile its own way: its meetings and
items move to the imported profile first (bot/services/day_control.py).
"""

from __future__ import annotations

from bot.services.matching import MatchingService
from bot.services.meetings import MeetingService
from storage.db import Database
from storage.delegates import DelegateRepository
from storage.erasure import ErasureRepository
from storage.outbox import OutboxRepository


class ProfileService:
    """Erases a delegate's data on their request."""

    def __init__(
        self,
        db: Database,
        delegates: DelegateRepository,
        matching: MatchingService,
        meetings: MeetingService,
        outbox: OutboxRepository,
        erasure: ErasureRepository,
    ) -> None:
        self._db = db
        self._delegates = delegates
        self._matching = matching
        self._meetings = meetings
        self._outbox = outbox
        self._erasure = erasure

    async def erase(self, delegate_id: int, chat_id: int | None) -> None:
        """Erase the profile, its items, marks, wishes, notes, meetings and what is owed."""
        async with self._db.transaction():
            await self._delegates.erase(delegate_id)
            await self._matching.forget(delegate_id)
            await self._meetings.close_for_erased(delegate_id)
            if chat_id is not None:
                await self._outbox.drop_for_chat(chat_id, "the delegate deleted their data")
            await self._erasure.erase_traces(delegate_id, chat_id)
        # Out of the WAL too: what was erased must not survive in the raw files.
        await self._db.checkpoint()
        await self._matching.refresh_delegate(delegate_id, announce=False)
