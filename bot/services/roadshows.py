"""Roadshows: a programme session's projects (exhibits whose `roadshow` is the session's key),
and after the session a message offering each visitor the projects of it they saved.

The follow-up is timed work: the due-work job asks which sessions ended a moment ago and owes
each saver one templated outbox item; its dedupe key makes it once per visitor and session,
whatever the number of ticks or restarts.
"""

from __future__ import annotations

import datetime as dt
import logging

from bot.domain import leads as rules
from bot.domain.clock import Clock
from bot.domain.outbox import Priority, TemplateRef
from bot.services.exhibits import Exhibit, ExhibitService
from storage.db import Database
from storage.leads import LeadRepository
from storage.outbox import OutboxRepository

log = logging.getLogger(__name__)

T_FOLLOW_UP = "roadshow.follow_up"  # to a visitor: the projects of a session they saved


class RoadshowService:
    """Projects per session and the post-session follow-up."""

    def __init__(
        self, db: Database, clock: Clock, outbox: OutboxRepository, exhibits: ExhibitService
    ) -> None:
        self._db = db
        self.clock = clock
        self.outbox = outbox
        self.exhibits = exhibits
        self.repo = LeadRepository(db, clock)

    async def projects(self, session_key: str) -> list[Exhibit]:
        """The exhibits pitched in the session, in key order."""
        found = [await self.exhibits.get(i) for i in await self.repo.projects(session_key)]
        return [e for e in found if e is not None]

    async def project_counts(self) -> dict[str, int]:
        """Session key -> number of projects, for the programme's buttons."""
        return await self.repo.project_counts()

    async def saved_projects(self, session_key: str, visitor_id: int) -> list[Exhibit]:
        """The session's projects the visitor saved."""
        saved = {e.id for e in await self.exhibits.saved(visitor_id)}
        return [e for e in await self.projects(session_key) if e.id in saved]

    async def follow_up_due(self, now: dt.datetime) -> int:
        """Owe each visitor who saved projects of a session that just ended one message."""
        owed = 0
        low, high = rules.follow_up_window(now)
        for session_id, key in await self.repo.sessions_ended(low, high):
            async with self._db.transaction():
                for saver in await self.repo.savers(key):
                    item = await self.outbox.enqueue(
                        saver.chat_id,
                        TemplateRef(T_FOLLOW_UP, {"session": session_id, "as": saver.delegate_id}),
                        priority=Priority.NOTICE,
                        dedupe_key=f"roadshow:{session_id}:followup:{saver.delegate_id}",
                        delegate_id=saver.delegate_id,
                        expires_at=now + rules.FOLLOW_UP_WINDOW,
                    )
                    owed += 0 if item is None else 1
        if owed:
            log.info("%d roadshow follow-up(s) owed", owed)
        return owed
