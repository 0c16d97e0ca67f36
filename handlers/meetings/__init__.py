"""Meetings in the chat: booking links, requests and answers, /agenda, /badge, and the messages
the outbox sends about meetings (rendered here, in each recipient's language, at send time).

Every button names a meeting or a slot; the service re-checks on each press that the presser is
a party to the meeting (or hosts one), so forged or stale buttons change nothing. The parts:
`booking` (from a link, a match or a profile to a request), `agenda` (/agenda, reminders,
blocked times, /badge), `messages` (what the outbox sends), `common` (how times, people and
problems read). This module holds the one table of button actions and the registration.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from telegram import CallbackQuery, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.domain import links
from bot.domain import meetings as rules
from bot.domain.meetings import Meeting, MeetingError, NotYourMeeting, SlotTaken
from bot.domain.scheduling import REMINDER_CHOICES, slot_start_from_key
from bot.i18n import N_, Translator
from bot.services import Services
from bot.services.meetings import MeetingService
from handlers import callbacks
from handlers.common import (
    Buttons,
    Caller,
    close_buttons,
    keyboard,
    refuse_button,
    registered_press,
    send,
)
from handlers.context import BotContext, add_link_resumer
from handlers.meetings.agenda import (
    block_day_choice,
    reminder_choice,
    reminder_label,
    send_badge,
    show_agenda,
    show_badge,
)
from handlers.meetings.booking import (
    ask_note,
    confirm_sent,
    current_draft,
    forget_draft,
    on_note,
    open_booking_link,
    resume_booking,
    send_draft,
    start_draft,
)
from handlers.meetings.common import (
    NOTE_GROUP,
    NS,
    OUTCOME_CODES,
    TOKEN_BODY,
    current_choice,
    error_text,
    forget_typing,
    meetings_of,
    offer_typing,
    parse_id,
    parse_pair,
    parse_slot_page,
    slot_buttons,
    slot_keyboard,
    slots_from_starts,
    table_text,
    typing_hint,
    when_text,
    who_text,
)
from handlers.meetings.messages import renderers
from handlers.meetings.typed import choice_people, on_typed_time

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MeetingPress:
    """A registered delegate's press on a meetings button, with the argument it carries."""

    query: CallbackQuery
    context: BotContext
    who: Caller
    me: int  # the presser's delegate id
    arg: str

    @property
    def tr(self) -> Translator:
        return self.who.tr

    @property
    def service(self) -> MeetingService:
        return meetings_of(self.context.services)

    async def meeting_i_may_act_for(self, meeting_id: int) -> tuple[Meeting, int]:
        """The meeting and the party the presser acts for in it; NotYourMeeting otherwise."""
        meeting = await self.service.get(meeting_id)
        party = await self.service.may_act_for(self.me, meeting) if meeting else None
        if meeting is None or party is None:
            raise NotYourMeeting("not a party")
        return meeting, party

    async def meeting_i_may_change(
        self, meeting_id: int, action: rules.Action
    ) -> tuple[Meeting, int]:
        """As meeting_i_may_act_for, and `action` is allowed now: a begun meeting is read-only."""
        meeting, party = await self.meeting_i_may_act_for(meeting_id)
        rules.check_action(meeting, party, action)
        rules.check_not_started(meeting, action, self.context.services.clock.now())
        return meeting, party


# An action returns False when its argument does not parse or no longer applies: refused.
MeetingAction = Callable[[MeetingPress], Awaitable[bool]]


# -- booking -----------------------------------------------------------------------------------


async def _book_from_link(press: MeetingPress) -> bool:
    arg = press.arg
    if len(arg) <= TOKEN_BODY or not arg[TOKEN_BODY:].isdigit():
        return False
    token = links.BOOKING_PREFIX + arg[:TOKEN_BODY]
    target = await press.service.booking_target(token)
    await press.query.answer()
    draft = start_draft(press.context, target.id, int(arg[TOKEN_BODY:]), token)
    await ask_note(press.context, press.who, draft)
    return True


async def _book_picked(press: MeetingPress) -> bool:
    pair = parse_pair(press.arg)
    if pair is None:
        return False
    await press.query.answer()
    await ask_note(press.context, press.who, start_draft(press.context, pair[0], pair[1], None))
    return True


