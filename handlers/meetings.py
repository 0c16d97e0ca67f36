"""Meetings in the chat: booking links, requests and answers, /agenda, /badge, and the messages
the outbox sends about meetings (rendered here, in each recipient's language, at send time).

Every button names a meeting or a slot; the service re-checks on each press that the presser is
a party to the meeting (or hosts one), so forged or stale buttons change nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from babel.dates import format_datetime, format_interval, format_skeleton
from telegram import CallbackQuery, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import meetings_service as ms
from bot.badges import booking_link, qr_png
from bot.calendar import CalendarEntry, agenda_ics
from bot.domain import meetings as rules
from bot.domain.meetings import (
    InvalidCounterpart,
    Meeting,
    MeetingBlocked,
    MeetingClosed,
    MeetingError,
    MeetingState,
    NotYourMeeting,
    Outcome,
    SlotTaken,
    SlotUnavailable,
    UnknownBookingLink,
)
from bot.domain.outbox import Rendered
from bot.domain.scheduling import REMINDER_CHOICES, Slot, slot_key, slot_start_from_key
from bot.i18n import N_, Html, Translator
from bot.match_text import reason_text
from bot.meetings_service import AlreadyRequested, MeetingService
from bot.services import BotContext, Services
from bot.zones import differs_at, home_zone
from handlers import callbacks, registration
from handlers.common import (
    Buttons,
    Caller,
    caller,
    chunk,
    close_buttons,
    edit_message,
    keyboard,
    refuse_button,
    registered_press,
    send,
)
from handlers.registration import language_name
from storage.meetings import Party

log = logging.getLogger(__name__)

NS = callbacks.MEETINGS
ACTIONS = frozenset(
    {
        "bk", "pk", "send", "acc", "dec", "prop", "ps", "cx", "cxy", "mv", "ms", "rem",
        "remset", "blk", "tb", "newl", "fb", "rate",
    }
)  # fmt: skip
SLOTS_SHOWN = 6
DRAFT = "meeting_draft"
DRAFT_MINUTES = 15
# Before the offers questions (group -1): a note typed for a request about to be sent.
NOTE_GROUP = -2
TOKEN_BODY = rules.BOOKING_TOKEN_LENGTH
OUTCOME_CODES = {"h": Outcome.HELD, "n": Outcome.NO_SHOW, "l": Outcome.LATE_CANCEL}


def _meetings(context: BotContext) -> MeetingService:
    return meetings_of(context.services)


def meetings_of(services: Services) -> MeetingService:
    """The meeting service the factory stored in bot_data."""
    service: MeetingService = services.meetings
    return service


# --- how times, people and problems read -----------------------------------------------------


def when_text(tr: Translator, start: dt.datetime, end: dt.datetime, services: Services) -> str:
    """A slot as the reader's language writes it, in the event's time zone."""
    zone = services.settings.schedule.zone
    day = format_skeleton("MMMEd", start, tzinfo=zone, locale=tr.babel_locale)
    hours = format_interval(start, end, "Hm", tzinfo=zone, locale=tr.babel_locale)
    return f"{day}, {hours}"


def local_time_line(
    tr: Translator, start: dt.datetime, me: Party | None, services: Services
) -> list[str]:
    """The start in the reader's own zone, when their country implies one and it differs."""
    zone = home_zone(me.country if me else None)
    if zone is None or not differs_at(zone, services.settings.schedule.zone, start):
        return []
    local = format_datetime(start, "EEE HH:mm", tzinfo=zone, locale=tr.babel_locale)
    return [tr._("Your local time: {time} ({zone})", time=local, zone=zone.key)]


def slot_label(tr: Translator, slot: Slot, services: Services) -> str:
    """A short button label for a slot."""
    zone = services.settings.schedule.zone
    day = format_skeleton("MMMEd", slot.start, tzinfo=zone, locale=tr.babel_locale)
    return f"{day} {format_skeleton('Hm', slot.start, tzinfo=zone, locale=tr.babel_locale)}"


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
    names = ", ".join(language_name(code, tr) for code in shared)
    return tr._("🗣 You can meet in: {languages}", languages=names)


def table_text(table: str | None, services: Services, tr: Translator) -> Html:
    """Table and room, as HTML ready to be filled into another message."""
    room = services.settings.schedule.room
    if room:
        return Html(tr._("Table {table}, {room}", table=table or "?", room=room))
    return Html(tr._("Table {table}", table=table or "?"))


