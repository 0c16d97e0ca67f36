"""Talk before the meeting and guests at the table, as a service (Telegram-free).

A message is stored and its relayed copy owed through the outbox in one transaction; the copy
is rendered in the recipient's language at send time (handlers/meetings/talk.py). When the
outbox drops the copy (the recipient blocked the bot: 403), the due-work hook tells the writer.
A guest (a colleague of the party's organization, or an interpreter) holds a seat at the table
and a busy slot; guests get the confirmation and the reminders through the outbox, and are told
when the meeting is cancelled, or carried to its new time when it is moved.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain import guests as seating
from bot.domain import talk as rules
from bot.domain.clock import Clock
from bot.domain.guests import GuestError, GuestKind
from bot.domain.meetings import Meeting, MeetingState, NotYourMeeting
from bot.domain.outbox import Priority, TemplateRef
from bot.domain.scheduling import REMINDER_CHOICES, reminder_due
from bot.services.meetings import MeetingService, Party
from storage.db import Database
from storage.outbox import OutboxRepository
from storage.talk import Candidate, Guest, TalkMessage, TalkRepository

log = logging.getLogger(__name__)

# Outbox template keys; handlers/meetings/talk.py registers a renderer for each.
T_MESSAGE = "talk.message"  # to the recipient: who wrote, in which language, the text; Reply
T_UNDELIVERED = "talk.undelivered"  # to the writer: the recipient can no longer be reached
T_GUEST_JOINED = "guest.joined"  # to the guest: time, table, both parties, who brings them
T_GUEST_ADDED = "guest.added"  # to the other party: who comes along
T_GUEST_REMOVED = "guest.removed"  # to the guest: no longer expected
T_GUEST_REMINDER = "guest.reminder"  # to the guest, before the start
T_GUEST_CANCELLED = "guest.cancelled"  # to the guest: the meeting was cancelled
TEMPLATES = (
    T_MESSAGE, T_UNDELIVERED, T_GUEST_JOINED, T_GUEST_ADDED, T_GUEST_REMOVED, T_GUEST_REMINDER,
    T_GUEST_CANCELLED,
)  # fmt: skip

# How far back the due-work hook looks for relayed copies the outbox dropped.
BOUNCE_WINDOW = dt.timedelta(days=2)
CANDIDATES_SHOWN = 8
CANDIDATES_READ = 500  # rows narrowed by SQL before the names are compared


@dataclass(frozen=True)
class Thread:
    """A request or meeting the actor may write about, and the two people in it."""

    meeting: Meeting
    me: Party
    other: Party


class TalkService:
    """Messages between the two sides of a request, and guests at a booked meeting's table."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        meetings: MeetingService,
        outbox: OutboxRepository,
        *,
        seats_per_table: int = seating.DEFAULT_SEATS,
    ) -> None:
        self.db = db
        self.clock = clock
        self.meetings = meetings
        self.outbox = outbox
        self.seats_per_table = seats_per_table
        self.repo = TalkRepository(db, clock)

    # --- talk ---------------------------------------------------------------------------------

    async def _current(self, meeting: Meeting) -> Meeting:
        """The meeting a thread continues on: a request answered with another time carries on
        in the new request (and so on)."""
        for _ in range(20):
            if meeting.state is not MeetingState.RESCHEDULED:
                break
            newer = await self.repo.replacement(meeting.id)
            if newer is None:
                break
            meeting = newer
        return meeting

    async def thread(self, meeting_id: int, actor_id: int) -> Thread:
        """The thread the actor may write in; NotYourMeeting or TalkEnded otherwise."""
        meeting = await self.meetings.get(meeting_id)
        if meeting is None or not meeting.involves(actor_id):
            raise NotYourMeeting(f"delegate {actor_id} is not in meeting {meeting_id}")
        meeting = await self._current(meeting)
        rules.check_open(meeting, self.clock.now())
        me = await self.meetings.party(actor_id)
        other = await self.meetings.party(meeting.other(actor_id))
        if me is None or other is None or not await self.repo.reachable(other.id):
            raise rules.TalkEnded(rules.UNREACHABLE)
        return Thread(meeting, me, other)

    async def say(self, meeting_id: int, author_id: int, text: str) -> TalkMessage:
        """Store a message and owe its copy to the other side, in one transaction."""
        body = rules.clean_message(text)
        if not body:
            raise ValueError("an empty message is not relayed")
        async with self.db.transaction():
            thread = await self.thread(meeting_id, author_id)
            languages = rules.writer_languages(thread.me.locale, thread.me.meeting_languages)
            written = rules.written_language(body, languages)
            message_id = await self.repo.add_message(
                thread.meeting.id, author_id, thread.other.id, body, written.language,
                written.basis,
            )  # fmt: skip
            assert thread.other.chat_id is not None
            item = await self.outbox.enqueue(
                thread.other.chat_id,
                TemplateRef(T_MESSAGE, {"message": message_id}),
                priority=Priority.NOTICE,
                dedupe_key=f"talk:{message_id}",
                delegate_id=thread.other.id,
                expires_at=thread.meeting.slot_end,
            )
            if item is not None:
                await self.repo.set_outbox(message_id, item)
            message = await self.repo.message(message_id)
        assert message is not None
        return message

    async def message(self, message_id: int) -> TalkMessage | None:
        """One stored message (for its renderer)."""
        return await self.repo.message(message_id)

    async def thread_of(self, meeting_id: int) -> list[TalkMessage]:
        """Everything written about a meeting, oldest first."""
        return await self.repo.thread(meeting_id)

    async def undelivered_due(self, now: dt.datetime) -> int:
        """Tell each writer whose message could not be delivered (the recipient blocked the bot);
        return how many were told. Idempotent: each message is told once."""
        told = 0
        for message in await self.repo.undelivered(now - BOUNCE_WINDOW):
            async with self.db.transaction():
                if not await self.repo.mark_bounced(message.id):
                    continue
                writer = await self.meetings.party(message.author_id)
                if writer is None or writer.chat_id is None:
                    continue
                await self.outbox.enqueue(
                    writer.chat_id,
                    TemplateRef(T_UNDELIVERED, {"message": message.id}),
                    priority=Priority.NOTICE,
                    dedupe_key=f"talk:{message.id}:undelivered",
                    delegate_id=writer.id,
                )
                told += 1
        return told

    # --- guests -------------------------------------------------------------------------------

    async def _seating(self, meeting_id: int, actor_id: int) -> tuple[Meeting, int]:
        """The booked meeting that has not begun and the party the actor speaks for in it."""
        meeting = await self.meetings.get(meeting_id)
        party = await self.meetings.may_act_for(actor_id, meeting) if meeting else None
        if meeting is None or party is None:
            raise NotYourMeeting(f"delegate {actor_id} is not a party to meeting {meeting_id}")
        if meeting.state is not MeetingState.ACCEPTED or meeting.slot_start <= self.clock.now():
            raise GuestError(seating.NOT_BOOKED)
        return meeting, party

    async def guests(self, meeting_ids: Sequence[int]) -> list[Guest]:
        """The guests of these meetings."""
        return await self.repo.guests(meeting_ids)

    async def as_guest(self, delegate_id: int) -> list[Meeting]:
        """Booked meetings the delegate joins as someone's colleague or interpreter."""
        return await self.repo.as_guest(delegate_id)

    async def choices(self, meeting_id: int, actor_id: int) -> tuple[Meeting, list[Candidate]]:
        """Whom the actor's side may bring: colleagues and interpreters free in that slot."""
        meeting, party = await self._seating(meeting_id, actor_id)
        me = await self.meetings.party(party)
        taken = {
            *meeting.participants,
            *(g.guest_id for g in await self.repo.guests([meeting.id])),
        }
        found = await self.repo.candidates(
            me.organization if me else None, meeting.slot_start, limit=CANDIDATES_READ
        )
        organization = me.organization if me else None
        kinds = {c.id: seating.guest_kind(organization, c.organization, c.role) for c in found}
        free = [c for c in found if c.id not in taken]
        interpreters = [c for c in free if kinds[c.id] is GuestKind.INTERPRETER]
        colleagues = [c for c in free if kinds[c.id] is GuestKind.COLLEAGUE]
        # Half the buttons each, unless one kind leaves room for the other.
        shown = interpreters[: max(CANDIDATES_SHOWN // 2, CANDIDATES_SHOWN - len(colleagues))]
        return meeting, shown + colleagues[: CANDIDATES_SHOWN - len(shown)]

    async def add_guest(self, meeting_id: int, actor_id: int, guest_id: int) -> Guest:
        """Bring a colleague or an interpreter to a booked meeting; the guest gets the
        confirmation and the other party is told. GuestError when a rule refuses."""
        async with self.db.transaction():
            meeting, party = await self._seating(meeting_id, actor_id)
            me = await self.meetings.party(party)
            guest = await self.meetings.party(guest_id)
            if guest is None or not guest.registered or meeting.involves(guest_id):
                raise GuestError(seating.NOT_ELIGIBLE)
            kind = seating.guest_kind(
                me.organization if me else None, guest.organization, await self.repo.role(guest_id)
            )
            if kind is None:
                raise GuestError(seating.NOT_ELIGIBLE)
            seated = await self.repo.guests([meeting.id])
            if any(g.added_by == party for g in seated):
                raise GuestError(seating.ALREADY_BROUGHT)
            if seating.seats_left(self.seats_per_table, len(seated)) < 1:
                raise GuestError(seating.TABLE_FULL)
            await self.repo.add_guest(meeting, guest_id, party, kind)
            await self._tell(
                meeting, guest_id, T_GUEST_JOINED, self._once("guest"),
                priority=Priority.CONFIRMATION,
            )  # fmt: skip
            await self._tell(
                meeting,
                meeting.other(party),
                T_GUEST_ADDED,
                self._once(f"guest{guest_id}"),
                guest=guest_id,
            )
        return Guest(meeting.id, guest_id, party, kind)

    async def remove_guest(self, meeting_id: int, actor_id: int, guest_id: int) -> bool:
        """Take the guest the actor's side brought off the meeting; the guest is told."""
        async with self.db.transaction():
            meeting, party = await self._seating(meeting_id, actor_id)
            seated = await self.repo.guests([meeting.id])
            if not any(g.guest_id == guest_id and g.added_by == party for g in seated):
                raise NotYourMeeting(f"delegate {actor_id} did not bring delegate {guest_id}")
            await self.repo.remove_guest(meeting.id, guest_id)
            await self.repo.forget_owed_to_guest(meeting.id, guest_id)
            await self._tell(meeting, guest_id, T_GUEST_REMOVED, self._once("unguest"))
        return True

    def _once(self, kind: str) -> str:
        """A dedupe kind for a notice that may be owed again later (added, removed, added)."""
        return f"{kind}@{self.clock.now().isoformat()}"

    async def guests_due(self, now: dt.datetime) -> int:
        """Guests of meetings that were cancelled or moved: carried to the new time when they
        are free then, otherwise told it is off; return how many were handled."""
        handled = 0
        for meeting_id in await self.repo.guests_of_closed():
            meeting = await self.meetings.get(meeting_id)
            if meeting is None:
                continue
            async with self.db.transaction():
                newer = (
                    await self._current(meeting)
                    if meeting.state is MeetingState.RESCHEDULED
                    else None
                )
                for guest in await self.repo.guests([meeting.id]):
                    await self.repo.remove_guest(meeting.id, guest.guest_id)
                    if newer is not None and await self._carry(guest, newer):
                        await self._tell(
                            newer, guest.guest_id, T_GUEST_JOINED, self._once("guest"),
                            priority=Priority.CONFIRMATION,
                        )  # fmt: skip
                    else:
                        await self._tell(meeting, guest.guest_id, T_GUEST_CANCELLED, "guestoff")
                    handled += 1
        return handled

    async def _carry(self, guest: Guest, newer: Meeting) -> bool:
        """Seat a guest at the meeting's new time, if it is booked and they are free then."""
        if newer.state is not MeetingState.ACCEPTED:
            return False
        try:
            await self.repo.add_guest(newer, guest.guest_id, guest.added_by, guest.kind)
        except GuestError:
            return False
        return True

    async def guest_remind_due(self, now: dt.datetime) -> int:
        """Owe each guest their reminder once it is due and the meeting is ahead."""
        horizon = now + dt.timedelta(minutes=max(REMINDER_CHOICES))
        meetings = await self.meetings.repo.accepted_between(now, horizon)
        seated = await self.repo.guests([m.id for m in meetings])
        if not seated:
            return 0
        by_id = {m.id: m for m in meetings}
        choices = await self.meetings.repo.reminder_choices(sorted({g.guest_id for g in seated}))
        owed = 0
        for guest in seated:
            meeting = by_id[guest.meeting_id]
            minutes = choices.get(guest.guest_id, self.meetings.schedule.reminder_minutes)
            if reminder_due(meeting.slot_start, minutes, now):
                owed += await self._tell(
                    meeting, guest.guest_id, T_GUEST_REMINDER, "remind",
                    priority=Priority.REMINDER, expires_at=meeting.slot_start,
                )  # fmt: skip
        return owed

    async def _tell(
        self,
        meeting: Meeting,
        person: int,
        template: str,
        kind: str,
        *,
        priority: Priority = Priority.NOTICE,
        expires_at: dt.datetime | None = None,
        guest: int | None = None,
    ) -> int:
        """Owe `person` a message about a meeting's table; 1 when newly owed."""
        party = await self.meetings.party(person)
        if party is None or party.chat_id is None:
            return 0
        params: dict[str, int] = {"meeting": meeting.id, "as": person}
        if guest is not None:
            params["guest"] = guest
        item = await self.outbox.enqueue(
            party.chat_id,
            TemplateRef(template, params),
            priority=priority,
            dedupe_key=f"meeting:{meeting.id}:{kind}:{person}",
            delegate_id=party.id,
            expires_at=expires_at,
        )
        return 0 if item is None else 1
