"""Published proposals against a real SQLite file: what they reserve and when they let go."""

from __future__ import annotations

import sqlite3

import pytest

from bot.domain.clock import ManualClock
from bot.domain.meetings import MeetingState
from bot.services.meetings import T_PROPOSAL, T_PROPOSED, MeetingService
from storage.db import Database
from tests.storage.test_meetings import SLOT_1, add_delegate, make_schedule, owed, service


async def test_a_proposal_holds_the_last_table_until_it_expires(
    db: Database, clock: ManualClock
) -> None:
    meetings: MeetingService = service(db, clock, make_schedule(tables=1))
    a, b, c, d = [await add_delegate(db, n) for n in (1, 2, 3, 4)]
    proposal = await meetings.publish_proposal(a, b, SLOT_1, reason=None)
    assert proposal is not None and proposal.proposed and proposal.table == "1"
    assert [t for _, t, _ in await owed(db)] == [T_PROPOSAL, T_PROPOSED]
    # The only table is held: nobody else is offered that slot, nor can the slot be reserved
    # twice, even by a write that skips the checks.
    assert SLOT_1 not in [s.start for s in await meetings.free_slots_for([c, d], limit=None)]
    assert await meetings.publish_proposal(c, d, SLOT_1, reason=None) is None
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute(
            "INSERT INTO meetings (requester_id, invitee_id, slot_start, slot_end, state, "
            "table_name, expires_at, created_at, updated_at) SELECT ?, ?, slot_start, "
            "slot_end, 'accepted', table_name, expires_at, created_at, updated_at "
            "FROM meetings WHERE id = ?",
            (c, d, proposal.id),
        )
    # Unanswered, it expires like any request, and both the people and the table are free.
    assert await meetings.expire_due(proposal.expires_at) == 1
    expired = await meetings.get(proposal.id)
    assert expired is not None and expired.state is MeetingState.EXPIRED
    assert await meetings.repo.busy([a, b]) == set()
    assert await meetings.repo.tables_taken(SLOT_1) == set()
    assert await meetings.publish_proposal(c, d, SLOT_1, reason=None) is not None
