"""Meetings as a service: request, answer, book, cancel, move, expire and remind.

Telegram-free. Every change is one transaction together with the messages it owes the other
party (outbox templates rendered in each recipient's language at send time by handlers/meetings).
Double booking is impossible because the schema refuses it; the loser of a race gets SlotTaken
with the next free slots for both people.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain import links
from bot.domain import meetings as rules
from bot.domain.clock import Clock
from bot.domain.crash import crash_point
from bot.domain.meetings import (
    Action,
    InvalidCounterpart,
    Meeting,
    MeetingClosed,
    MeetingError,
    MeetingState,
    NotYourMeeting,
    SlotTaken,
    SlotUnavailable,
    UnknownBookingLink,
)
from bot.domain.outbox import Priority, TemplateRef
from bot.domain.scheduling import (
    FOLLOW_UP_DELAY,
    FOLLOW_UP_WINDOW,
    REMINDER_CHOICES,
    Schedule,
    Slot,
    free_slots,
    pick_table,
    reminder_due,
    request_expiry,
)
from storage.db import Database
from storage.leads import TeamRepository
from storage.meetings import Conflict, MeetingRepository

# The records handlers show (handlers reach storage only through services).
from storage.meetings import Party as Party
from storage.outbox import OutboxRepository

log = logging.getLogger(__name__)

NOTE_MAX = 300
REASON_MAX = 500
NEXT_FREE = 3

# Outbox template keys; handlers/meetings registers a renderer for each.
T_REQUEST = "meeting.request"  # to the invitee: who, why, when, languages; Accept/Decline/Propose
T_CONFIRMED = "meeting.confirmed"  # to both: time, table, counterpart profile and contact
T_DECLINED = "meeting.declined"  # to the requester
T_EXPIRED = "meeting.expired"  # to both
T_WITHDRAWN = "meeting.withdrawn"  # to the other party of an overlapping request
T_CANCELLED = "meeting.cancelled"  # to the counterpart
T_REMINDER = "meeting.reminder"  # to each participant before the start
T_FOLLOW_UP = "meeting.follow_up"  # to each participant after the end
T_LEFT = "meeting.left"  # to the other party when a delegate erased their data
T_PROPOSAL = "meeting.proposal"  # to the invitee of a scheduler's proposal: Accept/Decline/Propose
T_PROPOSED = "meeting.proposed"  # to the requester of a scheduler's proposal: waiting for them
T_TAKEN = "meeting.taken"  # to an organization's other representatives: a colleague accepted
TEMPLATES = (
    T_REQUEST, T_CONFIRMED, T_DECLINED, T_EXPIRED, T_WITHDRAWN, T_CANCELLED, T_REMINDER, T_LEFT,
    T_FOLLOW_UP, T_PROPOSAL, T_PROPOSED, T_TAKEN,
)  # fmt: skip


class AlreadyRequested(MeetingError):
    """The same request is already waiting for an answer."""


@dataclass(frozen=True)
class Booked:
    """The result of an accept: the meeting and the requests it withdrew."""

    meeting: Meeting
    withdrawn: tuple[Meeting, ...]


class MeetingService:
    """The meetings feature, independent of Telegram."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        schedule: Schedule,
        outbox: OutboxRepository,
        repo: MeetingRepository | None = None,
        *,
        organizers: frozenset[int] = frozenset(),
    ) -> None:
        self.db = db
        self.clock = clock
        self.schedule = schedule
        self.outbox = outbox
        self.repo = repo or MeetingRepository(db, clock)
        # Requests made from an organization's exhibit card: who else may answer them.
        self.teams = TeamRepository(db)
        # Telegram ids of the configured organizers: they answer for imported delegates who
        # have neither Telegram nor a host.
        self.organizers = organizers

    # --- reading ------------------------------------------------------------------------------

    async def get(self, meeting_id: int) -> Meeting | None:
        """One meeting."""
        return await self.repo.get(meeting_id)

    async def party(self, delegate_id: int) -> Party | None:
        """A delegate as this feature sees them."""
        return await self.repo.party(delegate_id)

    async def free_slots_for(
        self,
        people: Sequence[int],
        *,
        limit: int | None = 6,
        now: dt.datetime | None = None,
    ) -> list[Slot]:
        """Slots ahead in which all the people are free and a table is left, earliest first."""
        busy = await self.repo.busy(people)
        full = await self.repo.full_slots(len(self.schedule.tables))
        moment = now or self.clock.now()
        return free_slots(self.schedule, busy, now=moment, full=full, limit=limit)

    async def free_slots_for_team(
        self, requester_id: int, team: Sequence[int], *, limit: int | None = None
    ) -> list[Slot]:
        """Slots ahead in which the requester and at least one of the team are free."""
        found: dict[dt.datetime, Slot] = {}
        for member in team:
            for slot in await self.free_slots_for([requester_id, member], limit=None):
                found.setdefault(slot.start, slot)
        ordered = [found[start] for start in sorted(found)]
        return ordered if limit is None else ordered[:limit]

    async def agenda(self, delegate_id: int) -> list[Meeting]:
        """The delegate's booked meetings and open requests, by time."""
        return await self.repo.for_delegate(delegate_id, rules.OPEN_STATES)

    async def may_act_for(self, actor_id: int, meeting: Meeting) -> int | None:
        """The participant an actor speaks for: themselves, a delegate they host, or (for an
        organizer) a delegate nobody else can answer for."""
        if meeting.involves(actor_id):
            return actor_id
        if meeting.state is MeetingState.REQUESTED and await self.teams.has(meeting.id, actor_id):
            return meeting.invitee_id  # a colleague answers for the organization
        actor = await self.repo.party(actor_id)
        is_organizer = actor is not None and actor.chat_id in self.organizers
        for party_id in meeting.participants:
            party = await self.repo.party(party_id)
            if party is None or party.chat_id is not None:
                continue
            if party.host_id == actor_id:
                return party_id
            if is_organizer and await self._unanswered(party):
                return party_id
        return None

    async def _unanswered(self, party: Party) -> bool:
        """Whether nobody but the organizers can answer for a delegate without Telegram."""
        if party.host_id is None:
            return True
        host = await self.repo.party(party.host_id)
        return host is None or host.chat_id is None

    # --- requests -----------------------------------------------------------------------------

    async def _registered(self, delegate_id: int) -> Party:
        party = await self.repo.party(delegate_id)
        if party is None or not party.registered:
            raise InvalidCounterpart(f"delegate {delegate_id} is not registered")
        return party

    async def _usable_slot(self, people: Sequence[int], slot_start: dt.datetime) -> Slot:
        """The slot if it is in the schedule, ahead, and free for everyone; else raise."""
        slot = self.schedule.slot_at(slot_start)
        if slot is not None:
            free = await self.free_slots_for(people, limit=None)
            if slot in free:
                return slot
            raise SlotUnavailable([s.start for s in free[:NEXT_FREE]])
        raise SlotUnavailable(
            [s.start for s in await self.free_slots_for(people, limit=NEXT_FREE)]
        )

    async def request(
        self,
        requester_id: int,
        invitee_id: int,
        slot_start: dt.datetime,
        *,
        note: str | None = None,
        reason: str | None = None,
        booking_token: str | None = None,
        team: Sequence[int] = (),
    ) -> Meeting:
        """Ask for a meeting in a slot free for both; the invitee is told through the outbox.

        Called from the booking link (with its token), from /matches and from a profile (the
        invitee's profile must be shown to matching delegates). This is the function the
        "Request a meeting" button of /matches ends in, once a slot is chosen. A request from an
        organization's exhibit names its `team` (the invitee among them): each is asked, and
        the first to accept takes the meeting.
        """
        rules.check_counterpart(requester_id, invitee_id)
        # The checks and the insert are one transaction: a /delete_me of either person commits
        # before the checks (refused) or after the request (which it then closes).
        async with self.db.transaction():
            await self._registered(requester_id)
            invitee = await self._registered(invitee_id)
            if booking_token is not None:
                if await self.repo.token_owner(booking_token) != invitee_id:
                    raise UnknownBookingLink("the booking link was replaced or never existed")
            elif not invitee.shown:
                raise InvalidCounterpart(f"delegate {invitee_id} keeps their profile hidden")
            if team:
                invitee_id = await self._free_member(requester_id, invitee_id, team, slot_start)
            meeting = await self._ask(
                requester_id, invitee_id, slot_start, note=note, reason=reason, replaces=None
            )
            colleagues = [m for m in dict.fromkeys(team) if m not in meeting.participants]
            if colleagues:
                await self.teams.add(meeting.id, [invitee_id, *colleagues])
                for member in colleagues:
                    await self._notify_member(meeting, member, T_REQUEST, "request")
            return meeting

    async def _free_member(
        self, requester_id: int, invitee_id: int, team: Sequence[int], slot_start: dt.datetime
    ) -> int:
        """The invitee if free in the slot, else the first of the team who is (else as is)."""
        for member in dict.fromkeys([invitee_id, *team]):
            if member == requester_id:
                continue
            free = await self.free_slots_for([requester_id, member], limit=None)
            if any(slot.start == slot_start for slot in free):
                return member
        return invitee_id

    async def _ask(
        self,
        requester_id: int,
        invitee_id: int,
        slot_start: dt.datetime,
        *,
        note: str | None,
        reason: str | None,
        replaces: Meeting | None,
    ) -> Meeting:
        note = _clip(note, NOTE_MAX)
        reason = _clip(reason, REASON_MAX)
        people = (requester_id, invitee_id)
        async with self.db.transaction():
            # Proposals and moves answer an older meeting: the other may have left since.
            await self._registered(requester_id)
            await self._registered(invitee_id)
            # A meeting being moved holds both people in its own slot; it is not in the way.
            slot = await self._usable_slot(people, slot_start)
            now = self.clock.now()
            expires = request_expiry(now, slot.start, self.schedule.request_ttl)
            try:
                meeting = await self.repo.insert_request(
                    requester_id, invitee_id, slot.start, slot.end, expires,
                    note=note, reason=reason, replaces_id=replaces.id if replaces else None,
                )  # fmt: skip
            except Conflict:
                raise AlreadyRequested("this request is already waiting for an answer") from None
            if replaces is not None and replaces.state is MeetingState.REQUESTED:
                await self.repo.set_state(
                    replaces.id, MeetingState.RESCHEDULED, expected=[MeetingState.REQUESTED]
                )
            await self._notify(meeting, invitee_id, T_REQUEST, Priority.NOTICE, "request")
        return meeting

    async def propose(
        self, meeting_id: int, actor_id: int, slot_start: dt.datetime, *, note: str | None = None
    ) -> Meeting:
        """Answer a request with another time: a new request to the original requester."""
        async with self.db.transaction():
            await self._take_for_team(meeting_id, actor_id)
            meeting, me = await self._acting(meeting_id, actor_id, Action.PROPOSE)
            return await self._ask(
                me, meeting.other(me), slot_start, note=note, reason=meeting.reason,
                replaces=meeting,
            )  # fmt: skip

    async def reschedule(
        self, meeting_id: int, actor_id: int, slot_start: dt.datetime, *, note: str | None = None
    ) -> Meeting:
        """Ask to move a booked meeting; it keeps its slot until the counterpart accepts."""
        async with self.db.transaction():
            meeting, me = await self._acting(meeting_id, actor_id, Action.RESCHEDULE)
            if slot_start == meeting.slot_start:
                raise SlotUnavailable()
            return await self._ask(
                me, meeting.other(me), slot_start, note=note, reason=meeting.reason,
                replaces=meeting,
            )  # fmt: skip

    async def publish_proposal(
        self, requester_id: int, invitee_id: int, slot_start: dt.datetime, *, reason: str | None
    ) -> Meeting | None:
        """Publish a scheduler's proposal: a request that reserves a free table and both
        people's slot until it is answered or expires. The invitee is asked to confirm and the
        requester told, through the outbox. None when the slot or every table was taken since.
        """
        slot = self.schedule.slot_at(slot_start)
        if slot is None or slot.start <= self.clock.now():
            return None
        async with self.db.transaction():
            await self._registered(requester_id)
            await self._registered(invitee_id)
            if await self.repo.busy([requester_id, invitee_id]) & {slot.start}:
                return None
            table = pick_table(self.schedule.tables, await self.repo.tables_taken(slot.start))
            if table is None:
                return None
            expires = request_expiry(self.clock.now(), slot.start, self.schedule.request_ttl)
            try:
                meeting = await self.repo.insert_proposal(
                    requester_id, invitee_id, slot.start, slot.end, expires, table,
                    reason=_clip(reason, REASON_MAX),
                )  # fmt: skip
            except Conflict:
                raise SlotTaken() from None
            await self._notify(meeting, invitee_id, T_PROPOSAL, Priority.NOTICE, "request")
            await self._notify(meeting, requester_id, T_PROPOSED, Priority.NOTICE, "proposed")
        return meeting

    # --- answers ------------------------------------------------------------------------------

    async def _acting(self, meeting_id: int, actor_id: int, action: Action) -> tuple[Meeting, int]:
        meeting = await self.repo.get(meeting_id)
        if meeting is None:
            raise NotYourMeeting(f"meeting {meeting_id} does not exist")
        party = await self.may_act_for(actor_id, meeting)
        if party is None and await self.teams.has(meeting.id, actor_id):
            raise MeetingClosed(meeting.state)  # a colleague answered first
        if party is None:
            raise NotYourMeeting(f"delegate {actor_id} is not in meeting {meeting_id}")
        rules.check_action(meeting, party, action)
        rules.check_not_started(meeting, action, self.clock.now())
        if meeting.state is MeetingState.REQUESTED and meeting.expires_at <= self.clock.now():
            # The expiry job has not run yet; the request is over all the same.
            raise MeetingClosed(MeetingState.EXPIRED)
        return meeting, party

    async def accept(self, meeting_id: int, actor_id: int) -> Booked:
        """Book the meeting at a free table, in one transaction; SlotTaken if someone was first."""
        try:
            async with self.db.transaction():
                await self._take_for_team(meeting_id, actor_id, accepting=True)
                meeting, _ = await self._acting(meeting_id, actor_id, Action.ACCEPT)
                if meeting.slot_start <= self.clock.now():
                    raise MeetingClosed(MeetingState.EXPIRED)
                replaced = (
                    await self.repo.get(meeting.replaces_id) if meeting.replaces_id else None
                )
                if replaced is not None and replaced.state is MeetingState.ACCEPTED:
                    await self.repo.set_state(
                        replaced.id, MeetingState.RESCHEDULED, expected=[MeetingState.ACCEPTED]
                    )
                    await self.repo.release(replaced.id)
                    await self.repo.drop_owed(replaced.id, ["remind", "followup"])
                if meeting.proposed and meeting.table is not None:
                    # A published proposal already holds its table and both people's slot.
                    await self.repo.confirm_reserved(meeting)
                else:
                    table = pick_table(
                        self.schedule.tables, await self.repo.tables_taken(meeting.slot_start)
                    )
                    if table is None:
                        raise Conflict("every table is taken in this slot")
                    await self.repo.book(meeting, table)
                booked = await self.repo.get(meeting.id)
                assert booked is not None
                pending = await self.repo.pending_in_slot(booked.participants, booked.slot_start)
                withdrawn = rules.overlapping_requests(booked, pending)
                for other in withdrawn:
                    await self.repo.set_state(
                        other.id, MeetingState.WITHDRAWN, expected=[MeetingState.REQUESTED]
                    )
                    for person in other.participants:
                        if person not in booked.participants:
                            await self._notify(
                                other, person, T_WITHDRAWN, Priority.NOTICE, "withdrawn"
                            )
                for person in booked.participants:
                    await self._notify(
                        booked, person, T_CONFIRMED, Priority.CONFIRMATION, "confirmed"
                    )
                for member in await self.teams.members(booked.id):
                    if member not in booked.participants:
                        await self._notify_member(booked, member, T_TAKEN, "taken")
                # A kill here must leave no booking at all and the request answerable.
                crash_point("meetings.accept.in_transaction")
            # Nothing may await between the commit and this point: the kill must come before
            # the sender could send a confirmation, which then must come from the outbox.
            crash_point("meetings.accept.after_commit")
        except MeetingClosed as closed:
            if closed.state is not MeetingState.WITHDRAWN:
                raise
            # Another meeting of one of the two took the slot a moment ago.
            raise await self._slot_taken(meeting_id) from None
        except Conflict:
            raise await self._slot_taken(meeting_id) from None
        return Booked(booked, tuple(withdrawn))

    async def _take_for_team(
        self, meeting_id: int, actor_id: int, *, accepting: bool = False
    ) -> None:
        """A representative answering their organization's request (accept, decline, another
        time) becomes its invitee: the requester hears from the one who answered."""
        meeting = await self.repo.get(meeting_id)
        if meeting is None or meeting.involves(actor_id):
            return
        if meeting.state is not MeetingState.REQUESTED:
            return
        if not await self.teams.has(meeting_id, actor_id):
            return
        try:
            await self.teams.take(meeting_id, actor_id)
        except sqlite3.IntegrityError:
            # The requester also asked this colleague for the slot: that request stands, and
            # this one is answered for the organization (an accept loses the race).
            if accepting:
                raise Conflict("the requester already asked this colleague") from None

    async def _notify_member(self, meeting: Meeting, member: int, template: str, kind: str) -> int:
        """Owe a representative a message about their organization's request (as the invitee
        sees it), in the caller's transaction; 0 without a chat."""
        party = await self.repo.party(member)
        if party is None or party.chat_id is None:
            return 0
        item = await self.outbox.enqueue(
            party.chat_id,
            TemplateRef(template, {"meeting": meeting.id, "as": member}),
            priority=Priority.NOTICE,
            dedupe_key=f"meeting:{meeting.id}:{kind}:team{member}",
            delegate_id=member,
        )
        return 0 if item is None else 1

    async def _slot_taken(self, meeting_id: int) -> SlotTaken:
        meeting = await self.repo.get(meeting_id)
        people = meeting.participants if meeting else ()
        soon = await self.free_slots_for(people, limit=NEXT_FREE)
        return SlotTaken([s.start for s in soon])

    async def decline(self, meeting_id: int, actor_id: int) -> Meeting:
        """Say no to a request; the requester is told."""
        async with self.db.transaction():
            await self._take_for_team(meeting_id, actor_id)
            meeting, _ = await self._acting(meeting_id, actor_id, Action.DECLINE)
            await self.repo.set_state(
                meeting.id, MeetingState.DECLINED, expected=[MeetingState.REQUESTED]
            )
            await self._notify(
                meeting, meeting.requester_id, T_DECLINED, Priority.NOTICE, "declined"
            )
        return meeting

    async def cancel(self, meeting_id: int, actor_id: int) -> Meeting:
        """Cancel a booked meeting: free the slot and table, drop its reminders, tell the other."""
        async with self.db.transaction():
            meeting, me = await self._acting(meeting_id, actor_id, Action.CANCEL)
            await self.repo.set_state(
                meeting.id, MeetingState.CANCELLED, expected=[MeetingState.ACCEPTED],
                cancelled_by=me,
            )  # fmt: skip
            await self.repo.release(meeting.id)
            await self.repo.drop_owed(meeting.id, ["remind", "followup"])
            # A pending move of this meeting has nothing left to move.
            for other in await self.repo.for_delegate(me, [MeetingState.REQUESTED]):
                if other.replaces_id == meeting.id:
                    await self.repo.set_state(
                        other.id, MeetingState.WITHDRAWN, expected=[MeetingState.REQUESTED]
                    )
            await self._notify(
                meeting, meeting.other(me), T_CANCELLED, Priority.CONFIRMATION, "cancelled"
            )
        return meeting

    async def close_for_erased(self, delegate_id: int) -> int:
        """Close what a delegate erasing their data leaves open (inside the caller's erasing
        transaction): requests by or to them, and booked meetings still to come, whose slot and
        table are freed. Each counterpart is told, without a name, since the name is being
        erased. Meetings already over stay, for the statistics. Return how many were closed."""
        now = self.clock.now()
        open_states = [MeetingState.REQUESTED, MeetingState.ACCEPTED]
        async with self.db.transaction():
            closed = 0
            for meeting in await self.repo.for_delegate(delegate_id, open_states):
                booked = meeting.state is MeetingState.ACCEPTED
                if booked and meeting.slot_end <= now:
                    continue
                if not await self.repo.set_state(
                    meeting.id, MeetingState.CANCELLED, expected=[meeting.state],
                    cancelled_by=delegate_id,
                ):  # fmt: skip
                    continue
                if booked:
                    await self.repo.release(meeting.id)
                await self.repo.drop_owed(meeting.id, ["request", "remind", "followup"])
                await self._notify(
                    meeting, meeting.other(delegate_id), T_LEFT, Priority.CONFIRMATION, "left"
                )
                closed += 1
        return closed

    # --- due work -----------------------------------------------------------------------------

    async def expire_due(self, now: dt.datetime) -> int:
        """Close requests nobody answered in time; both sides are told. Return how many."""
        count = 0
        for meeting in await self.repo.expiring(now):
            async with self.db.transaction():
                if not await self.repo.set_state(
                    meeting.id, MeetingState.EXPIRED, expected=[MeetingState.REQUESTED]
                ):
                    continue
                for person in meeting.participants:
                    await self._notify(meeting, person, T_EXPIRED, Priority.NOTICE, "expired")
            count += 1
        return count

    async def remind_due(self, now: dt.datetime) -> int:
        """Owe each participant their reminder once it is due and the meeting is ahead.

        The outbox's dedupe key makes this idempotent: run it every tick, after a restart, twice.
        """
        horizon = now + dt.timedelta(minutes=max(REMINDER_CHOICES))
        meetings = await self.repo.accepted_between(now, horizon)
        if not meetings:
            return 0
        people = sorted({p for m in meetings for p in m.participants})
        choices = await self.repo.reminder_choices(people)
        done = await self._owed_already(meetings, "remind")
        owed = 0
        for meeting in meetings:
            for person in meeting.participants:
                if _owed_key(meeting.id, "remind", person) in done:
                    continue
                minutes = choices.get(person, self.schedule.reminder_minutes)
                if reminder_due(meeting.slot_start, minutes, now):
                    # Retried while Telegram fails, but not once the meeting has begun.
                    owed += await self._notify(
                        meeting,
                        person,
                        T_REMINDER,
                        Priority.REMINDER,
                        "remind",
                        expires_at=meeting.slot_start,
                    )
        return owed

    async def follow_up_due(self, now: dt.datetime) -> int:
        """Ask each participant "did the meeting take place?" shortly after it ended."""
        meetings = await self.repo.ended_between(now - FOLLOW_UP_WINDOW, now - FOLLOW_UP_DELAY)
        done = await self._owed_already(meetings, "followup")
        owed = 0
        for meeting in meetings:
            for person in meeting.participants:
                if _owed_key(meeting.id, "followup", person) in done:
                    continue
                owed += await self._notify(
                    meeting, person, T_FOLLOW_UP, Priority.NOTICE, "followup"
                )
        return owed

    async def record_outcome(
        self, meeting_id: int, actor_id: int, outcome: rules.Outcome
    ) -> Meeting:
        """Save a participant's answer to "did the meeting take place?"."""
        async with self.db.transaction():
            meeting, me = await self._acting(meeting_id, actor_id, Action.FEEDBACK)
            await self.repo.record_feedback(meeting.id, me, outcome)
        return meeting

    async def rate(self, meeting_id: int, actor_id: int, rating: int) -> Meeting:
        """Add a 1-5 rating to the participant's answer."""
        if not 1 <= rating <= 5:
            raise ValueError("a rating is 1 to 5")
        async with self.db.transaction():
            meeting, me = await self._acting(meeting_id, actor_id, Action.FEEDBACK)
            if not await self.repo.set_rating(meeting.id, me, rating):
                await self.repo.record_feedback(meeting.id, me, rules.Outcome.HELD, rating=rating)
        return meeting

    # --- availability and links ---------------------------------------------------------------

    async def toggle_block(self, delegate_id: int, slot_start: dt.datetime) -> bool:
        """Block a free slot or unblock a blocked one; return whether it is blocked now."""
        slot = self.schedule.slot_at(slot_start)
        if slot is None:
            raise SlotUnavailable()
        async with self.db.transaction():
            occupant = await self.repo.occupant(delegate_id, slot.start)
            if occupant is None:
                await self.repo.unblock(delegate_id, slot.start)
                return False
            if occupant is not False:
                raise rules.MeetingBlocked("a meeting holds this slot")
            await self.repo.block(delegate_id, slot.start)
            return True

    async def blocked(self, delegate_id: int) -> set[dt.datetime]:
        """The slots the delegate blocked."""
        return await self.repo.blocked(delegate_id)

    async def booking_token(self, delegate_id: int) -> str:
        """The delegate's booking token, created on first use."""
        token = await self.repo.live_token(delegate_id)
        if token is not None:
            return token
        return await self.repo.add_token_if_none(delegate_id, links.new_booking_token())

    async def renew_booking_token(self, delegate_id: int) -> str:
        """Replace the booking link: the old one stops working at once."""
        token = links.new_booking_token()
        await self.repo.replace_token(delegate_id, token)
        return token

    async def booking_target(self, token: str) -> Party:
        """The delegate a booking link books; UnknownBookingLink if revoked or unknown."""
        if not links.is_booking_token(token):
            raise UnknownBookingLink("not a booking token")
        owner = await self.repo.token_owner(token)
        party = await self.repo.party(owner) if owner is not None else None
        if party is None or not party.registered:
            raise UnknownBookingLink("the booking link was replaced or never existed")
        return party

    async def reminder_minutes(self, delegate_id: int) -> int:
        """The delegate's reminder lead time (the event default until they choose)."""
        chosen = await self.repo.reminder_minutes(delegate_id)
        return self.schedule.reminder_minutes if chosen is None else chosen

    async def set_reminder_minutes(self, delegate_id: int, minutes: int) -> None:
        """Choose off / 5 / 15 / 30 / 60 minutes."""
        if minutes not in REMINDER_CHOICES:
            raise ValueError(f"{minutes} is not one of {REMINDER_CHOICES}")
        await self.repo.set_reminder_minutes(delegate_id, minutes)

    # --- messages -----------------------------------------------------------------------------

    async def _owed_already(self, meetings: Sequence[Meeting], kind: str) -> set[str]:
        """The `kind` messages already owed to these meetings' participants."""
        keys = [_owed_key(m.id, kind, person) for m in meetings for person in m.participants]
        return await self.repo.owed_already(keys)

    async def _notify(
        self,
        meeting: Meeting,
        person: int,
        template: str,
        priority: Priority,
        kind: str,
        *,
        expires_at: dt.datetime | None = None,
    ) -> int:
        """Owe `person` (or their host, for delegates without Telegram) a message about a meeting.

        Return 1 when a new message was owed, 0 when it was already owed or nobody can be reached.
        The recipient is read in the same transaction as the enqueue (joined when the caller
        holds one), so nothing is owed to the chat of someone whose /delete_me committed first.
        """
        async with self.db.transaction():
            return await self._notify_now(
                meeting, person, template, priority, kind, expires_at=expires_at
            )

    async def _notify_now(
        self,
        meeting: Meeting,
        person: int,
        template: str,
        priority: Priority,
        kind: str,
        *,
        expires_at: dt.datetime | None = None,
    ) -> int:
        party = await self.repo.party(person)
        if party is None:
            return 0
        chat_id, recipient = party.chat_id, party.id
        if chat_id is None and party.host_id is not None:
            host = await self.repo.party(party.host_id)
            if host is not None and host.chat_id is not None:
                chat_id, recipient = host.chat_id, host.id
        key = _owed_key(meeting.id, kind, person)
        recipients = [(chat_id, recipient, key)] if chat_id is not None else []
        if not recipients:
            # No Telegram and no reachable host: every organizer who talks to the bot is told.
            for organizer_id in sorted(self.organizers):
                organizer = await self.repo.by_chat(organizer_id)
                if organizer is not None:
                    recipients.append((organizer_id, organizer.id, f"{key}:org{organizer.id}"))
        if not recipients:
            log.info("delegate %d cannot be reached about meeting %d", person, meeting.id)
            return 0
        owed = 0
        for target_chat, target, dedupe_key in recipients:
            item = await self.outbox.enqueue(
                target_chat,
                TemplateRef(template, {"meeting": meeting.id, "as": person}),
                priority=priority,
                dedupe_key=dedupe_key,
                delegate_id=target,
                expires_at=expires_at,
            )
            owed += 0 if item is None else 1
        return min(owed, 1)


def _owed_key(meeting_id: int, kind: str, person: int) -> str:
    """The outbox dedupe key of a message about a meeting: owed once per person and kind."""
    return f"meeting:{meeting_id}:{kind}:{person}"


def _clip(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    cleaned = " ".join(text.split())
    if not cleaned:
        return None
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"