async def _send_request(press: MeetingPress) -> bool:
    key = parse_id(press.arg)
    draft = current_draft(press.context)
    if key is None or draft is None or int(draft["slot"]) != key:
        return False
    await send_draft(press.context, press.query, press.who, draft)
    return True


# -- answers -----------------------------------------------------------------------------------


async def _accept(press: MeetingPress) -> bool:
    meeting_id = parse_id(press.arg)
    if meeting_id is None:
        return False
    booked = await press.service.accept(meeting_id, press.me)
    tr, services, meeting = press.tr, press.context.services, booked.meeting
    await press.query.answer(tr.label("Accepted"))
    accepted = tr._(
        "✅ Accepted — {when}, {table}",
        when=when_text(tr, meeting.slot_start, meeting.slot_end, services),
        table=table_text(meeting.table, services, tr),
    )
    await close_buttons(press.query, accepted)
    log.info("meeting %d booked at table %s", booked.meeting.id, booked.meeting.table)
    return True


async def _decline(press: MeetingPress) -> bool:
    meeting_id = parse_id(press.arg)
    if meeting_id is None:
        return False
    await press.service.decline(meeting_id, press.me)
    await press.query.answer(press.tr.label("Declined"))
    await close_buttons(press.query, press.tr._("❌ Declined"))
    text = press.tr._("You declined the request. They will be told.")
    await send(press.context, press.who.chat_id, text)
    return True


async def _ask_other_time(press: MeetingPress) -> bool:
    meeting_id = parse_id(press.arg)
    if meeting_id is None:
        return False
    meeting, party = await press.meeting_i_may_act_for(meeting_id)
    rules.check_action(meeting, party, rules.Action.PROPOSE)
    await press.query.answer()
    await _time_choice(press, meeting, "ps", press.tr._("Which time would suit you better?"))
    return True


async def _propose_or_move(press: MeetingPress, *, move: bool) -> bool:
    pair = parse_pair(press.arg)
    if pair is None:
        return False
    meeting_id, key = pair
    change = press.service.reschedule if move else press.service.propose
    meeting = await change(meeting_id, press.me, slot_start_from_key(key))
    forget_typing(press.context)
    asked = N_("✉️ I asked {name} whether {when} suits them. Until they accept, nothing changes.")
    await confirm_sent(press.context, press.query, press.who, meeting, asked)
    return True


async def _propose_time(press: MeetingPress) -> bool:
    return await _propose_or_move(press, move=False)


async def _move_to(press: MeetingPress) -> bool:
    return await _propose_or_move(press, move=True)


async def _time_choice(press: MeetingPress, meeting: Meeting, action: str, question: str) -> None:
    service, who = press.service, press.who
    slots = await service.free_slots_for(meeting.participants, limit=None)
    if not slots:
        text = who.tr._("There is no time left that is free for both of you.")
        await send(press.context, who.chat_id, text)
        return
    rows = slot_keyboard(who.tr, press.context.services, slots, action, f"{meeting.id}_")
    offer_typing(press.context, action, f"{meeting.id}_")
    await send(press.context, who.chat_id, f"{question}\n{typing_hint(who.tr)}", rows)


async def _slot_page(press: MeetingPress) -> bool:
    """Another day, or earlier or later times, of the free slots a message offers."""
    page = parse_slot_page(press.arg)
    if page is None:
        return False
    day, offset, action, prefix = page
    people = await choice_people(press.service, press.me, action, prefix)
    slots = await press.service.free_slots_for(people, limit=None)
    previous = current_choice(press.context) or {}
    same = (previous.get("action"), previous.get("prefix")) == (action, prefix)
    offer_typing(press.context, action, prefix, previous.get("team", []) if same else [])
    rows = slot_keyboard(
        press.tr, press.context.services, slots, action, prefix, day=day, offset=offset
    )
    await press.query.answer()
    await press.query.edit_message_reply_markup(reply_markup=keyboard(rows))
    return True


# -- managing a booked meeting -----------------------------------------------------------------


