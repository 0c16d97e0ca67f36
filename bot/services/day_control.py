"""Control of the day: organizers cancel or move meetings, seat them at another table, flag
delegates, revoke booking links, undo a wrong claim and merge two profiles of one person.

Every action is recorded in the audit log, in the same transaction as the change, and the
delegates affected are owed a message (rendered in their language at send time).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.domain.clock import Clock
from bot.domain.links import new_claim_token
from bot.domain.meetings import Meeting, MeetingState
from bot.domain.outbox import Priority, TemplateRef
from bot.domain.scheduling import Slot, pick_table
from bot.services.meetings import MeetingService
from storage.audit import AuditRepository
from storage.control import ControlRepository, MergeClash

# The records handlers show (handlers reach storage only through services).
from storage.control import Found as Found
from storage.db import Database
from storage.delegates import DelegateRepository
from storage.meetings import Conflict
from storage.outbox import OutboxRepository

if TYPE_CHECKING:
    from bot.services.matching import MatchingService

T_CANCELLED = "control.meeting_cancelled"  # to both: the organizers cancelled it
T_MOVED = "control.meeting_moved"  # to both: new time and table
T_LINK_REVOKED = "control.link_revoked"  # to the delegate: their old booking link is dead
T_REACHABLE = "control.reachable"  # to the delegate: messages reach them again
T_TABLE = "control.table_changed"  # to both: same time, another table
T_UNCLAIMED = "control.unclaimed"  # to the account unbound from a profile it claimed by mistake
T_MERGED = "control.merged"  # to the delegate: their chat profile joined the imported one

LIVE = (MeetingState.REQUESTED, MeetingState.ACCEPTED)


class ControlError(Exception):
    """The organizer's action cannot be done as asked."""


class NotBooked(ControlError):
    """The meeting is not a booked meeting (any more)."""


class SlotNotFree(ControlError):
    """The new slot is not in the schedule, is past, or someone or every table is taken."""


class NoSuchDelegate(ControlError):
    """The delegate does not exist or erased their data."""


class TableNotFree(ControlError):
    """The table is not in the schedule, is the meeting's own, or is taken in that slot."""


class NotClaimed(ControlError):
    """The profile is not an imported profile bound to a Telegram account."""


class CannotMerge(ControlError):
    """The two profiles are not an unclaimed imported one and a chat-made one."""


class MergeConflict(ControlError):
    """Something in the chat profile clashes with the imported one; nothing was changed."""


@dataclass(frozen=True)
class Merged:
    """What a merge carried over from the chat profile to the imported one."""

    into_id: int
    from_id: int
    items: int
    meetings: int
    marks: int


