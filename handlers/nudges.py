"""Nudges and the outcome follow-up in the chat: the messages the outbox sends (rendered in each
recipient's language at send time) and their buttons.

- *Suggestions*: a delegate without meetings reads their three best matches; one tap asks one of
  them for a meeting at the earliest time free for both. Opt-out: the /profile toggle.
- *Tomorrow's agenda*: the evening before an event day, that day's meetings with an .ics file.
- *What came of it?*: months after a held meeting, six answers; pressing another one changes the
  answer. Every press re-checks that the presser is a party to the meeting and that the question
  was asked; stale or forged buttons are refused politely.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import CallbackQuery, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.domain.followup import RESULT_CODES, Result
from bot.domain.meetings import MeetingError, NotYourMeeting
from bot.domain.outbox import CAPTION_LIMIT, Attachment, Buttons, Rendered
from bot.formats import moments
from bot.i18n import N_, Html, Translator
from bot.services import Services
from bot.services import followup as fs
from bot.services import nudges as ns
from bot.services.stats import EventStats
from handlers import callbacks
from handlers.common import (
    Caller,
    edit_message,
    keyboard,
    refuse_button,
    registered_press,
    send,
)
from handlers.context import BotContext
from handlers.meetings.agenda import agenda_file
from handlers.meetings.common import error_text, table_text, when_text, who_text
from handlers.meetings.messages import match_reasons
from handlers.registration import summary

NS = "n"

# The six answers, in the order the buttons show them.
RESULT_LABELS: Mapping[Result, str] = {
    Result.CONTINUING: N_("🤝 Talks are continuing"),
    Result.LICENCE: N_("📜 Agreement signed: licence"),
    Result.JOINT_RD: N_("🔬 Agreement signed: joint R&D"),
    Result.INVESTMENT: N_("💰 Agreement signed: investment"),
    Result.SUPPLY: N_("📦 Agreement signed: supply"),
    Result.NOTHING: N_("➖ Nothing came of it"),
}
_CODE_OF = {result: code for code, result in RESULT_CODES.items()}


def _day_text(day: dt.date, services: Services, tr: Translator) -> str:
    zone = services.settings.schedule.zone
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=zone)
    return moments.day_text(noon, zone, tr)


def result_buttons(
    tr: Translator, meeting_id: int, after_days: int, chosen: Result | None
) -> Buttons:
    """One answer per row, the chosen one ticked; every button stays, to change the answer."""
    rows = []
    for result, label in RESULT_LABELS.items():
        text = tr.label(label)
        if result is chosen:
            text = "✅ " + text
        data = callbacks.make(NS, "res", f"{meeting_id}_{after_days}_{_CODE_OF[result]}")
        rows.append(((text, data),))
    return tuple(rows)


def renderers(services: Services) -> dict[str, Any]:
    """The renderer of each template of this feature, closing over the services."""
    meetings = services.meetings

    async def suggestions(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        me = await meetings.party(int(params["as"]))
        lines = [
            tr._(
                "👋 <b>You have no meeting booked yet.</b> These delegates match you best. One "
                "tap asks them for a meeting at the earliest time free for both of you."
            )
        ]
        rows = []
        for other_id in params["ids"]:
            other = await meetings.party(int(other_id))
            if other is None or not other.registered:
                continue
            why = await match_reasons(services, me, other, tr)
            name = who_text(other, tr)
            if why:
                lines.append(tr._("• {name}: {reason}", name=name, reason=Html(why)))
            else:
                lines.append(tr._("• {name}", name=name))
            label = tr.label("🤝 Meet {name}", name=other.name or name)
            rows.append(((label, callbacks.make(NS, "req", other.id)),))
        lines.append(tr._("To stop these suggestions, open /profile."))
        if not rows:
            return Rendered(tr._("Your matches have changed. See /matches."))
        return Rendered("\n".join(lines), tuple(rows))

    async def agenda(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        me_id, day = int(params["as"]), dt.date.fromisoformat(str(params["day"]))
        booked = await services.nudges.day_meetings(me_id, day)
        day_name = _day_text(day, services, tr)
        if not booked:
            return Rendered(tr._("You have no meetings on {day} any more.", day=day_name))
        parties = {pid: await meetings.party(pid) for m in booked for pid in m.participants}
        head = tr._("🗓 <b>Your meetings tomorrow, {day}</b>", day=day_name)
        lines: list[str] = []
        for meeting in booked:
            line = tr._(
                "{when}: {name}, {table}",
                when=moments.hours_text(
                    meeting.slot_start, meeting.slot_end, services.settings.schedule.zone, tr
                ),
                name=who_text(parties.get(meeting.other(me_id)), tr),
                table=table_text(meeting.table, services, tr),
            )
            lines.append(line)
        tail = tr._("The file adds them to your calendar. Changes: /agenda")
        text = _fit([head], lines, [tail], tr)
        delegate = await services.delegates.get(me_id)
        if delegate is None:
            return Rendered(tr._("A meeting you were part of has changed. See /agenda."))
        who = Caller(0, delegate.chat_id or 0, delegate, tr)
        data = agenda_file(who, booked, parties, services)
        attachment = Attachment("document", data=data, filename=f"agenda-{day.isoformat()}.ics")
        return Rendered(text, attachment=attachment)

    async def ask(tr: Translator, params: Mapping[str, Any]) -> Rendered:
        meeting = await meetings.get(int(params["meeting"]))
        me_id, days = int(params["as"]), int(params["days"])
        if meeting is None:
            return Rendered(tr._("A meeting you were part of has changed. See /agenda."))
        other = await meetings.party(meeting.other(me_id))
        text = tr.ngettext(
            "📈 It has been {n} day since your meeting with {name} ({when}). What came of it? "
            "Your answer helps the organizers show what the event achieved.",
            "📈 It has been {n} days since your meeting with {name} ({when}). What came of it? "
            "Your answer helps the organizers show what the event achieved.",
            days,
            name=who_text(other, tr),
            when=when_text(tr, meeting.slot_start, meeting.slot_end, services),
        )
        return Rendered(text, result_buttons(tr, meeting.id, days, None))

    return {ns.T_NUDGE: suggestions, ns.T_AGENDA: agenda, fs.T_ASK: ask}


def _fit(head: list[str], lines: Sequence[str], tail: list[str], tr: Translator) -> str:
    """The caption within Telegram's limit: as many meeting lines as fit, then how many more."""
    shown = list(lines)
    while True:
        more = len(lines) - len(shown)
        extra = [tr.ngettext("… and {n} more in the file", "… and {n} more in the file", more)]
        text = "\n".join([*head, *shown, *(extra if more else []), *tail])
        if len(text) <= CAPTION_LIMIT - 50 or not shown:  # markup is not counted; keep margin
            return text
        shown.pop()