def moment_text(tr: Translator, moment: dt.datetime, services: Services) -> str:
    """A point in time (day and hour) in the reader's language and the event's zone."""
    zone = services.settings.schedule.zone
    day = format_skeleton("MMMEd", moment, tzinfo=zone, locale=tr.babel_locale)
    return f"{day}, {format_skeleton('Hm', moment, tzinfo=zone, locale=tr.babel_locale)}"


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


def _slots_from_starts(services: Services, starts: Sequence[dt.datetime]) -> list[Slot]:
    schedule = services.settings.schedule
    return [slot for slot in (schedule.slot_at(s) for s in starts) if slot is not None]


# --- booking: from a link, a match or a profile ----------------------------------------------


async def _registered(update: Update, context: BotContext) -> Caller | None:
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
) -> None:
    """Send "Book a meeting with <name>" with the earliest times free for both.

    /matches calls this for its "Request a meeting" button (token None): the counterpart must
    be shown to matching delegates. The `reason` (why they match, in plain words) is kept for
    the request and shown to the counterpart.
    """
    assert who.delegate is not None
    service = _meetings(context)
    tr = who.tr
    other = await service.party(counterpart_id)
    if other is None or not other.registered or counterpart_id == who.delegate.id:
        await send(context, who.chat_id, tr._("You cannot book a meeting with this delegate."))
        return
    reasons: dict[int, str] = context.user_data.setdefault("meeting_reasons", {})  # type: ignore[union-attr]
    if reason:
        reasons[counterpart_id] = reason
    me = await service.party(who.delegate.id)
    slots = await service.free_slots_for([who.delegate.id, counterpart_id], limit=SLOTS_SHOWN)
    lines = [
        tr._("<b>Book a meeting with {name}</b>", name=who_text(other, tr)),
        languages_line(me, other, tr),
    ]
    if not slots:
        lines.append(tr._("There is no time left that is free for both of you."))
        await send(context, who.chat_id, "\n".join(lines))
        return
    lines.append(tr._("Pick a time (earliest first):"))
    if token is not None:
        rows = slot_buttons(tr, context.services, slots, "bk", token[len(rules.BOOKING_PREFIX) :])
    else:
        rows = slot_buttons(tr, context.services, slots, "pk", f"{counterpart_id}_")
    await send(context, who.chat_id, "\n".join(lines), rows)


async def open_booking_link(update: Update, context: BotContext) -> None:
    """`/start b_<token>`: "Book a meeting with <name>" with the earliest common free times."""
    who = await caller(update, context)
    if who is None:
        return
    if who.delegate is None or not who.delegate.is_registered:
        # Someone who scanned a badge before registering: registration comes first.
        await registration.start(update, context)
        return
    token = (context.args or [""])[0]
    try:
        target = await _meetings(context).booking_target(token)
    except UnknownBookingLink as error:
        await send(context, who.chat_id, error_text(error, who.tr, context.services))
        return
    if target.id == who.delegate.id:
        text = who.tr._("This is your own booking link: others scan it to book you.")
        await send(context, who.chat_id, text)
        return
    await offer_slots(context, who, target.id, token=token)


async def _ask_note(context: BotContext, who: Caller, draft: Mapping[str, Any]) -> None:
    """Show the request about to be sent, with Send; a typed message becomes the note."""
    service = _meetings(context)
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
    rows = [[(tr.label("📨 Send request"), callbacks.make(NS, "send", int(draft["slot"])))]]
    await send(context, who.chat_id, "\n".join(lines), rows)


async def on_note(update: Update, context: BotContext) -> None:
    """Text typed while a request waits to be sent is its note."""
    draft = _draft(context)
    message = update.effective_message
    if draft is None or message is None or not message.text:
        return
    who = await caller(update, context)
    if who is None or who.delegate is None:
        return
    draft["note"] = message.text[: ms.NOTE_MAX]
    await _ask_note(context, who, draft)
    raise ApplicationHandlerStop


async def forget_draft(update: Update, context: BotContext) -> None:
    """Any command abandons a request that was not sent, so later text is not taken as its note."""
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)


def _draft(context: BotContext) -> dict[str, Any] | None:
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


