"""Outcome follow-up: months after a held meeting each side is asked what came of it.

The answers are what a funder of the event asks for: talks continuing, an agreement signed (a
licence, joint R&D, an investment, a supply contract), or nothing. Each side answers once per
stage (90 days, 180 days, as configured) and may change the answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.domain.meetings import Outcome, settled_outcome
from bot.domain.nudges import PolicyError

DEFAULT_AFTER_DAYS: tuple[int, ...] = (90, 180)
# A stage is asked until this long after it fell due (a bot that was down catches up).
ASK_WINDOW = dt.timedelta(days=14)


class Result(StrEnum):
    """What came of a meeting, in the order /stats lists them."""

    LICENCE = "licence"
    JOINT_RD = "joint_rd"
    INVESTMENT = "investment"
    SUPPLY = "supply"
    CONTINUING = "continuing"
    NOTHING = "nothing"


AGREEMENTS = frozenset({Result.LICENCE, Result.JOINT_RD, Result.INVESTMENT, Result.SUPPLY})
# Short codes for buttons.
RESULT_CODES: Mapping[str, Result] = {
    "l": Result.LICENCE,
    "j": Result.JOINT_RD,
    "i": Result.INVESTMENT,
    "s": Result.SUPPLY,
    "c": Result.CONTINUING,
    "n": Result.NOTHING,
}


@dataclass(frozen=True)
class FollowupPolicy:
    """The [followup] table: how many days after a meeting each question is asked."""

    after_days: tuple[int, ...] = DEFAULT_AFTER_DAYS


@dataclass(frozen=True)
class Ended:
    """A booked meeting that is over, with the participants' answers to "did it take place?"."""

    meeting_id: int
    slot_end: dt.datetime
    participants: tuple[int, int]
    answers: tuple[Outcome, ...] = ()


def was_held(answers: Sequence[Outcome]) -> bool:
    """A booked meeting counts as held unless its answers agree it was missed or cancelled."""
    settled = settled_outcome(answers)
    return settled not in (Outcome.NO_SHOW, Outcome.LATE_CANCEL)


def stage_due(slot_end: dt.datetime, after_days: int, now: dt.datetime) -> bool:
    """Whether the question `after_days` after a meeting is to be asked at `now`."""
    due = slot_end + dt.timedelta(days=after_days)
    return due <= now < due + ASK_WINDOW


def questions_due(
    ended: Iterable[Ended], policy: FollowupPolicy, now: dt.datetime
) -> list[tuple[int, int, int]]:
    """(meeting, participant, stage) for each question due now, of held meetings only."""
    due: list[tuple[int, int, int]] = []
    for meeting in ended:
        if not was_held(meeting.answers):
            continue
        for days in policy.after_days:
            if stage_due(meeting.slot_end, days, now):
                due += [(meeting.meeting_id, person, days) for person in meeting.participants]
    return due


def meeting_result(latest: Iterable[Result]) -> Result | None:
    """One meeting's result from its sides' latest answers: the furthest any side reports (an
    agreement before talks continuing before nothing), counted once per meeting."""
    order = list(Result)
    given = sorted(set(latest), key=order.index)
    return given[0] if given else None


def parse_followup(section: Mapping[str, Any] | None) -> FollowupPolicy:
    """Read the [followup] table: `after_days = [90, 180]` (an empty list turns it off)."""
    data = dict(section or {})
    unknown = sorted(set(data) - {"after_days"})
    if unknown:
        raise PolicyError(unknown[0], "unknown key")
    raw = data.get("after_days", list(DEFAULT_AFTER_DAYS))
    items = raw if isinstance(raw, list) else [raw]
    days: set[int] = set()
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= 3650:
            raise PolicyError("after_days", f"{item!r} is not a number of days 1-3650")
        days.add(item)
    ordered = tuple(sorted(days))
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if later - earlier < ASK_WINDOW.days:
            raise PolicyError(
                "after_days", f"{earlier} and {later} are closer than {ASK_WINDOW.days} days"
            )
    return FollowupPolicy(ordered)