# -- buttons -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NudgePress:
    """A registered delegate's press on one of this feature's buttons."""

    query: CallbackQuery
    context: BotContext
    who: Caller
    me: int
    arg: str

    @property
    def tr(self) -> Translator:
        return self.who.tr

    @property
    def services(self) -> Services:
        return self.context.services


# An action returns False when its argument does not parse or no longer applies: refused.
NudgeAction = Callable[[NudgePress], Awaitable[bool]]


def _number(text: str) -> int | None:
    return int(text) if callbacks.is_id(text) else None


async def _request(press: NudgePress) -> bool:
    other = _number(press.arg)
    if other is None:
        return False
    service = press.services.meetings
    slots = await service.free_slots_for([press.me, other], limit=1)
    if not slots:
        text = press.tr.label("There is no time left that is free for both of you.")
        await press.query.answer(text, show_alert=True)
        return True
    meeting = await service.request(press.me, other, slots[0].start)
    await press.query.answer()
    # The tapped suggestion goes; the others stay to be tapped too.
    message = press.query.message
    markup = getattr(message, "reply_markup", None)
    if markup is not None:
        rows = [
            [(b.text, str(b.callback_data)) for b in row if b.callback_data != press.query.data]
            for row in markup.inline_keyboard
        ]
        await press.query.edit_message_reply_markup(reply_markup=keyboard([r for r in rows if r]))
    party = await service.party(other)
    sent = press.tr._(
        "✉️ Request sent to {name} for {when}. I will tell you when they answer.",
        name=who_text(party, press.tr),
        when=when_text(press.tr, meeting.slot_start, meeting.slot_end, press.services),
    )
    await send(press.context, press.who.chat_id, sent)
    return True


