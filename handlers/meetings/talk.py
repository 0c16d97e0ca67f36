"""Talk before the meeting, and a colleague or an interpreter at the table, in the chat.

*💬 Message* on a request or meeting card asks for a text; the next text message the writer
sends is relayed through the outbox, with who wrote it and in which language, and a *Reply*
button. *👥 Bring someone* lists the party's colleagues and the interpreters free at that time.
The service re-checks every press (the presser is a party, the request is still open, the seat
is free), so forged and stale buttons change nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Protocol

from telegram import CallbackQuery, Update
from telegram.ext import ApplicationHandlerStop

from bot.domain import guests as seating
from bot.domain import talk as rules
from bot.domain.guests import GuestError, GuestKind
from bot.domain.meetings import MeetingError, MeetingState
from bot.domain.outbox import Rendered
from bot.i18n import N_, Translator, joined, language_name
from bot.services import Services
from bot.services import talk as ts
from bot.services.meetings import Party
from bot.services.talk import TalkService
from handlers import callbacks
from handlers.common import Buttons, Caller, caller, close_buttons, send
from handlers.context import BotContext
from handlers.meetings.common import (
    NS,
    meetings_of,
    parse_pair,
    table_text,
    when_text,
    who_text,
)


class MeetingPress(Protocol):
    """What a meetings button press carries (handlers.meetings.MeetingPress)."""

    @property
    def query(self) -> CallbackQuery: ...
    @property
    def context(self) -> BotContext: ...
    @property
    def who(self) -> Caller: ...
    @property
    def me(self) -> int: ...
    @property
    def arg(self) -> str: ...
    @property
    def tr(self) -> Translator: ...


# user_data: the thread a typed message goes to, and when the writer pressed Message.
TALK = "meeting_talk"
TALK_MINUTES = 15
# Before the note of a lead (-3), of a request (-2) and the offers questions (-1); each acts
# only while its own question is open.
TALK_GROUP = -4


def talk_of(services: Services) -> TalkService:
    """The talk service the factory built."""
    return services.talk


def message_button(tr: Translator, meeting_id: int) -> tuple[str, str]:
    """*💬 Message* on a request or meeting card."""
    return (tr.label("💬 Message"), callbacks.make(NS, "say", meeting_id))


def guest_button(tr: Translator, meeting_id: int) -> tuple[str, str]:
    """*👥 Bring someone* on a booked meeting's card."""
    return (tr.label("👥 Bring a colleague or interpreter"), callbacks.make(NS, "gst", meeting_id))


def ended_text(error: rules.TalkEnded, tr: Translator) -> str:
    """Why the writer cannot write any more, in their language."""
    texts = {
        "declined": N_("The request was declined, so this conversation has ended. /matches may "
                       "show you other people to meet."),
        "expired": N_("The request expired without an answer, so this conversation has ended."),
        "cancelled": N_("The meeting was cancelled, so this conversation has ended."),
        "withdrawn": N_("The request was withdrawn because that time was booked for another "
                        "meeting, so this conversation has ended."),
        "replaced": N_("This request was replaced by a newer one; please write from the latest "
                       "message."),
        rules.PAST: N_("The meeting is over, so this conversation has ended."),
        rules.UNREACHABLE: N_("The other delegate can no longer be reached through the bot, so "
                              "this conversation has ended."),
    }  # fmt: skip
    return tr._(texts.get(error.why, texts["cancelled"]))


def guest_error_text(error: GuestError, tr: Translator, seats: int) -> str:
    """Why a guest cannot be added, in the presser's language."""
    if error.why == seating.ALREADY_BROUGHT:
        return tr.label(
            "You already bring someone to this meeting. Remove them first to bring someone else."
        )
    if error.why == seating.TABLE_FULL:
        return tr.label("The table has no free chair left ({seats} seats).", seats=seats)
    if error.why == seating.GUEST_BUSY:
        return tr.label("This person is not free at that time any more.")
    if error.why == seating.NOT_BOOKED:
        return tr.label(
            "Only a booked meeting that has not begun can take a colleague or an interpreter."
        )
    return tr.label("Only a colleague of your organization or an interpreter can join.")


# -- writing -----------------------------------------------------------------------------------