async def _ask_cancel(press: MeetingPress) -> bool:
    meeting_id = parse_id(press.arg)
    if meeting_id is None:
        return False
    meeting, party = await press.meeting_i_may_change(meeting_id, rules.Action.CANCEL)
    await press.query.answer()
    tr = press.tr
    other = await press.service.party(meeting.other(party))
    when = when_text(tr, meeting.slot_start, meeting.slot_end, press.context.services)
    rows = [[(tr.label("Yes, cancel it"), callbacks.make(NS, "cxy", meeting_id))]]
    text = tr._("Cancel your meeting with {name} on {when}?", name=who_text(other, tr), when=when)
    await send(press.context, press.who.chat_id, text, rows)
    return True


async def _cancel(press: MeetingPress) -> bool:
    meeting_id = parse_id(press.arg)
    if meeting_id is None:
        return False
    await press.meeting_i_may_act_for(meeting_id)
    await press.service.cancel(meeting_id, press.me)
    await press.query.answer(press.tr.label("Cancelled"))
    await close_buttons(press.query)
    text = press.tr._("The meeting is cancelled. They will be told.")
    await send(press.context, press.who.chat_id, text)
    return True


async def _ask_move(press: MeetingPress) -> bool:
    meeting_id = parse_id(press.arg)
    if meeting_id is None:
        return False
    meeting, party = await press.meeting_i_may_change(meeting_id, rules.Action.RESCHEDULE)
    await press.query.answer()
    tr = press.tr
    other = await press.service.party(meeting.other(party))
    question = tr._(
        "Move your meeting with {name} ({when}) to which time? They must accept the new time; "
        "until then the meeting stays as it is.",
        name=who_text(other, tr),
        when=when_text(tr, meeting.slot_start, meeting.slot_end, press.context.services),
    )
    await _time_choice(press, meeting, "ms", question)
    return True


# -- reminders, blocked times, the badge, outcomes ----------------------------------------------


async def _reminder_menu(press: MeetingPress) -> bool:
    await press.query.answer()
    await reminder_choice(press.context, press.who)
    return True


async def _set_reminder(press: MeetingPress) -> bool:
    minutes = parse_id(press.arg)
    if minutes is None or minutes not in REMINDER_CHOICES:
        return False
    await press.service.set_reminder_minutes(press.me, minutes)
    await press.query.answer(reminder_label(press.tr, minutes))
    await close_buttons(press.query)
    return True


async def _blocked_times(press: MeetingPress) -> bool:
    day = parse_id(press.arg)
    if day is None:
        return False
    await press.query.answer()
    await block_day_choice(press.context, press.who, day, None)
    return True


async def _toggle_blocked(press: MeetingPress) -> bool:
    key = parse_id(press.arg)
    if key is None:
        return False
    start = slot_start_from_key(key)
    await press.service.toggle_block(press.me, start)
    await press.query.answer()
    schedule = press.context.services.settings.schedule
    local_day = schedule.local(start).date()
    if local_day in schedule.days:
        await block_day_choice(
            press.context, press.who, schedule.days.index(local_day), press.query
        )
    return True


async def _new_booking_link(press: MeetingPress) -> bool:
    token = await press.service.renew_booking_token(press.me)
    await press.query.answer(press.tr.label("Your old booking link no longer works."))
    await close_buttons(press.query)
    await send_badge(press.context, press.who, token)
    return True


async def _outcome(press: MeetingPress) -> bool:
    head, _, code = press.arg.partition("_")
    meeting_id = parse_id(head)
    if meeting_id is None or code not in OUTCOME_CODES:
        return False
    tr = press.tr
    await press.service.record_outcome(meeting_id, press.me, OUTCOME_CODES[code])
    await press.query.answer(tr.label("Thank you!"))
    stars = [(f"{n}★", callbacks.make(NS, "rate", f"{meeting_id}_{n}")) for n in range(1, 6)]
    await close_buttons(press.query)
    if code == "h":
        question = tr._("How useful was the meeting? (optional)")
        await send(press.context, press.who.chat_id, question, [stars])
    return True


async def _rate(press: MeetingPress) -> bool:
    pair = parse_pair(press.arg)
    if pair is None or not 1 <= pair[1] <= 5:
        return False
    await press.service.rate(pair[0], press.me, pair[1])
    await press.query.answer(press.tr.label("Thank you!"))
    await close_buttons(press.query)
    return True


