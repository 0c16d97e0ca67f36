"""What /delete_me removes beyond the profile: notes typed, messages owed, booking links.

The profile itself is erased by DelegateRepository.erase and the items by the matching service;
this removes the rest of what the person left in other tables, inside the same transaction.
The database runs with `PRAGMA secure_delete`, so freed space is overwritten with zeros, and
`Database.checkpoint()` afterwards moves the change out of the WAL and truncates it, so the
erased text is not left in the raw files either.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True)
class Erased:
    """How many rows of each kind went."""

    meeting_notes: int
    feedback_notes: int
    outbox_items: int
    booking_links: int
    leads: int = 0  # what they did at exhibits, and exhibitors' notes about them


class ErasureRepository:
    """Removes a delegate's traces; every write joins the caller's transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def erase_traces(self, delegate_id: int, chat_id: int | None) -> Erased:
        """Blank the notes they typed, delete what the outbox holds for their chat, and their
        booking links."""
        async with self._db.transaction() as db:
            notes = await db.execute(
                "UPDATE meetings SET note = NULL WHERE requester_id = ? AND note IS NOT NULL",
                (delegate_id,),
            )
            feedback = await db.execute(
                "UPDATE meeting_feedback SET note = NULL "
                "WHERE delegate_id = ? AND note IS NOT NULL",
                (delegate_id,),
            )
            # Sent and dropped items too: their chat id and texts are the person's data. The
            # sender finds a deleted item "no longer sending" and does not send it.
            outbox = await db.execute(
                "DELETE FROM outbox WHERE delegate_id = ? OR (? IS NOT NULL AND chat_id = ?)",
                (delegate_id, chat_id, chat_id),
            )
            links = await db.execute(
                "DELETE FROM booking_tokens WHERE delegate_id = ?", (delegate_id,)
            )
            leads = await db.execute(
                "DELETE FROM exhibit_leads WHERE delegate_id = ?", (delegate_id,)
            )
        return Erased(notes, feedback, outbox, links, leads)