async def _ask_message(press: MeetingPress) -> bool:
    """*💬 Message* or *Reply*: the next text the presser sends goes to the other side."""
    if not callbacks.is_id(press.arg):
        return False
    tr = press.tr
    try:
        thread = await talk_of(press.context.services).thread(int(press.arg), press.me)
    except rules.TalkEnded as ended:
        await press.query.answer(ended_text(ended, tr), show_alert=True)
        return True
    await press.query.answer()
    if press.context.user_data is not None:
        press.context.user_data.pop("meeting_draft", None)  # a request's note is not this
        press.context.user_data[TALK] = {
            "meeting": thread.meeting.id,
            "made": press.context.services.clock.now().isoformat(),
        }
    if thread.meeting.state is MeetingState.ACCEPTED:
        prompt = N_("✏️ Write your message to {name}, up to {limit} characters. I will pass it on.")
    else:
        prompt = N_(
            "✏️ Write your message to {name}, up to {limit} characters. I will pass it on; your "
            "contact details are shared only once a meeting is accepted."
        )
    text = tr._(prompt, name=who_text(thread.other, tr), limit=rules.MESSAGE_MAX)
    await send(press.context, press.who.chat_id, text)
    return True


def _pending(context: BotContext) -> int | None:
    """The meeting a typed message goes to, if the writer pressed Message lately."""
    data = context.user_data
    draft = data.get(TALK) if data is not None else None
    if not draft:
        return None
    made = dt.datetime.fromisoformat(draft["made"])
    if context.services.clock.now() - made > dt.timedelta(minutes=TALK_MINUTES):
        data.pop(TALK, None)  # type: ignore[union-attr]
        return None
    return int(draft["meeting"])


async def on_text(update: Update, context: BotContext) -> None:
    """A text after *💬 Message*: relay it, or say why not (too long, the thread has ended)."""
    meeting_id = _pending(context)
    message = update.effective_message
    text = message.text if message is not None else None
    if meeting_id is None or text is None or not text.strip():
        return
    who = await caller(update, context)
    if who is None or who.delegate is None:
        return
    tr, service = who.tr, talk_of(context.services)
    try:
        sent = await service.say(meeting_id, who.delegate.id, text)
    except rules.TooLong as error:
        refusal = tr._(
            "Your message is {length} characters long; the limit is {limit}. Please shorten it "
            "and send it again.",
            length=error.length,
            limit=rules.MESSAGE_MAX,
        )
        await send(context, who.chat_id, refusal)
        raise ApplicationHandlerStop from None
    except rules.TalkEnded as ended:
        context.user_data.pop(TALK, None)  # type: ignore[union-attr]
        await send(context, who.chat_id, ended_text(ended, tr))
        raise ApplicationHandlerStop from None
    except MeetingError:
        context.user_data.pop(TALK, None)  # type: ignore[union-attr]
        return
    context.user_data.pop(TALK, None)  # type: ignore[union-attr]
    other = await meetings_of(context.services).party(sent.recipient_id)
    done = tr._("✉️ Sent to {name}. Their answer will come here.", name=who_text(other, tr))
    await send(context, who.chat_id, done, [[message_button(tr, sent.meeting_id)]])
    raise ApplicationHandlerStop


async def on_other(update: Update, context: BotContext) -> None:
    """A sticker, a photo or a file after *💬 Message*: only text is passed on."""
    meeting_id = _pending(context)
    if meeting_id is None or update.effective_message is None:
        return
    if update.effective_message.text is not None:
        return
    who = await caller(update, context)
    if who is None:
        return
    text = who.tr._(
        "I can pass on text messages only, not stickers, photos or files. Please type your "
        "message, up to {limit} characters.",
        limit=rules.MESSAGE_MAX,
    )
    await send(context, who.chat_id, text)
    raise ApplicationHandlerStop


async def forget(update: Update, context: BotContext) -> None:
    """Any command abandons the message being written."""
    if context.user_data is not None:
        context.user_data.pop(TALK, None)


# -- guests ------------------------------------------------------------------------------------


def _names(parties: list[Party | None], tr: Translator) -> str:
    return joined((who_text(p, tr) for p in parties), tr)


