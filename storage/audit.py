"""The audit log: what organizers did, who and when."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.domain.clock import Clock, to_iso
from storage.db import Database


@dataclass(frozen=True)
class AuditEntry:
    """One recorded organizer action."""

    actor_id: int
    action: str
    subject: str | None
    detail: dict[str, Any]
    created_at: str


class AuditRepository:
    """Appends to and reads the audit log; recording joins the caller's transaction."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def record(
        self,
        actor_id: int,
        action: str,
        subject: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Write down that `actor_id` did `action` to `subject`."""
        await self._db.execute(
            "INSERT INTO audit_log (actor_id, action, subject, detail, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                actor_id,
                action,
                subject,
                json.dumps(dict(detail), ensure_ascii=False) if detail else None,
                to_iso(self._clock.now()),
            ),
        )

    async def recent(self, limit: int = 50) -> list[AuditEntry]:
        """The latest entries, newest first."""
        rows = await self._db.fetchall(
            "SELECT actor_id, action, subject, detail, created_at FROM audit_log "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [
            AuditEntry(
                row["actor_id"],
                row["action"],
                row["subject"],
                json.loads(row["detail"]) if row["detail"] else {},
                row["created_at"],
            )
            for row in rows
        ]