def _start_draft(context: BotContext, invitee: int, key: int, token: str | None) -> dict[str, Any]:
    reasons: dict[int, str] = (context.user_data or {}).get("meeting_reasons", {})
    draft: dict[str, Any] = {
        "invitee": invitee,
        "slot": key,
        "token": token,
        "reason": reasons.get(invitee),
        "note": None,
        "made": context.services.clock.now().isoformat(),
    }
    if context.user_data is not None:
        context.user_data[DRAFT] = draft
    return draft


# --- answers, agenda, badge: one callback handler --------------------------------------------


def _pair(arg: str) -> tuple[int, int] | None:
    first, sep, second = arg.partition("_")
    if not sep or not first.isdigit() or not second.isdigit():
        return None
    return int(first), int(second)


def _int(arg: str) -> int | None:
    return int(arg) if arg.isdigit() else None


async def on_button(update: Update, context: BotContext) -> None:
    """Handle every meetings button; the service refuses presses that are not the presser's."""
    press = await registered_press(update, context, NS, ACTIONS)
    if press is None:
        return
    query, who, data = press.query, press.who, press.data
    try:
        handled = await _dispatch(update, context, who, data.action, data.arg)
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
    slots = _slots_from_starts(context.services, error.next_free)
    parsed = callbacks.parse(data, NS, ACTIONS)
    rows: Buttons = []
    if parsed is not None and parsed.action == "acc" and (meeting_id := _int(parsed.arg)):
        rows = slot_buttons(who.tr, context.services, slots, "ps", f"{meeting_id}_")
    if not slots:
        text += "\n" + who.tr._("There is no time left that is free for both of you.")
    await send(context, who.chat_id, text, rows)


async def _dispatch(
    update: Update, context: BotContext, who: Caller, action: str, arg: str
) -> bool:
    query = update.callback_query
    assert query is not None and who.delegate is not None
    me = who.delegate.id
    service = _meetings(context)
    tr, services = who.tr, context.services
    if action == "bk" and len(arg) > TOKEN_BODY and arg[TOKEN_BODY:].isdigit():
        token = rules.BOOKING_PREFIX + arg[:TOKEN_BODY]
        target = await service.booking_target(token)
        await query.answer()
        await _ask_note(
            context, who, _start_draft(context, target.id, int(arg[TOKEN_BODY:]), token)
        )
        return True
    if action == "pk" and (pair := _pair(arg)):
        await query.answer()
        await _ask_note(context, who, _start_draft(context, pair[0], pair[1], None))
        return True
    if action == "send" and (key := _int(arg)) is not None:
        draft = _draft(context)
        if draft is None or int(draft["slot"]) != key:
            return False
        meeting = await service.request(
            me, int(draft["invitee"]), slot_start_from_key(key), note=draft.get("note"),
            reason=draft.get("reason"), booking_token=draft.get("token"),
        )  # fmt: skip
        if context.user_data is not None:
            context.user_data.pop(DRAFT, None)
        await _confirm_sent(
            context, query, who, meeting,
            N_("✉️ Request sent to {name} for {when}. I will tell you when they answer."),
        )  # fmt: skip
        return True
    if action in {"acc", "dec", "prop"} and (meeting_id := _int(arg)) is not None:
        return await _answer(context, query, who, action, meeting_id)
    if action in {"ps", "ms"} and (pair := _pair(arg)):
        meeting_id, key = pair
        if action == "ps":
            meeting = await service.propose(meeting_id, me, slot_start_from_key(key))
        else:
            meeting = await service.reschedule(meeting_id, me, slot_start_from_key(key))
        await _confirm_sent(
            context, query, who, meeting,
            N_("✉️ I asked {name} whether {when} suits them. Until they accept, nothing changes."),
        )  # fmt: skip
        return True
    if action in {"cx", "cxy", "mv"} and (meeting_id := _int(arg)) is not None:
        return await _manage(context, query, who, action, meeting_id)
    if action == "rem":
        await query.answer()
        await _reminder_choice(context, who)
        return True
    if action == "remset" and (minutes := _int(arg)) is not None and minutes in REMINDER_CHOICES:
        await service.set_reminder_minutes(me, minutes)
        await query.answer(_reminder_label(tr, minutes))
        await close_buttons(query)
        return True
    if action == "blk" and (day := _int(arg)) is not None:
        await query.answer()
        await _block_day(context, who, day, None)
        return True
    if action == "tb" and (key := _int(arg)) is not None:
        start = slot_start_from_key(key)
        await service.toggle_block(me, start)
        await query.answer()
        local_day = services.settings.schedule.local(start).date()
        days = services.settings.schedule.days
        if local_day in days:
            await _block_day(context, who, days.index(local_day), query)
        return True
    if action == "newl":
        token = await service.renew_booking_token(me)
        await query.answer(tr.label("Your old booking link no longer works."))
        await close_buttons(query)
        await _send_badge(context, who, token)
        return True
    if action == "fb" and (parts := arg.partition("_")) and parts[2] in OUTCOME_CODES:
        meeting_id = _int(parts[0])
        if meeting_id is None:
            return False
        await service.record_outcome(meeting_id, me, OUTCOME_CODES[parts[2]])
        await query.answer(tr.label("Thank you!"))
        rows = [
            [(str(n) + "★", callbacks.make(NS, "rate", f"{meeting_id}_{n}")) for n in range(1, 6)]
        ]
        await close_buttons(query)
        if parts[2] == "h":
            await send(context, who.chat_id, tr._("How useful was the meeting? (optional)"), rows)
        return True
    if action == "rate" and (pair := _pair(arg)) and 1 <= pair[1] <= 5:
        await service.rate(pair[0], me, pair[1])
        await query.answer(tr.label("Thank you!"))
        await close_buttons(query)
        return True
    return False