class DayControl:
    """The organizers' fixes during the event."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        meetings: MeetingService,
        outbox: OutboxRepository,
        audit: AuditRepository,
        matching: MatchingService | None = None,
    ) -> None:
        self._db = db
        self._matching = matching
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
        async with self._db.transaction():
            await self.delegate(delegate_id)
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
        async with self._db.transaction():
            await self.delegate(delegate_id)
            await self.meetings.renew_booking_token(delegate_id)
            tag = f"revoke:{self._clock.now().isoformat()}"
            await self._tell(delegate_id, T_LINK_REVOKED, {}, tag)
            await self._audit.record(actor_id, "revoke_booking_link", f"delegate:{delegate_id}")

    # -- tables -----------------------------------------------------------------------------

    async def free_tables(self, meeting_id: int) -> list[str]:
        """Tables of the schedule nobody holds in a booked meeting's slot, in schedule order."""
        meeting = await self.booked(meeting_id)
        taken = await self.meetings.repo.tables_taken(meeting.slot_start)
        return [t for t in self.meetings.schedule.tables if t not in taken]

    async def swap_table(self, actor_id: int, meeting_id: int, table: str) -> Meeting:
        """Seat a booked meeting at another free table in the same slot; both are told."""
        if table not in self.meetings.schedule.tables:
            raise TableNotFree(f"{table!r} is not a table of the schedule")
        async with self._db.transaction():
            meeting = await self.booked(meeting_id)
            if meeting.table == table:
                raise TableNotFree(f"meeting {meeting_id} is already at table {table}")
            if not await self.repo.set_table(meeting.id, table):
                raise TableNotFree(f"table {table} is taken in that slot")
            for person in meeting.participants:
                await self._tell(
                    person, T_TABLE, {"meeting": meeting.id}, f"table:{meeting.id}:{table}"
                )
            await self._audit.record(
                actor_id,
                "swap_table",
                f"meeting:{meeting.id}",
                {"from": meeting.table, "to": table},
            )
        seated = await self.meetings.repo.get(meeting.id)
        assert seated is not None
        return seated

    # -- wrong claims -----------------------------------------------------------------------

    async def undo_claim(self, actor_id: int, delegate_id: int) -> str:
        """Unbind the Telegram account from an imported profile; return the profile's fresh
        claim token (the link to send to the right person). The account is told politely."""
        token = new_claim_token()
        async with self._db.transaction():
            # Read in the transaction: the chat told and cleared is the one unbound now.
            found = await self.delegate(delegate_id)
            if found.source != "import" or found.telegram_user_id is None:
                raise NotClaimed(f"delegate {delegate_id} is not a claimed imported profile")
            if not await self.repo.unbind(delegate_id, token):
                raise NotClaimed(f"delegate {delegate_id} is not a claimed imported profile")
            # The wrong account also saw the booking link: it stops working.
            await self.meetings.renew_booking_token(delegate_id)
            if found.chat_id is not None:
                await self._outbox.drop_for_chat(found.chat_id, "claim undone by an organizer")
                await self._outbox.enqueue(
                    found.chat_id,
                    TemplateRef(T_UNCLAIMED, {"as": delegate_id}),
                    priority=Priority.CONFIRMATION,
                    dedupe_key=f"control:unclaim:{delegate_id}:{self._clock.now().isoformat()}",
                    delegate_id=delegate_id,  # the language the account used with the profile
                )
            await self._audit.record(
                actor_id,
                "undo_claim",
                f"delegate:{delegate_id}",
                {"telegram_user_id": found.telegram_user_id},
            )
        return token

    # -- merging ----------------------------------------------------------------------------

    async def merge_pair(self, first: int, second: int) -> tuple[Found, Found]:
        """The unclaimed imported profile and the chat-made one, given in either order;
        CannotMerge if the two are not such a pair."""
        one, two = await self.delegate(first), await self.delegate(second)
        if one.source == "chat":
            one, two = two, one
        if one.source != "import" or one.claimed:
            raise CannotMerge(f"delegate {one.id} is not an unclaimed imported profile")
        if two.source != "chat" or two.telegram_user_id is None:
            raise CannotMerge(f"delegate {two.id} is not a chat-made profile with an account")
        return one, two

    async def merge(self, actor_id: int, imported_id: int, chat_id: int) -> Merged:
        """Merge a chat-made profile into the unclaimed imported profile of the same person.

        In one transaction: the chat profile's complete items, live meetings, blocked slots,
        match marks, preferences and booking link go to the imported profile, the chat profile
        is erased (as /delete_me does) and its Telegram account is bound to the imported one.
        A pending request the imported profile cannot take (with itself, or in a slot it is busy
        in) is withdrawn. A booked meeting that clashes (with each other, or the imported profile
        busy in that slot), or any change a rule of the schema refuses, raises MergeConflict and
        nothing changes.
        """
        repo, meetings = self.repo, self.meetings.repo
        try:
            async with self._db.transaction():
                # Checked in the transaction: a /delete_me of the chat profile committing before
                # it must not have its account bound to the imported profile.
                into, other = await self.merge_pair(imported_id, chat_id)
                imported_id, chat_id = into.id, other.id
                assert other.telegram_user_id is not None
                moved = 0
                busy = await meetings.busy([imported_id])
                for meeting in await meetings.for_delegate(chat_id, list(LIVE)):
                    accepted = meeting.state is MeetingState.ACCEPTED
                    clash = meeting.other(chat_id) == imported_id or (
                        accepted and meeting.slot_start in busy
                    )
                    if clash and accepted:
                        raise MergeConflict(
                            f"meeting {meeting.id} clashes with the imported profile"
                        )
                    if clash:  # a pending request the imported profile cannot take
                        await meetings.set_state(
                            meeting.id, MeetingState.WITHDRAWN, expected=[MeetingState.REQUESTED]
                        )
                        continue
                    await repo.move_meeting(meeting.id, chat_id, imported_id)
                    moved += 1
                await repo.move_blocks(chat_id, imported_id)
                items = await repo.move_items(chat_id, imported_id)
                marks = await repo.move_marks(chat_id, imported_id)
                await repo.move_extras(chat_id, imported_id)
                await self._erase(chat_id)
                if not await repo.take_over(
                    imported_id, other.telegram_user_id, other.chat_id, other.locale
                ):
                    raise CannotMerge(f"delegate {imported_id} was claimed meanwhile")
                await self._tell(
                    imported_id, T_MERGED, {}, f"merge:{chat_id}:{self._clock.now().isoformat()}"
                )
                detail = {"items": items, "meetings": moved, "marks": marks}
                await self._audit.record(
                    actor_id,
                    "merge_profiles",
                    f"delegate:{imported_id}",
                    {"from": chat_id, **detail},
                )
                await self._audit.record(
                    actor_id, "merged_into", f"delegate:{chat_id}", {"into": imported_id}
                )
        except MergeClash as error:
            raise MergeConflict(str(error)) from None
        if self._matching is not None:
            await self._matching.refresh_delegate(chat_id, announce=False)
            await self._matching.refresh_delegate(imported_id, announce=False)
        return Merged(imported_id, chat_id, items, moved, marks)

    async def _erase(self, delegate_id: int) -> None:
        """Erase a profile as /delete_me does (inside the caller's transaction)."""
        await DelegateRepository(self._db, self._clock).erase(delegate_id)
        await self.repo.forget(delegate_id)
        await self.repo.drop_owed(delegate_id, "merged into another profile by an organizer")
