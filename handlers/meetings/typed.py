"""A meeting time typed instead of pressed, while free times are offered.

From /matches, a badge's link, a booth's card or "Propose another time" the bot offers free
times as buttons; until one is pressed (or a command starts something else) a typed time
("14:40", "завтра 10:00", "غدًا 10:00", "25.11 14:40") counts too: a free time is taken as if
its button had been pressed, another time is answered with the nearest free times as buttons,
and what reads as no time at all with an example in the delegate's language.
"""

from __future__ import annotations

import datetime as dt

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.domain import links
from bot.domain.meetings import MeetingError, NotYourMeeting, SlotTaken
from bot.domain.models import Step
from bot.domain.scheduling import Slot
from bot.domain.typed_times import parse_moment, wanted_start
from bot.formats import moments
from bot.i18n import N_
from bot.services.meetings import MeetingService
from handlers.common import Caller, caller, send
from handlers.context import BotContext
from handlers.meetings.booking import ask_note, current_draft, start_draft
from handlers.meetings.common import (
    SLOTS_SHOWN,
    current_choice,
    error_text,
    examples,
    forget_typing,
    meetings_of,
    slot_buttons,
    slot_keyboard,
    slots_from_starts,
    when_text,
    who_text,
)

# What a text may be to be read as a time at all (longer ones are left to other features).
TYPED_MAX = 40

ASKED = N_("✉️ I asked {name} whether {when} suits them. Until they accept, nothing changes.")


async def choice_people(service: MeetingService, me: int, action: str, prefix: str) -> list[int]:
    """Whose free times a choice of `action` + `prefix` offers; NotYourMeeting when the
    presser (or typer) has no part in it, UnknownBookingLink for a dead link."""
    owner = prefix.rstrip("_")
    if action == "bk":
        target = await service.booking_target(links.BOOKING_PREFIX + prefix)
        return [me, target.id]
    if not owner.isdigit():
        raise NotYourMeeting("no such choice")
    if action == "pk":
        return [me, int(owner)]
    meeting = await service.get(int(owner))
    if meeting is None or await service.may_act_for(me, meeting) is None:
        raise NotYourMeeting("not a party")
    return list(meeting.participants)


def nearest(slots: list[Slot], wanted: dt.datetime) -> list[Slot]:
    """The free slots closest to the wanted start, in time order."""
    closest = sorted(slots, key=lambda slot: (abs(slot.start - wanted), slot.start))
    return sorted(closest[:SLOTS_SHOWN], key=lambda slot: slot.start)


async def on_typed_time(update: Update, context: BotContext) -> None:
    """Text typed while free times are offered (and no request waits for its note)."""
    message = update.effective_message
    choice = current_choice(context)
    if choice is None or message is None or not message.text or current_draft(context):
        return
    text = message.text.strip()
    if len(text) > TYPED_MAX:
        return
    who = await caller(update, context)
    if who is None or who.delegate is None or not who.delegate.is_registered:
        return
    services = context.services
    if who.delegate.step is not Step.DONE or who.delegate.editing:
        return
    if await services.items.pending_question(who.delegate.id) is not None:
        return  # an offer or need is being described: its answer is not a time
    schedule = services.settings.schedule
    now = services.clock.now()
    moment = parse_moment(text, who.tr.locale, now.astimezone(schedule.zone).date())
    if moment is None:
        if not any(ch.isdigit() for ch in text):
            return  # not meant as a time: other features may read it
        example = who.tr._(
            "I could not read a time in that. Type it like {time} or {day_and_time}, "
            "or pick a time above.",
            **examples(who.tr),
        )
        await send(context, who.chat_id, example)
        raise ApplicationHandlerStop
    action, prefix = str(choice["action"]), str(choice["prefix"])
    service = meetings_of(services)
    try:
        team = [int(member) for member in choice.get("team", [])]
        if team:
            slots = await service.free_slots_for_team(who.delegate.id, team)
        else:
            people = await choice_people(service, who.delegate.id, action, prefix)
            slots = await service.free_slots_for(people, limit=None)
        wanted = wanted_start(moment, schedule.days, now, schedule.zone)
        exact = next((s for s in slots if wanted is not None and s.start == wanted), None)
        if exact is not None and moment.time is not None:
            await _take(context, who, action, prefix, exact)
        else:
            await _offer_nearest(context, who, action, prefix, slots, wanted, moment.time)
    except SlotTaken as error:
        rows = slot_buttons(
            who.tr, services, slots_from_starts(services, error.next_free), action, prefix
        )
        await send(context, who.chat_id, error_text(error, who.tr, services), rows)
    except MeetingError as error:
        forget_typing(context)
        await send(context, who.chat_id, error_text(error, who.tr, services))
    raise ApplicationHandlerStop


async def _take(context: BotContext, who: Caller, action: str, prefix: str, slot: Slot) -> None:
    """A typed time that is free: what pressing its button would do."""
    assert who.delegate is not None
    service = meetings_of(context.services)
    owner = prefix.rstrip("_")
    forget_typing(context)
    if action in {"bk", "pk"}:
        if action == "bk":
            token = links.BOOKING_PREFIX + prefix
            invitee, booking = (await service.booking_target(token)).id, token
        else:
            invitee, booking = int(owner), None
        await ask_note(context, who, start_draft(context, invitee, slot.key, booking))
        return
    change = service.reschedule if action == "ms" else service.propose
    meeting = await change(int(owner), who.delegate.id, slot.start)
    other = await service.party(meeting.other(who.delegate.id))
    when = when_text(who.tr, meeting.slot_start, meeting.slot_end, context.services)
    await send(context, who.chat_id, who.tr._(ASKED, name=who_text(other, who.tr), when=when))


async def _offer_nearest(
    context: BotContext,
    who: Caller,
    action: str,
    prefix: str,
    slots: list[Slot],
    wanted: dt.datetime | None,
    time: dt.time | None,
) -> None:
    """A typed day, or a time that is not free: the day's times or the nearest ones."""
    services, tr = context.services, who.tr
    zone = services.settings.schedule.zone
    if not slots:
        await send(
            context, who.chat_id, tr._("There is no time left that is free for both of you.")
        )
        return
    if wanted is None:
        text = tr._("There are no meetings at that time. Here are the free times:")
        await send(context, who.chat_id, text, slot_keyboard(tr, services, slots, action, prefix))
        return
    if time is None:
        days = sorted({slot.start.astimezone(zone).date() for slot in slots})[:10]
        day = wanted.date()
        if day in days:
            text = tr._("Free times on {day}:", day=moments.day_text(wanted, zone, tr))
            rows = slot_keyboard(tr, services, slots, action, prefix, day=days.index(day))
            await send(context, who.chat_id, text, rows)
            return
        text = tr._("There are no meetings at that time. Here are the free times:")
        await send(context, who.chat_id, text, slot_keyboard(tr, services, slots, action, prefix))
        return
    text = tr._(
        "{when} is not free for both of you. The nearest free times:",
        when=moments.moment_text(wanted, zone, tr),
    )
    rows = slot_buttons(tr, services, nearest(slots, wanted), action, prefix)
    await send(context, who.chat_id, text, rows)