async def _answer(
    context: BotContext, query: CallbackQuery, who: Caller, action: str, meeting_id: int
) -> bool:
    assert who.delegate is not None
    service = _meetings(context)
    tr = who.tr
    if action == "acc":
        booked = await service.accept(meeting_id, who.delegate.id)
        await query.answer(tr.label("Accepted"))
        await close_buttons(query)
        log.info("meeting %d booked at table %s", booked.meeting.id, booked.meeting.table)
        return True
    if action == "dec":
        await service.decline(meeting_id, who.delegate.id)
        await query.answer(tr.label("Declined"))
        await close_buttons(query)
        await send(context, who.chat_id, tr._("You declined the request. They will be told."))
        return True
    meeting = await service.get(meeting_id)
    party = await service.may_act_for(who.delegate.id, meeting) if meeting else None
    if meeting is None or party is None:
        raise NotYourMeeting("not a party")
    rules.check_action(meeting, party, rules.Action.PROPOSE)
    await query.answer()
    await _time_choice(context, who, meeting, "ps", tr._("Which time would suit you better?"))
    return True


async def _time_choice(
    context: BotContext, who: Caller, meeting: Meeting, action: str, question: str
) -> None:
    slots = await _meetings(context).free_slots_for(meeting.participants, limit=SLOTS_SHOWN)
    if not slots:
        text = who.tr._("There is no time left that is free for both of you.")
        await send(context, who.chat_id, text)
        return
    rows = slot_buttons(who.tr, context.services, slots, action, f"{meeting.id}_")
    await send(context, who.chat_id, question, rows)


async def _manage(
    context: BotContext, query: CallbackQuery, who: Caller, action: str, meeting_id: int
) -> bool:
    assert who.delegate is not None
    service = _meetings(context)
    tr, services = who.tr, context.services
    meeting = await service.get(meeting_id)
    party = await service.may_act_for(who.delegate.id, meeting) if meeting else None
    if meeting is None or party is None:
        raise NotYourMeeting("not a party")
    if action == "cxy":
        await service.cancel(meeting_id, who.delegate.id)
        await query.answer(tr.label("Cancelled"))
        await close_buttons(query)
        await send(context, who.chat_id, tr._("The meeting is cancelled. They will be told."))
        return True
    rules.check_action(meeting, party, rules.Action.CANCEL)
    await query.answer()
    other = await service.party(meeting.other(party))
    when = when_text(tr, meeting.slot_start, meeting.slot_end, services)
    if action == "cx":
        rows = [[(tr.label("Yes, cancel it"), callbacks.make(NS, "cxy", meeting_id))]]
        text = tr._(
            "Cancel your meeting with {name} on {when}?", name=who_text(other, tr), when=when
        )
        await send(context, who.chat_id, text, rows)
        return True
    question = tr._(
        "Move your meeting with {name} ({when}) to which time? They must accept the new time; "
        "until then the meeting stays as it is.",
        name=who_text(other, tr),
        when=when,
    )
    await _time_choice(context, who, meeting, "ms", question)
    return True


# --- /agenda -----------------------------------------------------------------------------------