# Callback codes of the meetings namespace ("m") and their argument.
ACTIONS: Mapping[str, MeetingAction] = {
    "sp": _slot_page,  # day, offset (2 digits), slot action, its prefix: page the times
    "bk": _book_from_link,  # booking token body + slot key: a note, then the request
    "pk": _book_picked,  # invitee id _ slot key (from a match card or a profile)
    "send": _send_request,  # slot key of the draft: send the request
    "acc": _accept,  # meeting id
    "dec": _decline,  # meeting id
    "prop": _ask_other_time,  # meeting id: list other times to propose
    "ps": _propose_time,  # meeting id _ slot key: propose that time
    "cx": _ask_cancel,  # meeting id: ask before cancelling
    "cxy": _cancel,  # meeting id: cancel, the other side told
    "mv": _ask_move,  # meeting id: list times to move to
    "ms": _move_to,  # meeting id _ slot key: ask the other side to move there
    "rem": _reminder_menu,  # (none): how long before a meeting to remind
    "remset": _set_reminder,  # minutes
    "blk": _blocked_times,  # day index: the slots of that day, blocked or free
    "tb": _toggle_blocked,  # slot key: block or free that slot
    "newl": _new_booking_link,  # (none): a new booking link, the old one dies
    "fb": _outcome,  # meeting id _ h|n|l: held, no-show, late cancel
    "rate": _rate,  # meeting id _ 1..5
}


async def on_button(update: Update, context: BotContext) -> None:
    """Handle every meetings button; the service refuses presses that are not the presser's."""
    press = await registered_press(update, context, NS, frozenset(ACTIONS))
    if press is None:
        return
    query, who, data = press.query, press.who, press.data
    action = ACTIONS[data.action]
    try:
        handled = await action(MeetingPress(query, context, who, press.delegate.id, data.arg))
    except SlotTaken as error:
        await query.answer()
        await _offer_after_conflict(context, who, error, query.data or "")
        return
    except MeetingError as error:
        await query.answer(error_text(error, who.tr, context.services), show_alert=True)
        return
    if not handled:
        await refuse_button(query, who.tr)


async def _offer_after_conflict(
    context: BotContext, who: Caller, error: SlotTaken, data: str
) -> None:
    """The loser of a race: a clear message and the next free slots to propose instead."""
    text = error_text(error, who.tr, context.services)
    slots = slots_from_starts(context.services, error.next_free)
    parsed = callbacks.parse(data, NS, frozenset(ACTIONS))
    rows: Buttons = []
    if parsed is not None and parsed.action == "acc" and (meeting_id := parse_id(parsed.arg)):
        rows = slot_buttons(who.tr, context.services, slots, "ps", f"{meeting_id}_")
        offer_typing(context, "ps", f"{meeting_id}_")
    if not slots:
        text += "\n" + who.tr._("There is no time left that is free for both of you.")
    await send(context, who.chat_id, text, rows)


async def on_text(update: Update, context: BotContext) -> None:
    """Text while a request waits to be sent is its note; while free times are offered, a
    typed time (one handler: a group runs only the first handler that matches)."""
    if current_draft(context) is not None:
        await on_note(update, context)
    else:
        await on_typed_time(update, context)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add the meetings handlers and renderers; call before registration.register, which also
    answers /start."""
    services: Services = app.bot_data["services"]
    for key, renderer in renderers(services).items():
        services.delivery.renderers.add(key, renderer)
    private = filters.ChatType.PRIVATE
    link = filters.Regex(rf"^/start(@\w+)?\s+{links.BOOKING_PREFIX}")
    app.add_handler(CommandHandler("start", open_booking_link, filters=private & link))
    add_link_resumer(app, links.BOOKING_PREFIX, resume_booking)
    app.add_handler(CommandHandler("agenda", show_agenda, filters=private))
    app.add_handler(CommandHandler("badge", show_badge, filters=private))
    app.add_handler(CallbackQueryHandler(on_button, pattern=callbacks.pattern(NS)))
    app.add_handler(
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, on_text), group=NOTE_GROUP
    )
    app.add_handler(MessageHandler(private & filters.COMMAND, forget_draft), group=NOTE_GROUP)
