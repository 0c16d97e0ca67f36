"""Control of the day: organizers cancel or move meetings, flag delegates, revoke booking links.

Every action is recorded in the audit log, in the same transaction as the change, and the
delegates affected are owed a message (rendered in their language at send time).
"""

from __future__ import annotations

import datetime as dt

from bot.domain.clock import Clock
from bot.domain.meetings import Meeting, MeetingState
from bot.domain.outbox import Priority, TemplateRef
from bot.domain.scheduling import Slot, pick_table
from bot.meetings_service import MeetingService
from storage.audit import AuditRepository
from storage.control import ControlRepository, Found
from storage.db import Database
from storage.meetings import Conflict
from storage.outbox import OutboxRepository

T_CANCELLED = "control.meeting_cancelled"  # to both: the organizers cancelled it
T_MOVED = "control.meeting_moved"  # to both: new time and table
T_LINK_REVOKED = "control.link_revoked"  # to the delegate: their old booking link is dead
T_REACHABLE = "control.reachable"  # to the delegate: messages reach them again


class ControlError(Exception):
    """The organizer's action cannot be done as asked."""


class NotBooked(ControlError):
    """The meeting is not a booked meeting (any more)."""


class SlotNotFree(ControlError):
    """The new slot is not in the schedule, is past, or someone or every table is taken."""


class NoSuchDelegate(ControlError):
    """The delegate does not exist or erased their data."""


class DayControl:
    """The organizers' fixes during the event."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        meetings: MeetingService,
        outbox: OutboxRepository,
        audit: AuditRepository,
    ) -> None:
        self._db = db
        self._clock = clock
        self.meetings = meetings
        self._outbox = outbox
        self._audit = audit
        self.repo = ControlRepository(db, clock)

    async def find(self, query: str) -> list[Found]:
        """Delegates matching a name, organization, username, external id or id."""
        return await self.repo.find(query)

    async def delegate(self, delegate_id: int) -> Found:
        """One delegate; NoSuchDelegate if gone."""
        found = await self.repo.get(delegate_id)
        if found is None:
            raise NoSuchDelegate(f"delegate {delegate_id} does not exist")
        return found

    async def _tell(self, delegate_id: int, key: str, params: dict[str, object], tag: str) -> int:
        party = await self.meetings.repo.party(delegate_id)
        if party is None or party.chat_id is None:
            return 0
        item = await self._outbox.enqueue(
            party.chat_id,
            TemplateRef(key, {**params, "as": delegate_id}),
            priority=Priority.CONFIRMATION,
            dedupe_key=f"control:{tag}:{delegate_id}",
            delegate_id=delegate_id,
        )
        return 0 if item is None else 1

    async def booked(self, meeting_id: int) -> Meeting:
        """A booked meeting; NotBooked if it is not (any more)."""
        meeting = await self.meetings.repo.get(meeting_id)
        if meeting is None or meeting.state is not MeetingState.ACCEPTED:
            raise NotBooked(f"meeting {meeting_id} is not booked")
        return meeting

    async def _free_old(self, meeting: Meeting, state: MeetingState) -> None:
        repo = self.meetings.repo
        if not await repo.set_state(meeting.id, state, expected=[MeetingState.ACCEPTED]):
            raise NotBooked(f"meeting {meeting.id} is not booked")
        await repo.release(meeting.id)
        await repo.drop_owed(meeting.id, ["remind", "followup"])
        # A participant's pending request to move it has nothing left to move.
        for person in meeting.participants:
            for other in await repo.for_delegate(person, [MeetingState.REQUESTED]):
                if other.replaces_id == meeting.id:
                    await repo.set_state(
                        other.id, MeetingState.WITHDRAWN, expected=[MeetingState.REQUESTED]
                    )

    async def cancel_meeting(self, actor_id: int, meeting_id: int) -> Meeting:
        """Cancel a booked meeting for both; both are told."""
        async with self._db.transaction():
            meeting = await self.booked(meeting_id)
            await self._free_old(meeting, MeetingState.CANCELLED)
            for person in meeting.participants:
                await self._tell(
                    person, T_CANCELLED, {"meeting": meeting.id}, f"cancel:{meeting.id}"
                )
            await self._audit.record(actor_id, "cancel_meeting", f"meeting:{meeting.id}")
        return meeting

    async def free_slots(self, meeting_id: int, limit: int = 8) -> list[Slot]:
        """Slots both participants of a booked meeting could move to."""
        meeting = await self.booked(meeting_id)
        return await self.meetings.free_slots_for(meeting.participants, limit=limit)

    async def move_meeting(
        self, actor_id: int, meeting_id: int, slot_start: dt.datetime
    ) -> Meeting:
        """Move a booked meeting to another slot at a free table; both are told."""
        schedule = self.meetings.schedule
        slot = schedule.slot_at(slot_start)
        if slot is None or slot.start <= self._clock.now():
            raise SlotNotFree("that slot is not ahead in the schedule")
        repo = self.meetings.repo
        try:
            async with self._db.transaction():
                old = await self.booked(meeting_id)
                if slot.start == old.slot_start:
                    raise SlotNotFree("the meeting is already in that slot")
                await self._free_old(old, MeetingState.RESCHEDULED)
                new = await repo.insert_request(
                    old.requester_id, old.invitee_id, slot.start, slot.end, slot.start,
                    note=old.note, reason=old.reason, replaces_id=old.id,
                )  # fmt: skip
                table = pick_table(schedule.tables, await repo.tables_taken(slot.start))
                if table is None:
                    raise SlotNotFree("every table is taken in that slot")
                await repo.book(new, table)
                for person in new.participants:
                    await self._tell(person, T_MOVED, {"meeting": new.id}, f"move:{new.id}")
                await self._audit.record(
                    actor_id,
                    "move_meeting",
                    f"meeting:{old.id}",
                    {"to": new.id, "slot": slot.start.isoformat(), "table": table},
                )
        except Conflict as error:
            raise SlotNotFree(str(error)) from None
        moved = await repo.get(new.id)
        assert moved is not None
        return moved

    async def set_reachable(self, actor_id: int, delegate_id: int, reachable: bool) -> bool:
        """Flag a delegate (un)reachable; unreachable drops what they are owed."""
        await self.delegate(delegate_id)
        async with self._db.transaction():
            changed = await self.repo.set_reachable(delegate_id, reachable)
            if not changed:
                return False
            if reachable:
                tag = f"reachable:{self._clock.now().isoformat()}"
                await self._tell(delegate_id, T_REACHABLE, {}, tag)
            else:
                await self.repo.drop_owed(delegate_id, "marked unreachable by an organizer")
            action = "mark_reachable" if reachable else "mark_unreachable"
            await self._audit.record(actor_id, action, f"delegate:{delegate_id}")
        return True

    async def revoke_booking_link(self, actor_id: int, delegate_id: int) -> None:
        """Replace a delegate's booking link; the old one stops working at once."""
        await self.delegate(delegate_id)
        async with self._db.transaction():
            await self.meetings.renew_booking_token(delegate_id)
            tag = f"revoke:{self._clock.now().isoformat()}"
            await self._tell(delegate_id, T_LINK_REVOKED, {}, tag)
            await self._audit.record(actor_id, "revoke_booking_link", f"delegate:{delegate_id}")