async def _guest_menu(press: MeetingPress) -> bool:
    """*👥 Bring someone*: the colleagues and interpreters free then, or the one brought."""
    if not callbacks.is_id(press.arg):
        return False
    services, tr = press.context.services, press.tr
    service = talk_of(services)
    seats = service.seats_per_table
    try:
        meeting, found = await service.choices(int(press.arg), press.me)
    except GuestError as error:
        await press.query.answer(guest_error_text(error, tr, seats), show_alert=True)
        return True
    await press.query.answer()
    party = await meetings_of(services).may_act_for(press.me, meeting)
    seated = await service.guests([meeting.id])
    mine = [g for g in seated if g.added_by == party]
    lines = [
        tr._(
            "<b>Who joins you at {when}?</b> You may bring one colleague of your organization "
            "or an interpreter.",
            when=when_text(tr, meeting.slot_start, meeting.slot_end, services),
        ),
        tr._(
            "Free chairs at {table}: {free} of {seats}.",
            table=table_text(meeting.table, services, tr),
            free=seating.seats_left(seats, len(seated)),
            seats=seats,
        ),
    ]
    rows: Buttons = []
    if mine:
        guest = await meetings_of(services).party(mine[0].guest_id)
        lines.append(tr._("You bring {name}.", name=who_text(guest, tr)))
        label = tr.label("✖️ Remove {name}", name=guest.name if guest and guest.name else "?")
        rows.append([(label, callbacks.make(NS, "grm", f"{meeting.id}_{mine[0].guest_id}"))])
    elif seating.seats_left(seats, len(seated)) < 1:
        lines.append(guest_error_text(GuestError(seating.TABLE_FULL), tr, seats))
    elif not found:
        lines.append(
            tr._(
                "Nobody can join at that time: no colleague of your organization and no "
                "interpreter is free then."
            )
        )
    else:
        for candidate in found:
            if candidate.role == GuestKind.INTERPRETER.value:
                languages = joined(
                    (language_name(code, tr) for code in candidate.meeting_languages), tr
                )
                label = tr.label(
                    "🗣 {name}, interpreter: {languages}", name=candidate.name, languages=languages
                )
            else:
                label = tr.label("👤 {name}", name=candidate.name)
            data = callbacks.make(NS, "gad", f"{meeting.id}_{candidate.id}")
            rows.append([(label[:60], data)])
    await send(press.context, press.who.chat_id, "\n".join(lines), rows)
    return True


async def _change_guest(press: MeetingPress, *, adding: bool) -> bool:
    """Bring or no longer bring the guest the button names, and say so; False if malformed."""
    pair = parse_pair(press.arg)
    if pair is None:
        return False
    services, tr = press.context.services, press.tr
    service = talk_of(services)
    change = service.add_guest if adding else service.remove_guest
    try:
        await change(pair[0], press.me, pair[1])
    except GuestError as error:
        await press.query.answer(
            guest_error_text(error, tr, service.seats_per_table), show_alert=True
        )
        return True
    guest = await meetings_of(services).party(pair[1])
    if adding:
        name = guest.name if guest and guest.name else "?"
        await press.query.answer(tr.label("Added: {name}", name=name))
        text = tr._(
            "{name} will join you at the meeting and has been sent the time and the table.",
            name=who_text(guest, tr),
        )
    else:
        await press.query.answer()
        text = tr._(
            "{name} no longer joins the meeting and has been told.", name=who_text(guest, tr)
        )
    await close_buttons(press.query)
    await send(press.context, press.who.chat_id, text)
    return True


async def _add_guest(press: MeetingPress) -> bool:
    return await _change_guest(press, adding=True)


async def _remove_guest(press: MeetingPress) -> bool:
    return await _change_guest(press, adding=False)


# Callback codes this module adds to the meetings namespace ("m") and their argument.
ACTIONS = {
    "say": _ask_message,  # meeting id: the next text goes to the other side
    "gst": _guest_menu,  # meeting id: whom the presser's side may bring
    "gad": _add_guest,  # meeting id _ delegate id: bring them
    "grm": _remove_guest,  # meeting id _ delegate id: no longer bring them
}


# -- what the outbox sends ---------------------------------------------------------------------


