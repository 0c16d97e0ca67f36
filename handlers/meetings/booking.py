"""Booking: from a badge's link, a match card or a profile, a slot and a note, then the request."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from telegram import CallbackQuery, Update
from telegram.ext import (
    ApplicationHandlerStop,
)

from bot.domain import links
from bot.domain.meetings import (
    Meeting,
    UnknownBookingLink,
)
from bot.domain.scheduling import slot_start_from_key
from bot.i18n import N_
from bot.services import meetings as ms
from handlers import callbacks, registration
from handlers.common import (
    Caller,
    bare_label,
    caller,
    close_buttons,
    send,
)
from handlers.context import BotContext
from handlers.meetings.common import (
    DRAFT,
    DRAFT_MINUTES,
    NS,
    error_text,
    forget_typing,
    languages_line,
    meetings_of,
    offer_typing,
    slot_keyboard,
    typing_hint,
    when_text,
    who_text,
)

log = logging.getLogger(__name__)

SEND_LABEL = N_("📨 Send request")
EXHIBITS = "meeting_exhibits"  # user_data: invitee id -> the exhibit card the booking came from


async def registered_caller(update: Update, context: BotContext) -> Caller | None:
    """The caller if registered; otherwise tell them to finish registration first."""
    who = await caller(update, context)
    if who is None:
        return None
    if who.delegate is None or not who.delegate.is_registered:
        text = who.tr._("Please finish your registration first: send /start.")
        if update.callback_query is not None:
            await update.callback_query.answer(who.tr.label("Please register first."))
        await send(context, who.chat_id, text)
        return None
    return who


async def offer_slots(
    context: BotContext,
    who: Caller,
    counterpart_id: int,
    *,
    token: str | None = None,
    reason: str | None = None,
    team: Sequence[int] = (),
) -> None:
    """Send "Book a meeting with <name>" with the earliest times free for both (with a `team`,
    an organization's representatives: the times when one of them is free).

    /matches calls this for its "Request a meeting" button (token None): the counterpart must
    be shown to matching delegates. The `reason` (why they match, in plain words) is kept for
    the request and shown to the counterpart.
    """
    assert who.delegate is not None
    service = meetings_of(context.services)
    tr = who.tr
    other = await service.party(counterpart_id)
    if other is None or not other.registered or counterpart_id == who.delegate.id:
        await send(context, who.chat_id, tr._("You cannot book a meeting with this delegate."))
        return
    reasons: dict[int, str] = context.user_data.setdefault("meeting_reasons", {})  # type: ignore[union-attr]
    if reason:
        reasons[counterpart_id] = reason
    me = await service.party(who.delegate.id)
    if team:
        slots = await service.free_slots_for_team(who.delegate.id, team)
    else:
        slots = await service.free_slots_for([who.delegate.id, counterpart_id], limit=None)
    lines = [
        tr._("<b>Book a meeting with {name}</b>", name=who_text(other, tr)),
        languages_line(me, other, tr),
    ]
    if not slots:
        lines.append(tr._("There is no time left that is free for both of you."))
        await send(context, who.chat_id, "\n".join(lines))
        return
    lines.append(tr._("Pick a time (earliest first):"))
    lines.append(typing_hint(tr))
    if token is not None:
        action, prefix = "bk", token[len(links.BOOKING_PREFIX) :]
    else:
        action, prefix = "pk", f"{counterpart_id}_"
    rows = slot_keyboard(tr, context.services, slots, action, prefix)
    offer_typing(context, action, prefix, team)
    await send(context, who.chat_id, "\n".join(lines), rows)


async def open_booking_link(update: Update, context: BotContext) -> None:
    """`/start b_<token>`: "Book a meeting with <name>" with the earliest common free times."""
    who = await caller(update, context)
    if who is None:
        return
    if who.delegate is None or not who.delegate.is_registered:
        # Someone who scanned a badge before registering: registration comes first, and the
        # booking page follows when it is complete.
        await registration.start_with_link(update, context, (context.args or [""])[0])
        return
    token = (context.args or [""])[0]
    try:
        target = await meetings_of(context.services).booking_target(token)
    except UnknownBookingLink as error:
        await send(context, who.chat_id, error_text(error, who.tr, context.services))
        return
    if target.id == who.delegate.id:
        text = who.tr._("This is your own booking link: others scan it to book you.")
        await send(context, who.chat_id, text)
        return
    await offer_slots(context, who, target.id, token=token)


async def resume_booking(context: BotContext, who: Caller, token: str) -> None:
    """The booking page of a link opened before registering, once registration is complete."""
    assert who.delegate is not None
    try:
        target = await meetings_of(context.services).booking_target(token)
    except UnknownBookingLink as error:
        await send(context, who.chat_id, error_text(error, who.tr, context.services))
        return
    if target.id != who.delegate.id:
        await offer_slots(context, who, target.id, token=token)


async def ask_note(context: BotContext, who: Caller, draft: Mapping[str, Any]) -> None:
    """Show the request about to be sent, with Send; a typed message becomes the note."""
    service = meetings_of(context.services)
    tr = who.tr
    other = await service.party(int(draft["invitee"]))
    slot = context.services.settings.schedule.slot_at(slot_start_from_key(int(draft["slot"])))
    if other is None or slot is None:
        return
    lines = [
        tr._(
            "Request a meeting with {name} on {when}?",
            name=who_text(other, tr),
            when=when_text(tr, slot.start, slot.end, context.services),
        )
    ]
    if draft.get("note"):
        lines.append(tr._("Your note: {note}", note=draft["note"]))
    else:
        lines.append(tr._("You may type a short note for them first (optional)."))
    rows = [[(tr.label(SEND_LABEL), callbacks.make(NS, "send", int(draft["slot"])))]]
    await send(context, who.chat_id, "\n".join(lines), rows)


async def on_note(update: Update, context: BotContext) -> None:
    """Text typed while a request waits to be sent is its note."""
    draft = current_draft(context)
    message = update.effective_message
    if draft is None or message is None or not message.text:
        return
    who = await caller(update, context)
    if who is None or who.delegate is None:
        return
    if bare_label(message.text) == bare_label(who.tr.label(SEND_LABEL)):
        # The Send button's label, typed rather than pressed, sends the request.
        await send_draft(context, None, who, draft)
        raise ApplicationHandlerStop
    draft["note"] = message.text[: ms.NOTE_MAX]
    await ask_note(context, who, draft)
    raise ApplicationHandlerStop


async def send_draft(
    context: BotContext, query: CallbackQuery | None, who: Caller, draft: Mapping[str, Any]
) -> None:
    """Send the request the draft holds and tell the sender what now waits."""
    assert who.delegate is not None
    services, me = context.services, who.delegate.id
    exhibit_id = draft.get("exhibit")
    exhibit = await services.exhibits.get(int(exhibit_id)) if exhibit_id is not None else None
    team = await services.leads.team(exhibit) if exhibit else []
    meeting = await meetings_of(services).request(
        me, int(draft["invitee"]), slot_start_from_key(int(draft["slot"])),
        note=draft.get("note"), reason=draft.get("reason"), booking_token=draft.get("token"),
        team=[m for m in team if m != me],
    )  # fmt: skip
    if exhibit is not None:
        await services.leads.record(exhibit.id, me, "ask")
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)
    sent = N_("✉️ Request sent to {name} for {when}. I will tell you when they answer.")
    await confirm_sent(context, query, who, meeting, sent)


async def forget_draft(update: Update, context: BotContext) -> None:
    """Any command abandons a request that was not sent, so later text is not taken as its note."""
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)
    forget_typing(context)


def current_draft(context: BotContext) -> dict[str, Any] | None:
    data = context.user_data
    if data is None:
        return None
    draft: dict[str, Any] | None = data.get(DRAFT)
    if draft is None:
        return None
    made = dt.datetime.fromisoformat(draft["made"])
    if context.services.clock.now() - made > dt.timedelta(minutes=DRAFT_MINUTES):
        data.pop(DRAFT, None)
        return None
    return draft


def start_draft(context: BotContext, invitee: int, key: int, token: str | None) -> dict[str, Any]:
    reasons: dict[int, str] = (context.user_data or {}).get("meeting_reasons", {})
    # Booked from an exhibit card: the exhibit, whose representatives are all asked.
    exhibits: dict[int, int] = (context.user_data or {}).get(EXHIBITS, {})
    draft: dict[str, Any] = {
        "invitee": invitee,
        "slot": key,
        "token": token,
        "reason": reasons.get(invitee),
        "exhibit": exhibits.get(invitee) if token is None else None,
        "note": None,
        "made": context.services.clock.now().isoformat(),
    }
    if context.user_data is not None:
        context.user_data[DRAFT] = draft
    forget_typing(context)
    return draft


async def confirm_sent(
    context: BotContext, query: CallbackQuery | None, who: Caller, meeting: Meeting, message: str
) -> None:
    """Close the pressed buttons (if a button was pressed) and tell the sender what now waits
    for the counterpart."""
    if query is not None:
        await query.answer()
        await close_buttons(query)
    services = context.services
    other = await meetings_of(context.services).party(meeting.invitee_id)
    await send(
        context,
        who.chat_id,
        who.tr._(
            message,
            name=who_text(other, who.tr),
            when=when_text(who.tr, meeting.slot_start, meeting.slot_end, services),
        ),
    )