async def _toggle(press: NudgePress) -> bool:
    if press.arg not in {"0", "1"}:
        return False
    await press.services.nudges.set_wanted(press.me, press.arg == "1")
    saved = await press.services.delegates.get(press.me)
    if saved is None:
        return False
    await press.query.answer()
    text, rows = summary(saved, press.tr)
    await edit_message(press.query, text, rows)
    return True


async def _result(press: NudgePress) -> bool:
    parts = press.arg.split("_")
    if len(parts) != 3 or parts[2] not in RESULT_CODES:
        return False
    meeting_id, days = _number(parts[0]), _number(parts[1])
    if meeting_id is None or days is None:
        return False
    result = RESULT_CODES[parts[2]]
    try:
        await press.services.followup.answer(meeting_id, press.me, days, result)
    except NotYourMeeting:
        return False
    await press.query.answer(
        press.tr.label("Thank you! You can change your answer here at any time.")
    )
    rows = result_buttons(press.tr, meeting_id, days, result)
    await press.query.edit_message_reply_markup(reply_markup=keyboard([list(row) for row in rows]))
    return True


# Callback codes of the nudges namespace ("n") and their argument.
ACTIONS: Mapping[str, NudgeAction] = {
    "req": _request,  # delegate id of a suggested match: request the earliest common time
    "tog": _toggle,  # 1 or 0: suggestions on or off (the /profile toggle)
    "res": _result,  # meeting id _ days after _ l|j|i|s|c|n: what came of the meeting
}


async def on_button(update: Update, context: BotContext) -> None:
    """Handle this feature's buttons; the services refuse presses that are not the presser's."""
    press = await registered_press(update, context, NS, frozenset(ACTIONS))
    if press is None:
        return
    query, who = press.query, press.who
    try:
        handled = await ACTIONS[press.data.action](
            NudgePress(query, context, who, press.delegate.id, press.data.arg)
        )
    except MeetingError as error:
        await query.answer(error_text(error, who.tr, context.services), show_alert=True)
        return
    if not handled:
        await refuse_button(query, who.tr)


# -- /stats --------------------------------------------------------------------------------------


def follow_up_lines(stats: EventStats, tr: Translator) -> list[str]:
    """What came of the meetings, for /stats: asked, answered, and meetings per result."""
    if not stats.followups_asked and not stats.results:
        return []
    counts = dict(stats.results)

    def n(result: Result) -> int:
        return counts.get(str(result), 0)

    agreements = sum(n(r) for r in (Result.LICENCE, Result.JOINT_RD, Result.INVESTMENT,
                                     Result.SUPPLY))  # fmt: skip
    return [
        "",
        tr._("<b>What came of the meetings</b>"),
        tr._(
            "Asked about {asked} meetings; answered for {answered}",
            asked=stats.followups_asked,
            answered=stats.followups_answered,
        ),
        tr._(
            "Agreements signed: {n} (licence: {licence}; joint R&amp;D: {joint}; investment: "
            "{investment}; supply: {supply})",
            n=agreements,
            licence=n(Result.LICENCE),
            joint=n(Result.JOINT_RD),
            investment=n(Result.INVESTMENT),
            supply=n(Result.SUPPLY),
        ),
        tr._(
            "Talks continuing: {continuing}; nothing came of it: {nothing}",
            continuing=n(Result.CONTINUING),
            nothing=n(Result.NOTHING),
        ),
    ]


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add the renderers and the button handler."""
    services: Services = app.bot_data["services"]
    for key, renderer in renderers(services).items():
        services.delivery.renderers.add(key, renderer)
    app.add_handler(CallbackQueryHandler(on_button, pattern=callbacks.pattern(NS)))