def renderers(services: Services) -> dict[str, Any]:
    """The renderer of each talk and guest template, closing over the services."""
    service, meetings = talk_of(services), meetings_of(services)

    def gone(tr: Translator) -> Rendered:
        return Rendered(tr._("A meeting you were part of has changed. See /agenda."))

    async def message(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        stored = await service.message(int(params["message"]))
        meeting = await meetings.get(stored.meeting_id) if stored else None
        if stored is None or meeting is None:
            return gone(tr)
        author = who_text(await meetings.party(stored.author_id), tr)
        language = language_name(stored.language, tr) if stored.language else None
        if language and stored.basis is rules.Basis.PROFILE:
            head = tr._("💬 <b>{name}</b> writes, in {language}:", name=author, language=language)
        elif language:
            head = tr._(
                "💬 <b>{name}</b> writes, probably in {language} (guessed from the script):",
                name=author,
                language=language,
            )
        else:
            head = tr._("💬 <b>{name}</b> writes:", name=author)
        when = when_text(tr, meeting.slot_start, meeting.slot_end, services)
        about = (
            tr._("About your meeting on {when}.", when=when)
            if meeting.state is MeetingState.ACCEPTED
            else tr._("About the meeting request for {when}.", when=when)
        )
        text = "\n".join([head, tr.user_text(stored.body), "", about])
        reply = (tr.label("↩️ Reply"), callbacks.make(NS, "say", meeting.id))
        return Rendered(text, ((reply,),))

    async def undelivered(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        stored = await service.message(int(params["message"]))
        other = await meetings.party(stored.recipient_id) if stored else None
        return Rendered(
            tr._(
                "Your message to {name} could not be delivered: they can no longer be reached "
                "through the bot. This conversation has ended.",
                name=who_text(other, tr),
            )
        )

    async def load(params: Mapping[str, Any]) -> tuple[Any, list[Party | None], Party | None]:
        meeting = await meetings.get(int(params["meeting"]))
        if meeting is None:
            return None, [], None
        parties = [await meetings.party(p) for p in meeting.participants]
        seated = {g.guest_id: g for g in await service.guests([meeting.id])}
        me = int(params["as"])
        host_id = seated[me].added_by if me in seated else None
        host = await meetings.party(host_id) if host_id is not None else None
        return meeting, parties, host

    async def joined_meeting(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        meeting, parties, host = await load(params)
        if meeting is None or host is None:
            return gone(tr)
        seated = {g.guest_id: g for g in await service.guests([meeting.id])}
        kind = seated[int(params["as"])].kind
        head = (
            tr._("✅ <b>You join a meeting</b> as an interpreter for {name}.", name=host.name)
            if kind is GuestKind.INTERPRETER
            else tr._("✅ <b>You join a meeting</b> as a colleague of {name}.", name=host.name)
        )
        lines = [
            head,
            tr._(
                "When: {when}", when=when_text(tr, meeting.slot_start, meeting.slot_end, services)
            ),
            tr._("Where: {table}", table=table_text(meeting.table, services, tr)),
            tr._("At the table: {names}", names=_names(parties, tr)),
            tr._("Your meetings: /agenda"),
        ]
        return Rendered("\n".join(lines))

    async def added(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        meeting = await meetings.get(int(params["meeting"]))
        if meeting is None:
            return gone(tr)
        seated = {g.guest_id: g for g in await service.guests([meeting.id])}
        guest_id = int(params["guest"])
        if guest_id not in seated:
            return gone(tr)
        brought = seated[guest_id]
        host, guest = await meetings.party(brought.added_by), await meetings.party(guest_id)
        when = when_text(tr, meeting.slot_start, meeting.slot_end, services)
        if brought.kind is GuestKind.INTERPRETER:
            text = tr._(
                "👥 {name} brings an interpreter, {guest}, to your meeting on {when}.",
                name=who_text(host, tr), guest=who_text(guest, tr), when=when,
            )  # fmt: skip
        else:
            text = tr._(
                "👥 {name} brings a colleague, {guest}, to your meeting on {when}.",
                name=who_text(host, tr), guest=who_text(guest, tr), when=when,
            )  # fmt: skip
        return Rendered(text)

    async def reminder(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        meeting, parties, _ = await load(params)
        if meeting is None:
            return gone(tr)
        return Rendered(
            tr._(
                "⏰ Reminder: the meeting you join starts soon, {when}, at {table}. At the table: "
                "{names}.",
                when=when_text(tr, meeting.slot_start, meeting.slot_end, services),
                table=table_text(meeting.table, services, tr),
                names=_names(parties, tr),
            )
        )

    def off(message_id: str) -> Any:
        async def render(tr: Translator, params: Mapping[str, Any]) -> Rendered:
            meeting = await meetings.get(int(params["meeting"]))
            if meeting is None:
                return gone(tr)
            parties = [await meetings.party(p) for p in meeting.participants]
            return Rendered(
                tr._(
                    message_id,
                    when=when_text(tr, meeting.slot_start, meeting.slot_end, services),
                    names=_names(parties, tr),
                )
            )

        return render

    return {
        ts.T_MESSAGE: message,
        ts.T_UNDELIVERED: undelivered,
        ts.T_GUEST_JOINED: joined_meeting,
        ts.T_GUEST_ADDED: added,
        ts.T_GUEST_REMINDER: reminder,
        ts.T_GUEST_REMOVED: off(
            N_("You are no longer expected at the meeting of {names} on {when}. The time is free "
               "again.")
        ),
        ts.T_GUEST_CANCELLED: off(
            N_("The meeting of {names} on {when} that you were to join does not take place at "
               "that time any more. Your time is free again.")
        ),
    }  # fmt: skip


def guest_line(guests: list[Party | None], tr: Translator) -> str:
    """The guests of a meeting on an agenda line: "👥 Name (Org), Name (Org)"."""
    return "👥 " + tr.user_text(_names(guests, tr))
