"""Nudges, the evening agenda and the outcome follow-up, as delegates and organizers live them,
over the fake Bot API with the test clock, across restarts."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import html
import io
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar

from bot.app import BotApplication
from bot.config import Settings
from bot.domain.clock import ManualClock
from bot.domain.meetings import MeetingState
from bot.domain.nudges import NudgePolicy
from bot.domain.scheduling import parse_schedule
from bot.i18n import I18n
from bot.sandbox.fake_api import BotMessage, FakeBotApi, FakeUser
from tests.flows.conftest import flow_settings, start_bot, stop_bot
from tests.flows.items_kit import seed, seen, services_of, t
from tests.flows.test_meetings import FIRST_SLOT, SCHEDULE, registered

SHANGHAI = ZoneInfo("Asia/Shanghai")
NUDGE = (
    "👋 <b>You have no meeting booked yet.</b> These delegates match you best. One tap asks "
    "them for a meeting at the earliest time free for both of you."
)
AGENDA = "🗓 <b>Your meetings tomorrow, {day}</b>"
ASK_ONE = (
    "📈 It has been {n} day since your meeting with {name} ({when}). What came of it? "
    "Your answer helps the organizers show what the event achieved."
)
ASK_MANY = (
    "📈 It has been {n} days since your meeting with {name} ({when}). What came of it? "
    "Your answer helps the organizers show what the event achieved."
)
I18N = I18n()
FIELD = ("env.wastewater",)


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment of November 2026 in the event's zone."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def settings_for(api: FakeBotApi, path: Path) -> Settings:
    settings = flow_settings(api, path, nudges=NudgePolicy())  # 11:00, the day before, 19:00
    return dataclasses.replace(settings, schedule=parse_schedule(SCHEDULE, zone=settings.timezone))


async def tick(app: BotApplication, clock: ManualClock, moment: dt.datetime) -> None:
    """Move the test clock and run the due-work job once, as its repeating job does."""
    clock.set(moment)
    await services_of(app).delivery.dispatcher.run_due(moment)


def nudges_to(api: FakeBotApi, user: FakeUser) -> list[str]:
    """Every suggestion message sent to a chat (sendMessage calls, across restarts)."""
    opening = t("en", NUDGE)[:30]
    return [
        str(c.params["text"])
        for c in api.calls
        if c.method == "sendMessage"
        and int(c.params["chat_id"]) == user.chat_id
        and opening in re.sub(r"</?b>", "", str(c.params["text"]))
    ]


def documents_to(api: FakeBotApi, user: FakeUser) -> int:
    return sum(
        1
        for c in api.calls
        if c.method == "sendDocument" and int(c.params["chat_id"]) == user.chat_id
    )


async def settled_nudge(api: FakeBotApi, user: FakeUser) -> BotMessage:
    message = await user.expect(seen("en", NUDGE))
    await api.settle()
    return message


async def test_a_delegate_without_meetings_is_nudged_once_a_day_taps_and_opts_out(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    settings = settings_for(api, tmp_path / "nudges.db")
    app = await start_bot(settings, clock)
    anna = api.user(601, "Anna", language_code="en")
    anna_id = await seed(app, anna, name="Anna", organization="Dye Works", country="CN",
                         locale="en", needs=("Dyeing wastewater",), fields=FIELD)  # fmt: skip
    labs = [api.user(611 + n, f"Lab{n}", language_code="en") for n in range(4)]
    lab_ids = [
        await seed(app, lab, name=f"Lab{n}", organization=f"Institute {n}", country="RU",
                   locale="en", offers=("Membrane filtration of wastewater",), fields=FIELD)
        for n, lab in enumerate(labs)
    ]  # fmt: skip
    try:
        # The day before the event, 10:59: not yet. 11:00: the three best, one button each.
        await tick(app, clock, local(23, 10, 59))
        await api.settle()
        assert nudges_to(api, anna) == []
        await tick(app, clock, local(23, 11))
        nudge = await settled_nudge(api, anna)
        assert len(nudge.button_texts()) == 3
        assert all(label.startswith("🤝 ") for label in nudge.button_texts())
        assert "/profile" in nudge.text
        # Later ticks the same day owe nothing more.
        await tick(app, clock, local(23, 11, 1))
        await tick(app, clock, local(23, 15))
        await api.settle()
        assert len(nudges_to(api, anna)) == 1
    finally:
        await stop_bot(app)

    # A restart in between: the day's suggestion is on record and is not sent again.
    app = await start_bot(settings, clock)
    try:
        await tick(app, clock, local(23, 16))
        await api.settle()
        assert len(nudges_to(api, anna)) == 1

        # One tap asks the first of them for the earliest time free for both.
        chosen = nudge.button_texts()[0].removeprefix("🤝 Meet ")
        await anna.press(0, nudge)
        sent = await anna.expect("Request sent")
        assert chosen in sent.text and "Tue, Nov 24" in sent.text
        invitee = labs[int(chosen.removeprefix("Lab"))]
        invitee_id = lab_ids[int(chosen.removeprefix("Lab"))]
        request = await invitee.expect("would like to meet you")
        assert "Anna" in request.text
        pending = await services_of(app).meetings.agenda(anna_id)
        assert [(m.state, m.slot_start) for m in pending] == [(MeetingState.REQUESTED, FIRST_SLOT)]
        # The tapped suggestion is gone from the message; the other two stay.
        await api.settle()
        (now,) = [m for m in anna.messages if m.message_id == nudge.message_id]
        assert now.button_texts() == nudge.button_texts()[1:]
        # The same tap again (a stale copy) and a forged one for a stranger are refused politely.
        tapped = nudge.buttons[0][0][1]
        assert tapped is not None
        await anna.press_data(tapped, now)
        await anna.press_data(tapped.replace(f":{invitee_id}", ":999999"), now)
        await api.settle()
        assert [a.get("show_alert") for a in anna.callback_answers[-2:]] == [True, True]
        assert anna.callback_answers[-2]["text"] == t(
            "en", "You have already asked for this meeting; please wait for the answer."
        )
        assert len(await services_of(app).meetings.agenda(anna_id)) == 1

        # Opt-out in /profile, persisted.
        await anna.send_text("/profile")
        profile = await anna.expect("Your profile")
        assert "Suggest meetings while I have none: yes" in profile.text
        await anna.press("💤 Stop meeting suggestions", profile)
        await api.settle()
        stored = await services_of(app).delegates.get(anna_id)
        assert stored is not None and stored.nudges is False
        assert any(
            m.message_id == profile.message_id and "💡 Suggest meetings" in m.button_texts()
            for m in anna.messages
        )
    finally:
        await stop_bot(app)

    # The first event day: the labs without meetings are nudged again (once a day), Anna not.
    app = await start_bot(settings, clock)
    try:
        await tick(app, clock, local(24, 11))
        await api.settle()
        assert len(nudges_to(api, anna)) == 1
        others = [lab for lab in labs if lab is not invitee]
        assert all(len(nudges_to(api, lab)) == 2 for lab in others)
    finally:
        await stop_bot(app)


async def test_the_evening_agenda_comes_once_with_its_ics_across_a_restart(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    settings = settings_for(api, tmp_path / "agenda.db")
    app = await start_bot(settings, clock)
    anna = api.user(701, "Anna", language_code="en")
    ivan = api.user(702, "Иван", language_code="ru")
    loner = api.user(703, "Solo", language_code="en")
    a = await registered(app, anna, "en", "Anna", "en ru", "anna@example.com")
    b = await registered(app, ivan, "ru", "Иван", "ru", "ivan@example.com")
    await registered(app, loner, "en", "Solo", "en", "solo@example.com")
    service = services_of(app).meetings
    second_day = FIRST_SLOT + dt.timedelta(days=1)  # Wed 25th, 09:30 in Shanghai
    meeting = await service.request(a, b, second_day)
    await service.accept(meeting.id, b)
    await anna.expect("Meeting confirmed")
    try:
        await tick(app, clock, local(24, 18, 59))
        await api.settle()
        assert documents_to(api, anna) == 0
        await tick(app, clock, local(24, 19))
        agenda = await anna.expect(seen("en", AGENDA, day="Wed, Nov 25"))
        assert agenda.kind == "document" and agenda.document is not None
        assert agenda.document[0] == "agenda-2026-11-25.ics"
        assert "09:30" in agenda.text and "Иван" in agenda.text and "A1" in agenda.text
        calendar = icalendar.Calendar.from_ical(agenda.document[1])
        (event,) = calendar.walk("VEVENT")
        assert event.decoded("DTSTART") == local(25, 9, 30)
        assert event.decoded("DTEND") - event.decoded("DTSTART") == dt.timedelta(minutes=20)
        # Ivan's in Russian.
        russian = await ivan.expect(seen("ru", AGENDA, day="ср, 25 нояб."))
        assert russian.kind == "document"
        await tick(app, clock, local(24, 19, 30))
        await api.settle()
    finally:
        await stop_bot(app)
    app = await start_bot(settings, clock)
    try:
        await tick(app, clock, local(24, 21))
        await api.settle()
        assert documents_to(api, anna) == 1 and documents_to(api, ivan) == 1
        assert documents_to(api, loner) == 0  # nobody without meetings
    finally:
        await stop_bot(app)


def ask_prefix(locale: str, days: int) -> str:
    """The follow-up question as the delegate reads it, up to the counterpart's name."""
    text = I18N.translator(locale).ngettext(ASK_ONE, ASK_MANY, days, name="NAMEHERE", when="W")
    return re.escape(text.split("NAMEHERE")[0].rstrip("\u2068"))