async def _confirm_sent(
    context: BotContext, query: CallbackQuery, who: Caller, meeting: Meeting, message: str
) -> None:
    """Close the pressed buttons and tell the sender what now waits for the counterpart."""
    await query.answer()
    await close_buttons(query)
    services = context.services
    other = await _meetings(context).party(meeting.invitee_id)
    await send(
        context,
        who.chat_id,
        who.tr._(
            message,
            name=who_text(other, who.tr),
            when=when_text(who.tr, meeting.slot_start, meeting.slot_end, services),
        ),
    )


def _reminder_label(tr: Translator, minutes: int) -> str:
    if minutes == 0:
        return tr.label("⏰ Reminders: off")
    return tr.ngettext(
        "⏰ Reminders: {n} minute before", "⏰ Reminders: {n} minutes before", minutes
    )


async def _reminder_choice(context: BotContext, who: Caller) -> None:
    assert who.delegate is not None
    current = await _meetings(context).reminder_minutes(who.delegate.id)
    buttons = [
        (
            ("✅ " if n == current else "") + (str(n) if n else who.tr.label("off")),
            callbacks.make(NS, "remset", n),
        )
        for n in REMINDER_CHOICES
    ]
    text = who.tr._("How many minutes before each meeting should I remind you?")
    await send(context, who.chat_id, text, [buttons])


async def _block_day(
    context: BotContext, who: Caller, day_index: int, query: CallbackQuery | None
) -> None:
    """The day's slots as toggles: 🚫 blocked, 📅 a meeting, ▫️ free."""
    assert who.delegate is not None
    services = context.services
    schedule = services.settings.schedule
    if not 0 <= day_index < len(schedule.days):
        return
    service = _meetings(context)
    blocked = await service.blocked(who.delegate.id)
    booked = {m.slot_start for m in await service.agenda(who.delegate.id) if m.table}
    now = services.clock.now()
    locale = who.tr.babel_locale
    day_slots = schedule.slots_on(schedule.days[day_index])
    buttons = []
    for slot in day_slots:
        if slot.start <= now:
            continue
        mark = "🚫" if slot.start in blocked else "📅" if slot.start in booked else "▫️"
        time = format_skeleton("Hm", slot.start, tzinfo=schedule.zone, locale=locale)
        buttons.append((f"{mark} {time}", callbacks.make(NS, "tb", slot_key(slot.start))))
    noon = dt.datetime.combine(schedule.days[day_index], dt.time(12), tzinfo=schedule.zone)
    day = format_skeleton("MMMEd", noon, tzinfo=schedule.zone, locale=locale)
    text = who.tr._(
        "<b>Availability on {day}</b>\nTap a time to block it (🚫) or free it again. "
        "Blocked times are offered to no one.",
        day=day,
    )
    rows = chunk(buttons, 4)
    if query is not None:
        await edit_message(query, text, rows)
    else:
        await send(context, who.chat_id, text, rows)


def agenda_text(
    who: Caller,
    meetings: Sequence[Meeting],
    parties: Mapping[int, Party | None],
    services: Services,
) -> tuple[str, Buttons]:
    """The agenda grouped by day, with a cancel and a move button per booked meeting."""
    assert who.delegate is not None
    tr, me = who.tr, who.delegate.id
    zone = services.settings.schedule.zone
    lines = [tr._("<b>Your meetings</b>")]
    rows: Buttons = []
    booked = [m for m in meetings if m.state is MeetingState.ACCEPTED]
    waiting = [m for m in meetings if m.state is MeetingState.REQUESTED]
    if not booked:
        lines.append(tr._("No meetings booked yet."))
    day_seen: dt.date | None = None
    for m in booked:
        day = m.slot_start.astimezone(zone).date()
        if day != day_seen:
            day_seen = day
            lines.append("")
            label = format_skeleton("MMMEd", m.slot_start, tzinfo=zone, locale=tr.babel_locale)
            lines.append(f"<b>{Html(label)}</b>")
        hours = format_interval(
            m.slot_start, m.slot_end, "Hm", tzinfo=zone, locale=tr.babel_locale
        )
        other = parties.get(m.other(me))
        lines.append(
            tr._(
                "{hours} · {table} · {name}",
                hours=hours,
                table=table_text(m.table, services, tr),
                name=who_text(other, tr),
            )
        )
        short = format_skeleton("Hm", m.slot_start, tzinfo=zone, locale=tr.babel_locale)
        rows.append(
            [
                (tr.label("❌ Cancel {time}", time=short), callbacks.make(NS, "cx", m.id)),
                (tr.label("🔁 Move {time}", time=short), callbacks.make(NS, "mv", m.id)),
            ]
        )
    if waiting:
        lines += ["", tr._("<b>Waiting for an answer</b>")]
        for m in waiting:
            other = parties.get(m.other(me))
            when = when_text(tr, m.slot_start, m.slot_end, services)
            if m.invitee_id == me:
                lines.append(tr._("{when}: {name} asks you", when=when, name=who_text(other, tr)))
            else:
                lines.append(tr._("{when}: you asked {name}", when=when, name=who_text(other, tr)))
    return "\n".join(lines), rows


