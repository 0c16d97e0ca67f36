"""A colleague or an interpreter at the table: who may be brought to a booked meeting, by whom,
and how many fit at one table."""

from __future__ import annotations

from enum import StrEnum

from bot.domain.meetings import MeetingError

# Chairs at a table when the configuration says nothing ([venue] seats_per_table).
DEFAULT_SEATS = 4
PARTIES = 2  # the two people who booked the meeting


class GuestKind(StrEnum):
    """Why a guest is at the table."""

    COLLEAGUE = "colleague"  # of the same organization as the party who brings them
    INTERPRETER = "interpreter"  # a delegate registered with the interpreter role


class GuestError(MeetingError):
    """A guest cannot be added or removed; `why` says which rule refused."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


NOT_ELIGIBLE = "not_eligible"  # neither a colleague nor an interpreter, or one of the two
ALREADY_BROUGHT = "already_brought"  # this party already brings someone
TABLE_FULL = "table_full"  # no chair left
GUEST_BUSY = "guest_busy"  # the guest has a meeting or a block in that slot
NOT_BOOKED = "not_booked"  # only a booked meeting that has not begun takes guests


def same_organization(mine: str | None, theirs: str | None) -> bool:
    """Whether two organization names are the same, ignoring case and spacing."""
    if not mine or not theirs:
        return False
    return " ".join(mine.casefold().split()) == " ".join(theirs.casefold().split())


def guest_kind(
    party_organization: str | None, guest_organization: str | None, guest_role: str | None
) -> GuestKind | None:
    """What the guest would be at the party's side (an interpreter first), or None."""
    if guest_role == GuestKind.INTERPRETER.value:
        return GuestKind.INTERPRETER
    if same_organization(party_organization, guest_organization):
        return GuestKind.COLLEAGUE
    return None


def seats_left(seats_per_table: int, guests: int) -> int:
    """Chairs still free at a table with the two parties and `guests` guests."""
    return max(0, seats_per_table - PARTIES - guests)