def plain(text: str) -> str:
    return html.unescape(text).replace("\u2068", "").replace("\u2069", "")


async def test_ninety_days_later_both_sides_are_asked_and_the_answers_count(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    settings = settings_for(api, tmp_path / "followup.db")
    app = await start_bot(settings, clock)
    amal = api.user(801, "أمل", language_code="ar")
    ivan = api.user(802, "Иван", language_code="ru")
    mallory = api.user(803, "Mallory", language_code="en")
    a = await registered(app, amal, "ar", "أمل", "ar ru", "amal@example.com")
    b = await registered(app, ivan, "ru", "Иван", "ru", "ivan@example.com")
    await registered(app, mallory, "en", "Mallory", "en", "m@example.com")
    service = services_of(app).meetings
    meeting = await service.request(a, b, FIRST_SLOT)
    await service.accept(meeting.id, b)
    await amal.expect(t("ar", "✅ <b>Meeting confirmed</b>"))
    await api.settle()
    end = FIRST_SLOT + dt.timedelta(minutes=20)
    try:
        await tick(app, clock, end + dt.timedelta(days=90) - dt.timedelta(minutes=1))
        await api.settle()
        await tick(app, clock, end + dt.timedelta(days=90))
        for_amal = await amal.expect(ask_prefix("ar", 90))
        for_ivan = await ivan.expect(ask_prefix("ru", 90))
        assert "Иван" in for_amal.text and "أمل" in for_ivan.text
        assert len(for_amal.button_texts()) == 6
        assert for_amal.button_texts()[1] == t("ar", "📜 Agreement signed: licence")
        assert for_ivan.button_texts()[0] == t("ru", "🤝 Talks are continuing")

        # A forged press by someone else, and the 180-day question before it is due: refused.
        data = for_amal.buttons[1][0][1]
        assert data is not None
        await mallory.press_data(data, for_amal)
        await mallory.press_data(data.replace("_90_", "_180_"), for_amal)
        await api.settle()
        refused = t("en", "This button is no longer active. Please use the latest message.")
        assert [a.get("text") for a in mallory.callback_answers[-2:]] == [refused, refused]

        # Amal answers licence, then changes it to joint R&D; Ivan says talks continue.
        await amal.press(1, for_amal)
        await api.settle()
        await amal.press(t("ar", "🔬 Agreement signed: joint R&D"), amal.messages[-1])
        await ivan.press(0, for_ivan)
        await api.settle()
        ticked = next(m for m in amal.messages if m.message_id == for_amal.message_id)
        assert ticked.button_texts()[2].startswith("✅ ")
        assert ticked.button_texts()[1] == t("ar", "📜 Agreement signed: licence")

        # Again later, after a restart: nothing is asked twice.
        await tick(app, clock, end + dt.timedelta(days=91))
    finally:
        await stop_bot(app)
    app = await start_bot(settings, clock)
    try:
        await tick(app, clock, end + dt.timedelta(days=92))
        await api.settle()
        asked = [
            c for c in api.calls
            if c.method == "sendMessage" and "📈" in str(c.params["text"])
        ]  # fmt: skip
        assert len(asked) == 2

        # /stats: the meeting counted once, with the furthest answer (an agreement).
        organizer = api.user(900, "Olga", language_code="en")
        await organizer.send_text("/stats")
        stats = plain((await organizer.expect("What came of the meetings")).text)
        assert plain(t("en", "Asked about {asked} meetings; answered for {answered}",
                       asked=1, answered=1)) in stats  # fmt: skip
        assert (
            plain(
                t(
                    "en",
                    "Agreements signed: {n} (licence: {licence}; joint R&amp;D: {joint}; "
                    "investment: {investment}; supply: {supply})",
                    n=1, licence=0, joint=1, investment=0, supply=0,
                )
            )
            in stats
        )  # fmt: skip

        # The exports: the meetings table's result columns and the answers' own table.
        await organizer.send_text("/export")
        menu = await organizer.expect("CSV or Excel")
        await organizer.press("Meetings · CSV", menu)
        document = await organizer.expect("1 row")
        assert document.document is not None
        (row,) = csv.DictReader(io.StringIO(document.document[1].decode("utf-8-sig")))
        assert (row["requester_result"], row["invitee_result"], row["result"]) == (
            "joint_rd", "continuing", "joint_rd",
        )  # fmt: skip
        await organizer.press("What came of meetings · CSV", menu)
        document = await organizer.expect("2 rows")
        assert document.document is not None
        rows = list(csv.DictReader(io.StringIO(document.document[1].decode("utf-8-sig"))))
        assert {(r["name"], r["counterpart"], r["after_days"], r["result"]) for r in rows} == {
            ("أمل", "Иван", "90", "joint_rd"),
            ("Иван", "أمل", "90", "continuing"),
        }
        assert rows[0]["meeting_start (Asia/Shanghai)"] == "2026-11-24 09:30"
    finally:
        await stop_bot(app)
