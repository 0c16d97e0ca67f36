"""What organizers export, read with explicit SQL: live delegates, complete items, meetings.

Rows come back in the column order of the export's header (bot/services/exports.py).
"""

from __future__ import annotations

import aiosqlite

from storage.db import Database


class ExportRepository:
    """Read-only queries behind `/export` and `matchmaker export`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def delegates(self) -> list[aiosqlite.Row]:
        """Every live delegate, by id."""
        return await self._db.fetchall(
            "SELECT id, external_id, name, organization, country, role, locale, "
            "meeting_languages, contact, source, registered_at, claimed_at, reachable "
            "FROM delegates WHERE deleted_at IS NULL ORDER BY id"
        )

    async def items(self, side: str) -> list[aiosqlite.Row]:
        """Every complete offer (side 'offer') or need ('need') of live delegates."""
        return await self._db.fetchall(
            "SELECT i.id, d.id, d.external_id, d.name, d.organization, i.text, i.kind, i.trl, "
            "i.ip_status, i.fields FROM items AS i JOIN delegates AS d ON d.id = i.delegate_id "
            "WHERE i.side = ? AND i.complete = 1 AND d.deleted_at IS NULL ORDER BY d.id, i.id",
            (side,),
        )

    async def meetings(self) -> list[aiosqlite.Row]:
        """Every meeting with both sides' names and their answers after it, by time."""
        return await self._db.fetchall(
            "SELECT m.id, m.state, m.slot_start, m.slot_end, m.table_name, a.name, "
            "a.organization, b.name, b.organization, m.created_at, fa.outcome, fb.outcome, "
            "m.requester_id, m.invitee_id "
            "FROM meetings AS m "
            "JOIN delegates AS a ON a.id = m.requester_id "
            "JOIN delegates AS b ON b.id = m.invitee_id "
            "LEFT JOIN meeting_feedback AS fa "
            "ON fa.meeting_id = m.id AND fa.delegate_id = m.requester_id "
            "LEFT JOIN meeting_feedback AS fb "
            "ON fb.meeting_id = m.id AND fb.delegate_id = m.invitee_id "
            "ORDER BY m.slot_start, m.id"
        )

    async def results(self) -> list[aiosqlite.Row]:
        """Every answer to "what came of it?", with the meeting and the side who gave it."""
        return await self._db.fetchall(
            "SELECT r.meeting_id, m.slot_start, d.id, d.name, d.organization, r.after_days, "
            "r.result, r.updated_at, o.name, o.organization "
            "FROM meeting_results AS r "
            "JOIN meetings AS m ON m.id = r.meeting_id "
            "JOIN delegates AS d ON d.id = r.delegate_id "
            "JOIN delegates AS o ON o.id = CASE WHEN m.requester_id = r.delegate_id "
            "THEN m.invitee_id ELSE m.requester_id END "
            "ORDER BY m.slot_start, r.meeting_id, r.delegate_id, r.after_days"
        )

    async def latest_results(self) -> dict[tuple[int, int], str]:
        """Each side's answer at its latest stage, by (meeting, delegate)."""
        rows = await self._db.fetchall(
            "SELECT meeting_id, delegate_id, result FROM meeting_results "
            "ORDER BY meeting_id, delegate_id, after_days"
        )
        return {(int(r[0]), int(r[1])): str(r[2]) for r in rows}
