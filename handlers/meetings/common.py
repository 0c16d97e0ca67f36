"""What every part of the meetings chat shares: its callback namespace, the service, and how
times, people, tables and problems read in the viewer's language."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from bot.domain import links
from bot.domain import meetings as rules
from bot.domain.meetings import (
    InvalidCounterpart,
    MeetingBlocked,
    MeetingClosed,
    MeetingError,
    MeetingStarted,
    MeetingState,
    Outcome,
    SlotTaken,
    SlotUnavailable,
    UnknownBookingLink,
)
from bot.domain.scheduling import Slot
from bot.domain.typed_times import tomorrow_word
from bot.domain.zones import differs_at, home_zone
from bot.formats import moments
from bot.i18n import Html, Translator, joined, language_name
from bot.services import Services
from bot.services.meetings import AlreadyRequested, MeetingService, Party
from handlers import callbacks
from handlers.common import (
    Buttons,
    chunk,
    page_row,
)
from handlers.context import BotContext

log = logging.getLogger(__name__)


NS = callbacks.MEETINGS


SLOTS_SHOWN = 6


DRAFT = "meeting_draft"


DRAFT_MINUTES = 15


# Before the offers questions (group -1): a note typed for a request about to be sent, or a
# time typed while free times are offered (handlers/meetings/typed.py).
NOTE_GROUP = -2

CHOICE = "slot_choice"  # user_data: the free times last offered (action, prefix, when)


TOKEN_BODY = links.BOOKING_TOKEN_LENGTH


OUTCOME_CODES = {"h": Outcome.HELD, "n": Outcome.NO_SHOW, "l": Outcome.LATE_CANCEL}


def offer_typing(context: BotContext, action: str, prefix: str, team: Sequence[int] = ()) -> None:
    """Free times were offered with buttons `action` + `prefix` + slot key (the times when
    one of a `team` is free, for an organization's card): a typed time counts as one of them
    for the next DRAFT_MINUTES."""
    if context.user_data is not None:
        made = context.services.clock.now().isoformat()
        context.user_data[CHOICE] = {
            "action": action, "prefix": prefix, "team": list(team), "made": made
        }  # fmt: skip


def forget_typing(context: BotContext) -> None:
    """A time was chosen, or something else began: typed text is no longer a time."""
    if context.user_data is not None:
        context.user_data.pop(CHOICE, None)


def typing_hint(tr: Translator) -> str:
    """The line under offered times that says a time may be typed, with an example."""
    return tr._("You can also type a time, for example {time} or {day_and_time}.", **examples(tr))


def examples(tr: Translator) -> dict[str, str]:
    """Two typed times as the reader's language writes them: "14:40", "завтра 10:00"."""
    return {"time": "14:40", "day_and_time": f"{tomorrow_word(tr.locale)} 10:00".strip()}


def current_choice(context: BotContext) -> dict[str, Any] | None:
    """The free times last offered with buttons, while a typed time still counts as one."""
    data = context.user_data
    choice: dict[str, Any] | None = data.get(CHOICE) if data is not None else None
    if choice is None:
        return None
    made = dt.datetime.fromisoformat(choice["made"])
    if context.services.clock.now() - made > dt.timedelta(minutes=DRAFT_MINUTES):
        forget_typing(context)
        return None
    return choice


def meetings_of(services: Services) -> MeetingService:
    """The meeting service the factory stored in bot_data."""
    service: MeetingService = services.meetings
    return service


def when_text(tr: Translator, start: dt.datetime, end: dt.datetime, services: Services) -> str:
    """A slot as the reader's language writes it, in the event's time zone."""
    return moments.span_text(start, end, services.settings.schedule.zone, tr)


def local_time_line(
    tr: Translator, start: dt.datetime, me: Party | None, services: Services
) -> list[str]:
    """The start in the reader's own zone, when their country implies one and it differs."""
    zone = home_zone(me.country if me else None)
    if zone is None or not differs_at(zone, services.settings.schedule.zone, start):
        return []
    local = moments.day_and_time(
        moments.day_text(start, zone, tr, "E"), moments.time_text(start, zone, tr), tr
    )
    return [tr._("Your local time: {time} ({zone})", time=local, zone=moments.zone_text(zone, tr))]


def slot_label(tr: Translator, slot: Slot, services: Services) -> str:
    """A short button label for a slot."""
    return moments.moment_text(slot.start, services.settings.schedule.zone, tr)


def who_text(party: Party | None, tr: Translator) -> str:
    """A delegate's name and organization, or a neutral word when the profile is gone."""
    if party is None or not party.name:
        return tr.label("a delegate")
    if party.organization:
        return tr.label(
            "{name} ({organization})", name=party.name, organization=party.organization
        )
    return party.name


def languages_line(me: Party | None, other: Party | None, tr: Translator) -> str:
    """The languages both can meet in, or that an interpreter is needed."""
    shared = rules.shared_languages(
        me.meeting_languages if me else (), other.meeting_languages if other else ()
    )
    if not shared:
        return tr._("🗣 No shared language: an interpreter is needed.")
    names = joined((language_name(code, tr) for code in shared), tr)
    return tr._("🗣 You can meet in: {languages}", languages=names)


def table_text(table: str | None, services: Services, tr: Translator) -> Html:
    """Table and room, as HTML ready to be filled into another message."""
    room = services.settings.schedule.room
    if room:
        return Html(tr._("Table {table}, {room}", table=table or "?", room=room))
    return Html(tr._("Table {table}", table=table or "?"))


def moment_text(tr: Translator, moment: dt.datetime, services: Services) -> str:
    """A point in time (day and hour) in the reader's language and the event's zone."""
    return moments.moment_text(moment, services.settings.schedule.zone, tr)


def error_text(error: MeetingError, tr: Translator, services: Services) -> str:
    """One place that turns the rules' errors into messages in the reader's language."""
    if isinstance(error, SlotTaken):
        return tr._(
            "Sorry, this time was booked a moment ago by another meeting. "
            "Here are the next free times for both of you."
        )
    if isinstance(error, SlotUnavailable):
        return tr._("This time is no longer free for both of you. Please choose another one.")
    if isinstance(error, MeetingClosed):
        texts = {
            MeetingState.ACCEPTED: tr._("This meeting has already been accepted."),
            MeetingState.DECLINED: tr._("This request has already been declined."),
            MeetingState.EXPIRED: tr._("This request has expired."),
            MeetingState.CANCELLED: tr._("This meeting was cancelled."),
        }
        return texts.get(error.state, tr._("This request is no longer open."))
    if isinstance(error, UnknownBookingLink):
        return tr._(
            "This booking link is no longer valid. Please ask the delegate for their new code."
        )
    if isinstance(error, AlreadyRequested):
        return tr._("You have already asked for this meeting; please wait for the answer.")
    if isinstance(error, MeetingStarted):
        return tr._("This meeting has already begun; it can no longer be cancelled or moved.")
    if isinstance(error, MeetingBlocked):
        return tr._("A meeting is booked in this slot. Cancel it first to block the slot.")
    if isinstance(error, InvalidCounterpart):
        return tr._("You cannot book a meeting with this delegate.")
    return tr._("This button is no longer active. Please use the latest message.")


def slot_buttons(
    tr: Translator, services: Services, slots: Sequence[Slot], action: str, prefix: str
) -> Buttons:
    """Buttons for slots, two per row; callback data is `prefix` plus the slot key."""
    buttons = [
        (slot_label(tr, slot, services), callbacks.make(NS, action, f"{prefix}{slot.key}"))
        for slot in slots
    ]
    return chunk(buttons, 2)


# The actions whose slot buttons can be paged ("sp"), each with its argument prefix.
PAGED_ACTIONS = frozenset({"bk", "pk", "ps", "ms"})


def slot_keyboard(
    tr: Translator,
    services: Services,
    slots: Sequence[Slot],
    action: str,
    prefix: str,
    *,
    day: int = 0,
    offset: int = 0,
) -> Buttons:
    """Free slots by day: one day's times, SLOTS_SHOWN at a time, then the other days.

    Earlier and later times of the day page with arrows that follow the reading direction;
    every other day with a free time has its own button ("📅 Wed, Nov 25").
    """
    zone = services.settings.schedule.zone
    days = sorted({slot.start.astimezone(zone).date() for slot in slots})[:10]
    if not days:
        return []
    day = max(0, min(day, len(days) - 1))
    of_day = [slot for slot in slots if slot.start.astimezone(zone).date() == days[day]]
    offset = max(0, min(offset, 99, len(of_day) - 1))
    rows = slot_buttons(tr, services, of_day[offset : offset + SLOTS_SHOWN], action, prefix)

    def page(to_day: int, to_offset: int) -> str:
        return callbacks.make(NS, "sp", f"{to_day}{min(to_offset, 99):02d}{action}{prefix}")

    nav = page_row(
        tr,
        page(day, max(0, offset - SLOTS_SHOWN)) if offset > 0 else None,
        page(day, offset + SLOTS_SHOWN) if offset + SLOTS_SHOWN < len(of_day) else None,
    )
    if nav:
        rows.append(nav)
    others = [
        ("📅 " + moments.day_text(slots_on[0].start, zone, tr), page(index, 0))
        for index, when in enumerate(days)
        if index != day
        for slots_on in [[s for s in slots if s.start.astimezone(zone).date() == when]]
    ]
    return rows + chunk(others, 3)


def parse_slot_page(arg: str) -> tuple[int, int, str, str] | None:
    """The day, offset, slot action and its prefix of a paging button ("sp")."""
    if len(arg) < 6 or not arg[:3].isdigit() or arg[3:5] not in PAGED_ACTIONS:
        return None
    return int(arg[0]), int(arg[1:3]), arg[3:5], arg[5:]


def slots_from_starts(services: Services, starts: Sequence[dt.datetime]) -> list[Slot]:
    schedule = services.settings.schedule
    return [slot for slot in (schedule.slot_at(s) for s in starts) if slot is not None]


def parse_pair(arg: str) -> tuple[int, int] | None:
    first, sep, second = arg.partition("_")
    if not sep or not first.isdigit() or not second.isdigit():
        return None
    return int(first), int(second)


def parse_id(arg: str) -> int | None:
    return int(arg) if arg.isdigit() else None