async def show_agenda(update: Update, context: BotContext) -> None:
    """/agenda: meetings by day with cancel/move buttons, availability, reminders, and the .ics."""
    who = await _registered(update, context)
    if who is None or who.delegate is None:
        return
    services = context.services
    service = _meetings(context)
    meetings = await service.agenda(who.delegate.id)
    parties = {pid: await service.party(pid) for m in meetings for pid in m.participants}
    text, rows = agenda_text(who, meetings, parties, services)
    minutes = await service.reminder_minutes(who.delegate.id)
    rows.append([(_reminder_label(who.tr, minutes), callbacks.make(NS, "rem"))])
    schedule = services.settings.schedule
    day_buttons = []
    for index, day in enumerate(schedule.days):
        noon = dt.datetime.combine(day, dt.time(12), tzinfo=schedule.zone)
        label = format_skeleton("MMMEd", noon, tzinfo=schedule.zone, locale=who.tr.babel_locale)
        day_buttons.append(
            (who.tr.label("🚫 Block times: {day}", day=label), callbacks.make(NS, "blk", index))
        )
    rows += chunk(day_buttons, 2)
    await send(context, who.chat_id, text, rows)
    booked = [m for m in meetings if m.state is MeetingState.ACCEPTED]
    if booked:
        await context.bot.send_document(
            who.chat_id,
            document=agenda_file(who, booked, parties, services),
            filename="meetings.ics",
            caption=who.tr._("Add your meetings to your phone's calendar."),
        )


def agenda_file(
    who: Caller, booked: Sequence[Meeting], parties: Mapping[int, Party | None], services: Services
) -> bytes:
    """The booked meetings as an .ics file, written in the delegate's language."""
    assert who.delegate is not None
    tr, me = who.tr, who.delegate.id
    entries = []
    for m in booked:
        other = parties.get(m.other(me))
        entries.append(
            CalendarEntry(
                uid=f"meeting-{m.id}@matchmaker",
                start=m.slot_start,
                end=m.slot_end,
                summary=tr.label("Meeting: {name}", name=who_text(other, tr)),
                location=tr.label("Table {table}", table=m.table or "?")
                + (
                    f", {services.settings.schedule.room}"
                    if services.settings.schedule.room
                    else ""
                ),
                description=(other.organization or "") if other else "",
            )
        )
    return agenda_ics(
        entries,
        zone=services.settings.schedule.zone,
        name=services.settings.event_name,
        stamp=services.clock.now(),
    )


# --- /badge ------------------------------------------------------------------------------------


async def _send_badge(context: BotContext, who: Caller, token: str) -> None:
    link = booking_link(context.bot.username, token)
    caption = who.tr._(
        "<b>Your booking code</b>\nShow it to other delegates: scanning it opens "
        '"Book a meeting with you" in this bot. Link: {link}',
        link=link,
    )
    rows = [
        [(who.tr.label("🔄 New link (the old one stops working)"), callbacks.make(NS, "newl"))]
    ]
    await context.bot.send_photo(
        who.chat_id, photo=qr_png(link), caption=caption, reply_markup=keyboard(rows)
    )


async def show_badge(update: Update, context: BotContext) -> None:
    """/badge: the QR code of the delegate's booking link."""
    who = await _registered(update, context)
    if who is None or who.delegate is None:
        return
    token = await _meetings(context).booking_token(who.delegate.id)
    await _send_badge(context, who, token)


# --- messages the outbox sends ------------------------------------------------------------------


