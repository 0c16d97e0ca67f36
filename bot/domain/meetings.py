"""Meetings: their states, who may do what to them, and the errors the rules raise.

A request waits for one person, the invitee. "Propose another time" and "reschedule" create a new
request in the opposite direction that points at the meeting it would replace; the replaced one
changes state only when the new time is accepted (an accepted meeting keeps its slot until then).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.languages import spoken


class MeetingState(StrEnum):
    """Where a meeting is in its life."""

    REQUESTED = "requested"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"  # an overlapping meeting was accepted first
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"  # replaced by an accepted proposal for another time


class Action(StrEnum):
    """What a participant can do to a meeting."""

    ACCEPT = "accept"
    DECLINE = "decline"
    PROPOSE = "propose"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"
    FEEDBACK = "feedback"


class Outcome(StrEnum):
    """A participant's answer to "did the meeting take place?"."""

    HELD = "held"
    NO_SHOW = "no_show"
    LATE_CANCEL = "late_cancel"


OPEN_STATES = frozenset({MeetingState.REQUESTED, MeetingState.ACCEPTED})

# Which state allows which action, and whether only the invitee (the one asked) may do it.
_ALLOWED: dict[Action, tuple[frozenset[MeetingState], bool]] = {
    Action.ACCEPT: (frozenset({MeetingState.REQUESTED}), True),
    Action.DECLINE: (frozenset({MeetingState.REQUESTED}), True),
    Action.PROPOSE: (frozenset({MeetingState.REQUESTED}), True),
    Action.CANCEL: (frozenset({MeetingState.ACCEPTED}), False),
    Action.RESCHEDULE: (frozenset({MeetingState.ACCEPTED}), False),
    Action.FEEDBACK: (frozenset({MeetingState.ACCEPTED}), False),
}


class MeetingError(Exception):
    """A meeting rule was broken; handlers turn each kind into a localized message."""


class NotYourMeeting(MeetingError):
    """The actor is not the participant who may do this."""


class MeetingClosed(MeetingError):
    """The meeting is no longer in a state that allows this (answered, expired, cancelled)."""

    def __init__(self, state: MeetingState) -> None:
        super().__init__(f"the meeting is {state}")
        self.state = state


class SlotUnavailable(MeetingError):
    """The slot is not in the schedule, has begun, or one of the two is busy or blocked in it."""

    def __init__(self, next_free: Sequence[dt.datetime] = ()) -> None:
        super().__init__("the slot is not available")
        self.next_free = tuple(next_free)


class SlotTaken(SlotUnavailable):
    """Someone else booked the person or the last table first; the next free slots are offered."""


class InvalidCounterpart(MeetingError):
    """Nobody to meet: oneself, an unknown or unregistered delegate, or a hidden profile."""


class UnknownBookingLink(MeetingError):
    """The booking token does not exist or was replaced by a new one."""


class MeetingBlocked(MeetingError):
    """A slot with a meeting cannot be blocked; cancel the meeting first."""


class MeetingStarted(MeetingError):
    """The meeting's time has come: it is on record and can no longer be cancelled or moved."""


@dataclass(frozen=True)
class Meeting:
    """A meeting request or a booked meeting."""

    id: int
    requester_id: int
    invitee_id: int
    slot_start: dt.datetime
    slot_end: dt.datetime
    state: MeetingState
    table: str | None
    note: str | None
    reason: str | None
    expires_at: dt.datetime
    replaces_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    proposed: bool = False  # the auto-scheduler proposed it; a table is reserved until answered

    @property
    def participants(self) -> tuple[int, int]:
        """Both delegate ids, the requester first."""
        return (self.requester_id, self.invitee_id)

    def other(self, delegate_id: int) -> int:
        """The counterpart of a participant."""
        if delegate_id == self.requester_id:
            return self.invitee_id
        if delegate_id == self.invitee_id:
            return self.requester_id
        raise NotYourMeeting(f"delegate {delegate_id} is not in meeting {self.id}")

    def involves(self, delegate_id: int) -> bool:
        """Whether the delegate is one of the two participants."""
        return delegate_id in self.participants


def check_action(meeting: Meeting, actor_id: int, action: Action) -> None:
    """Raise unless `actor_id` may do `action` to the meeting in its current state."""
    states, invitee_only = _ALLOWED[action]
    if not meeting.involves(actor_id) or (invitee_only and actor_id != meeting.invitee_id):
        raise NotYourMeeting(f"delegate {actor_id} may not {action} meeting {meeting.id}")
    if meeting.state not in states:
        raise MeetingClosed(meeting.state)


DISPUTED = "disputed"


def settled_outcome(answers: Sequence[Outcome]) -> Outcome | str | None:
    """What one meeting's answers say, counted once per meeting.

    The same answer from everyone who answered (one answer is enough) settles it; a meeting
    one side calls held and the other missed is DISPUTED, counted apart and shown to the
    organizers rather than counted as both held and a no-show.
    """
    distinct = set(answers)
    if not distinct:
        return None
    if len(distinct) == 1:
        return next(iter(distinct))
    return DISPUTED


# What a booked meeting allows only before it begins; afterwards it is read-only.
_BEFORE_START_ONLY = frozenset({Action.CANCEL, Action.RESCHEDULE})


def check_not_started(meeting: Meeting, action: Action, now: dt.datetime) -> None:
    """Raise when `action` would change a meeting that has begun or is over."""
    if action in _BEFORE_START_ONLY and meeting.slot_start <= now:
        raise MeetingStarted(f"meeting {meeting.id} began at {meeting.slot_start.isoformat()}")


def is_read_only(meeting: Meeting, now: dt.datetime) -> bool:
    """Whether a booked meeting has begun (no more cancelling or moving)."""
    return meeting.slot_start <= now


def check_counterpart(requester_id: int, invitee_id: int) -> None:
    """Raise when someone asks to meet themselves."""
    if requester_id == invitee_id:
        raise InvalidCounterpart("nobody can meet themselves")


def shared_languages(mine: Sequence[str], theirs: Sequence[str]) -> tuple[str, ...]:
    """The meeting languages both speak, in my order; empty means an interpreter is needed."""
    other = spoken(theirs)
    return tuple(code for code in mine if code in other)


def overlapping_requests(accepted: Meeting, pending: Sequence[Meeting]) -> list[Meeting]:
    """The other pending requests an accepted meeting withdraws: same slot, a shared person."""
    people = set(accepted.participants)
    return [
        m
        for m in pending
        if m.id != accepted.id
        and m.state is MeetingState.REQUESTED
        and m.slot_start == accepted.slot_start
        and people & set(m.participants)
    ]