async def match_reasons(
    services: Services, me: Party | None, other: Party | None, tr: Translator
) -> str | None:
    """Why two delegates match, in the reader's language, computed when the message is sent."""
    if me is None or other is None:
        return None
    match = await services.matching.pair(me.id, other.id)
    if match is None:
        return None
    taxonomy = services.matching.taxonomy
    reasons = [r for r in match.reasons if r.kind != "common_language"][:2]
    return "; ".join(reason_text(reason, tr, taxonomy) for reason in reasons) or None


def renderers(services: Services) -> dict[str, Any]:
    """The renderer of each meetings template, closing over the services."""
    service = meetings_of(services)

    async def load(
        params: Mapping[str, Any],
    ) -> tuple[Meeting | None, Party | None, Party | None]:
        meeting = await service.get(int(params["meeting"]))
        if meeting is None:
            return None, None, None
        me_id = int(params["as"])
        return meeting, await service.party(me_id), await service.party(meeting.other(me_id))

    def on_behalf(tr: Translator, me: Party | None) -> list[str]:
        if me is not None and me.chat_id is None:
            return [tr._("On behalf of {name}:", name=who_text(me, tr))]
        return []

    def gone(tr: Translator) -> Rendered:
        return Rendered(tr._("A meeting you were part of has changed. See /agenda."))

    async def request(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        meeting, me, other = await load(params)
        if meeting is None:
            return gone(tr)
        when = when_text(tr, meeting.slot_start, meeting.slot_end, services)
        replaced = await service.get(meeting.replaces_id) if meeting.replaces_id else None
        lines = on_behalf(tr, me)
        if replaced is not None and replaced.table is not None and not replaced.proposed:
            lines.append(
                tr._(
                    "<b>{name} asks to move your meeting</b> from {old} to {when}.",
                    name=who_text(other, tr),
                    old=when_text(tr, replaced.slot_start, replaced.slot_end, services),
                    when=when,
                )
            )
        elif replaced is not None:
            lines.append(
                tr._(
                    "<b>{name} proposes another time:</b> {when}.",
                    name=who_text(other, tr),
                    when=when,
                )
            )
        else:
            lines.append(
                tr._(
                    "<b>{name} would like to meet you</b> on {when}.",
                    name=who_text(other, tr),
                    when=when,
                )
            )
        why = await match_reasons(services, me, other, tr)
        if why:
            lines.append(tr._("Why you match: {reason}", reason=Html(why)))
        elif meeting.reason:
            lines.append(tr._("Why you match: {reason}", reason=meeting.reason))
        if meeting.note:
            lines.append(tr._("Their note: {note}", note=meeting.note))
        lines.append(languages_line(me, other, tr))
        expires = moment_text(tr, meeting.expires_at, services)
        lines.append(tr._("Please answer by {time}.", time=expires))
        buttons = (
            (
                (tr.label("✅ Accept"), callbacks.make(NS, "acc", meeting.id)),
                (tr.label("Decline"), callbacks.make(NS, "dec", meeting.id)),
            ),
            ((tr.label("🕒 Propose another time"), callbacks.make(NS, "prop", meeting.id)),),
        )
        return Rendered("\n".join(lines), buttons)

    async def proposal(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        meeting, me, other = await load(params)
        if meeting is None:
            return gone(tr)
        lines = on_behalf(tr, me)
        lines.append(
            tr._(
                "📅 <b>The organizers propose a meeting</b> with {name} on {when}, at {table}. "
                "{name} would like to meet you.",
                name=who_text(other, tr),
                when=when_text(tr, meeting.slot_start, meeting.slot_end, services),
                table=table_text(meeting.table, services, tr),
            )
        )
        why = await match_reasons(services, me, other, tr)
        if why:
            lines.append(tr._("Why you match: {reason}", reason=Html(why)))
        lines.append(languages_line(me, other, tr))
        expires = moment_text(tr, meeting.expires_at, services)
        lines.append(
            tr._("The table is kept for you until {time}. Please answer by then.", time=expires)
        )
        buttons = (
            (
                (tr.label("✅ Accept"), callbacks.make(NS, "acc", meeting.id)),
                (tr.label("Decline"), callbacks.make(NS, "dec", meeting.id)),
            ),
            ((tr.label("🕒 Propose another time"), callbacks.make(NS, "prop", meeting.id)),),
        )
        return Rendered("\n".join(lines), buttons)

    async def confirmed(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        meeting, me, other = await load(params)
        if meeting is None:
            return gone(tr)
        lines = on_behalf(tr, me)
        lines += [
            tr._("✅ <b>Meeting confirmed</b>"),
            tr._(
                "When: {when}", when=when_text(tr, meeting.slot_start, meeting.slot_end, services)
            ),
            *local_time_line(tr, meeting.slot_start, me, services),
            tr._("Where: {table}", table=table_text(meeting.table, services, tr)),
            tr._("With: {name}", name=who_text(other, tr)),
        ]
        if other is not None and other.contact:
            lines.append(tr._("Contact: {contact}", contact=other.contact))
        lines.append(languages_line(me, other, tr))
        lines.append(tr._("Your meetings: /agenda"))
        return Rendered("\n".join(lines))

    def simple(message: str) -> Any:
        async def render(tr: Translator, params: Mapping[str, Any]) -> Rendered:
            meeting, me, other = await load(params)
            if meeting is None:
                return gone(tr)
            text = tr._(
                message,
                name=who_text(other, tr),
                when=when_text(tr, meeting.slot_start, meeting.slot_end, services),
                table=table_text(meeting.table, services, tr),
            )
            return Rendered("\n".join([*on_behalf(tr, me), text]))

        return render

    async def follow_up(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        meeting, me, other = await load(params)
        if meeting is None:
            return gone(tr)
        text = tr._(
            "Did your meeting with {name} ({when}) take place?",
            name=who_text(other, tr),
            when=when_text(tr, meeting.slot_start, meeting.slot_end, services),
        )
        buttons = (
            (
                (tr.label("Yes"), callbacks.make(NS, "fb", f"{meeting.id}_h")),
                (tr.label("They did not come"), callbacks.make(NS, "fb", f"{meeting.id}_n")),
            ),
            (
                (
                    tr.label("Cancelled at short notice"),
                    callbacks.make(NS, "fb", f"{meeting.id}_l"),
                ),
            ),
        )
        return Rendered("\n".join([*on_behalf(tr, me), text]), buttons)

    return {
        ms.T_REQUEST: request,
        ms.T_CONFIRMED: confirmed,
        ms.T_DECLINED: simple(N_("{name} declined your meeting request for {when}.")),
        ms.T_EXPIRED: simple(
            N_("The meeting request between you and {name} for {when} expired without an "
               "answer. The time is free again.")
        ),
        ms.T_WITHDRAWN: simple(
            N_("The meeting request with {name} for {when} was withdrawn: that time was just "
               "booked for another meeting.")
        ),
        ms.T_CANCELLED: simple(
            N_("{name} cancelled your meeting on {when}. The time is free again.")
        ),
        ms.T_REMINDER: simple(
            N_("⏰ Reminder: your meeting with {name} starts soon, {when}, at {table}.")
        ),
        ms.T_FOLLOW_UP: follow_up,
        ms.T_PROPOSAL: proposal,
        ms.T_PROPOSED: simple(
            N_("📅 The organizers propose a meeting with {name} on {when}, at {table}, as you "
               "wished. I asked {name} to confirm and will tell you the answer.")
        ),
        ms.T_LEFT: simple(
            N_("The delegate you were to meet on {when} has left the matchmaking. The meeting is "
               "cancelled and the time is free again.")
        ),
    }  # fmt: skip


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add the meetings handlers, renderers and timed work; call before registration.register,
    which also answers /start."""
    services: Services = app.bot_data["services"]
    service = meetings_of(services)
    for key, renderer in renderers(services).items():
        services.delivery.renderers.add(key, renderer)
    dispatcher = services.delivery.dispatcher
    dispatcher.add_hook("meetings.expire", service.expire_due)
    dispatcher.add_hook("meetings.remind", service.remind_due)
    dispatcher.add_hook("meetings.follow_up", service.follow_up_due)
    private = filters.ChatType.PRIVATE
    link = filters.Regex(rf"^/start(@\w+)?\s+{rules.BOOKING_PREFIX}")
    app.add_handler(CommandHandler("start", open_booking_link, filters=private & link))
    app.add_handler(CommandHandler("agenda", show_agenda, filters=private))
    app.add_handler(CommandHandler("badge", show_badge, filters=private))
    app.add_handler(CallbackQueryHandler(on_button, pattern=callbacks.pattern(NS)))
    app.add_handler(
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, on_note), group=NOTE_GROUP
    )
    app.add_handler(MessageHandler(private & filters.COMMAND, forget_draft), group=NOTE_GROUP)
