"""Meetings as delegates experience them, over the fake Bot API, in English and Russian."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from bot.app import BotApplication
from bot.domain.clock import ManualClock
from bot.domain.meetings import Outcome
from bot.domain.scheduling import parse_schedule
from bot.formats.moments import span_text, time_text, zone_text
from bot.i18n import I18n
from bot.sandbox.fake_api import FakeBotApi, FakeUser
from bot.services import Services
from tests.flows.conftest import flow_settings, start_bot, stop_bot
from tests.flows.items_kit import name, seen, t
from tests.flows.test_matches import NEW_MATCH, OLGA, russian_and_chinese
from tests.flows.test_registration import QUESTIONS

MINUTE = dt.timedelta(minutes=1)
# The clock stands at 09:00 in Shanghai; the first slot is 09:30-09:50 local.
FIRST_SLOT = dt.datetime(2026, 11, 24, 1, 30, tzinfo=dt.UTC)
SCHEDULE = {
    "days": ["2026-11-24", "2026-11-25"],
    "sessions": ["09:30-12:00", "14:00-17:30"],
    "breaks": ["10:30-10:50"],
    "tables": "A1..A2",
    "room": "Hall 3",
}


@pytest.fixture
async def bot(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotApplication]:
    settings = flow_settings(api, tmp_path / "meetings.db")
    schedule = parse_schedule(SCHEDULE, zone=settings.timezone)
    app = await start_bot(dataclasses.replace(settings, schedule=schedule), clock)
    yield app
    await stop_bot(app)


def services_of(app: BotApplication) -> Services:
    services: Services = app.bot_data["services"]
    return services


async def registered(
    app: BotApplication,
    user: FakeUser,
    locale: str,
    name: str,
    languages: str,
    contact: str,
    country: str = "CN",
) -> int:
    """A delegate who finished registration (the registration flow has its own tests)."""
    now = "2026-11-01T00:00:00.000000+00:00"
    return await services_of(app).db.insert(
        "INSERT INTO delegates (telegram_user_id, chat_id, locale, name, organization, country, "
        "role, meeting_languages, contact, contact_kind, consent, step, created_at, updated_at, "
        "registered_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 'company', ?, ?, 'email', 1, 'done', ?, ?, ?)",
        (user.user_id, user.chat_id, locale, name, f"{name} Lab", country, languages, contact,
         now, now, now),
    )  # fmt: skip


def ru_before_name(msgid: str) -> str:
    """The Russian sentence up to where the counterpart's name goes, as a pattern."""
    return seen("ru", msgid, name="NAMEHERE", when="").split("NAMEHERE")[0]


def token_in(text: str) -> str:
    match = re.search(r"start=(b_[A-Za-z0-9_\-]{22})", text)
    assert match, text
    return match.group(1)


async def run_due(app: BotApplication, clock: ManualClock, moment: dt.datetime) -> None:
    clock.set(moment)
    await services_of(app).delivery.dispatcher.run_due(moment)


async def test_badge_link_request_accept_reminder_and_follow_up_in_two_languages(
    api: FakeBotApi, bot: BotApplication, clock: ManualClock
) -> None:
    anna = api.user(201, "Anna", language_code="en")
    ivan = api.user(202, "Иван", language_code="ru")
    mallory = api.user(203, "Mallory", language_code="en")
    await registered(bot, anna, "en", "Anna", "en ru", "anna@tpu.ru")
    await registered(bot, ivan, "ru", "Иван", "ru", "+7 900 000 00 00")
    await registered(bot, mallory, "en", "Mallory", "en", "m@example.com")

    # Ivan's badge: a PNG QR code of his booking link.
    await ivan.send_text("/badge")
    badge = await ivan.expect("t.me/")
    assert badge.kind == "photo" and badge.photo is not None
    assert badge.photo.startswith(b"\x89PNG")
    token = token_in(badge.text)

    # Anna scans it: the booking page, the earliest common times first (tap 1 of 3).
    await anna.open_link(token)
    page = await anna.expect("Book a meeting with")
    assert "Иван" in page.text and "Russian" in page.text
    assert page.button_texts()[0] == "Tue, Nov 24, 09:30"  # CLDR's date-time pattern
    # Six times of the first day, later ones a page away, and the second day reachable.
    assert page.button_texts()[6:] == ["▶", "📅 Wed, Nov 25"]
    await anna.press(0, page)
    confirm = await anna.expect("Request a meeting with")
    await anna.send_text("About <batteries>")
    confirm = await anna.expect("Your note: About <batteries>")
    await anna.press("📨 Send request", confirm)  # tap 3
    await anna.expect("Request sent")

    # Ivan sees who, when (in Russian dates), the note and the shared language.
    request = await ivan.expect("Anna")
    assert "24 нояб." in request.text and "09:30" in request.text
    assert "About <batteries>" in request.text
    assert "русский" in request.text
    # Accept, Decline, Propose another time, and Message (talk before the meeting).
    assert len(request.button_texts()) == 4 and request.button_texts()[2] == t("ru", "💬 Message")
    assert "anna@tpu.ru" not in request.text  # no contact before accepting

    # Forged presses: Anna accepting her own request, Mallory accepting someone else's.
    accept_data = request.buttons[0][0][1]
    assert accept_data is not None
    await anna.press_data(accept_data, confirm)
    await mallory.press_data(accept_data, request)
    await api.settle()
    assert anna.callback_answers[-1].get("show_alert") is True
    assert "no longer active" in mallory.callback_answers[-1].get("text", "")

    await ivan.press(0, request)  # Accept
    for_ivan = await ivan.expect(seen("ru", "✅ <b>Meeting confirmed</b>"))
    for_anna = await anna.expect("Meeting confirmed")
    # The number as people write it (phonenumbers), whatever spacing it was typed with.
    assert "Table A1, Hall 3" in for_anna.text and "+7 900 000-00-00" in for_anna.text
    assert "anna@tpu.ru" in for_ivan.text and "24 нояб." in for_ivan.text
    # Pressing Accept again on the stale request changes nothing.
    await ivan.press_data(accept_data, request)
    await api.settle()
    assert ivan.callback_answers[-1].get("show_alert") is True

    # /agenda in Russian dates, with cancel/move buttons and an .ics at the right hour.
    await anna.send_text("/agenda")
    agenda = await anna.expect("Your meetings")
    assert "Иван" in agenda.text and "A1" in agenda.text
    assert any("Cancel" in b for b in agenda.button_texts())
    ics = await anna.expect("")
    while ics.kind != "document":
        ics = await anna.expect("")
    assert ics.document is not None and ics.document[0] == "meetings.ics"
    # Parsed, not compared as text: icalendar's serialisation may change between releases.
    calendar = icalendar.Calendar.from_ical(ics.document[1])
    (event,) = calendar.walk("VEVENT")
    start = event.decoded("DTSTART")
    assert start == dt.datetime(2026, 11, 24, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert str(start.tzinfo) == "Asia/Shanghai"
    assert event.decoded("DTEND") - start == dt.timedelta(minutes=20)
    assert [str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")] == ["Asia/Shanghai"]

    # Reminders, 15 minutes before, each once.
    await run_due(bot, clock, FIRST_SLOT - 16 * MINUTE)
    await run_due(bot, clock, FIRST_SLOT - 15 * MINUTE)
    await anna.expect("Reminder")
    reminder = await ivan.expect("⏰")
    assert "A1" in reminder.text
    await run_due(bot, clock, FIRST_SLOT - 14 * MINUTE)

    # After the meeting: did it take place?
    await run_due(bot, clock, FIRST_SLOT + 25 * MINUTE)
    question = await anna.expect("take place")
    await ivan.expect(ru_before_name("Did your meeting with {name} ({when}) take place?") + "Anna")
    await anna.press("Yes", question)
    rating = await anna.expect("How useful")
    await anna.press("5★", rating)
    await api.settle()
    stats = await services_of(bot).meetings.repo.stats()
    assert stats.held == 1
    sent = [c for c in api.calls if c.method == "sendMessage" and "⏰" in c.params["text"]]
    assert len(sent) == 2  # one each, never twice


async def test_cancel_propose_and_revoked_link(
    api: FakeBotApi, bot: BotApplication, clock: ManualClock
) -> None:
    anna = api.user(301, "Anna", language_code="en")
    li = api.user(302, "Li", language_code="ru")
    await registered(bot, anna, "en", "Anna", "en", "anna@example.com")
    await registered(bot, li, "ru", "Ли", "zh", "li@example.com")

    await li.send_text("/badge")
    old = token_in((await li.expect("t.me/")).text)
    await anna.open_link(old)
    page = await anna.expect("Book a meeting with")
    assert "interpreter" in page.text
    await anna.press(1, page)
    await anna.press("📨 Send request", await anna.expect("Request a meeting"))
    request = await li.expect("Anna")

    # Li proposes another time instead; Anna accepts it.
    await li.press(-1, request)
    choice = await li.expect(seen("ru", "Which time would suit you better?"))
    await li.press(2, choice)
    await li.expect("✉️")
    proposal = await anna.expect("proposes another time")
    await anna.press(0, proposal)
    await anna.expect("Meeting confirmed")
    await li.expect(seen("ru", "✅ <b>Meeting confirmed</b>"))

    # Anna cancels from /agenda; Li is told.
    await anna.send_text("/agenda")
    agenda = await anna.expect("Your meetings")
    await anna.press(0, agenda)
    sure = await anna.expect("Cancel your meeting")
    await anna.press(0, sure)
    await anna.expect("is cancelled")
    await li.expect(
        ru_before_name("{name} cancelled your meeting on {when}. The time is free again.") + "Anna"
    )

    # Li renews the link: the old one is refused, the new one works.
    await li.send_text("/badge")
    badge = await li.expect("t.me/")
    await li.press(0, badge)
    await api.settle()
    revoked = t("ru", "Your old booking link no longer works.")
    assert li.callback_answers[-1].get("text") == revoked
    new = token_in(li.last().text)
    assert new != old and li.last().kind == "photo"
    await anna.open_link(old)
    await anna.expect("no longer valid")
    await anna.open_link(new)
    await anna.expect("Book a meeting with")


async def test_booking_before_registering_starts_registration(
    api: FakeBotApi, bot: BotApplication
) -> None:
    host = api.user(401, "Host", language_code="en")
    await registered(bot, host, "en", "Host", "en", "h@example.com")
    await host.send_text("/badge")
    token = token_in((await host.expect("t.me/")).text)
    guest = api.user(402, "Guest", language_code="en")
    await guest.open_link(token)
    await guest.expect("Welcome to the matchmaking")


@pytest.mark.parametrize(
    ("locale", "language", "country"), [("ru", "Русский", "Россия"), ("ar", "العربية", "السعودية")]
)
async def test_registering_after_a_booking_link_ends_on_the_booking_page(
    api: FakeBotApi, bot: BotApplication, locale: str, language: str, country: str
) -> None:
    host = api.user(411, "Host", language_code="en")
    await registered(bot, host, "en", "Host", "en", "h@example.com")
    await host.send_text("/badge")
    token = token_in((await host.expect("t.me/")).text)
    guest = api.user(412, "Guest", language_code=locale)
    await guest.open_link(token)
    name_q, org_q, country_q, role_q, lang_q, contact_q, consent_q, done_q = QUESTIONS[locale]
    await guest.press(language, await guest.expect("Nanjing Innovation Days"))
    await guest.expect(name_q)
    await guest.send_text("Guest")
    await guest.expect(org_q)
    await guest.send_text("Org")
    await guest.expect(country_q)
    await guest.send_text(country)
    await guest.press(0, await guest.expect(role_q))
    await guest.press(-1, await guest.expect(lang_q))
    await guest.press(0, await guest.expect(contact_q))
    await guest.press(0, await guest.expect(consent_q))
    await guest.expect(done_q)
    # The booking intent is not lost: the page of the host follows the registration.
    opening = t(locale, "<b>Book a meeting with {name}</b>", name="§").split("§")[0]
    page = await guest.expect(re.escape(opening) + ".*Host")
    assert page.button_texts()[0]


@pytest.mark.parametrize(
    ("locale", "second_day", "later", "earlier"),
    [("ru", "📅 ср, 25 нояб.", "▶", "◀"), ("ar", "📅 الأربعاء، 25 نوفمبر", "◀", "▶")],
)
async def test_free_times_are_offered_by_day_with_paging(
    api: FakeBotApi, bot: BotApplication, locale: str, second_day: str, later: str, earlier: str
) -> None:
    host = api.user(421, "Host", language_code="en")
    await registered(bot, host, "en", "Host", "en", "h@example.com")
    await host.send_text("/badge")
    token = token_in((await host.expect("t.me/")).text)
    guest = api.user(422, "Guest", language_code=locale)
    await registered(bot, guest, locale, "Guest", "en", "g@example.com")
    await guest.open_link(token)
    page = await guest.expect("Host")
    first_day = page.button_texts()[:6]
    # Later times of the day, then back (the arrows follow the reading direction).
    await guest.press(later, page)
    page = await guest.expect("Host")
    assert page.edited
    later_times = [b for b in page.button_texts()[:6] if b not in (later, earlier)]
    assert later_times and not set(later_times) & set(first_day)
    await guest.press(earlier, page)
    page = await guest.expect("Host")
    assert page.button_texts()[:6] == first_day
    # The second day, and booking a time on it.
    await guest.press(second_day, page)
    page = await guest.expect("Host")
    wednesday = page.button_texts()[0]
    assert "25" in wednesday and wednesday not in first_day
    await guest.press(0, page)
    confirm = await guest.expect("Host")
    assert "25" in confirm.text


async def test_restart_keeps_reminders_owed(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    settings = flow_settings(api, tmp_path / "restart.db")
    settings = dataclasses.replace(
        settings, schedule=parse_schedule(SCHEDULE, zone=settings.timezone)
    )
    app = await start_bot(settings, clock)
    anna, bo = api.user(501, "Anna"), api.user(502, "Bo")
    a = await registered(app, anna, "en", "Anna", "en", "a@example.com")
    b = await registered(app, bo, "en", "Bo", "en", "b@example.com")
    meeting = await services_of(app).meetings.request(a, b, FIRST_SLOT)
    await services_of(app).meetings.accept(meeting.id, b)
    await anna.expect("Meeting confirmed")
    await stop_bot(app)

    # Down while the reminder fell due; at start the meeting is still ahead: it is sent.
    clock.set(FIRST_SLOT - 5 * MINUTE)
    app = await start_bot(settings, clock)
    try:
        await services_of(app).delivery.dispatcher.run_due()
        await anna.expect("Reminder")
        await bo.expect("Reminder")
    finally:
        await stop_bot(app)


async def test_request_a_meeting_from_matches_books_a_slot_and_says_why(
    api: FakeBotApi, bot: BotApplication
) -> None:
    university, plant = await russian_and_chinese(api)
    await university.expect(seen("ru", NEW_MATCH))
    await plant.expect(seen("zh", NEW_MATCH))
    await university.send_text("/matches")
    card = await university.expect("王芳")
    await university.press(t("ru", "🤝 Request a meeting"), card)
    page = await university.expect(seen("ru", "<b>Book a meeting with {name}</b>", name="王芳"))
    assert len(page.button_texts()) == 6 + 2  # six times, later times, the second day
    await university.press(0, page)
    confirm = await university.expect("王芳")
    await university.press(t("ru", "📨 Send request"), confirm)

    # The plant reads who, when, and why they match, in Chinese, computed when it is sent.
    request = await plant.expect(OLGA)
    wastewater_zh = name("env.wastewater", "zh")
    answers = t("zh", "Their offer answers your need: {fields}", fields=wastewater_zh)
    assert t("zh", "Why you match: {reason}", reason=answers) in request.text
    assert len(request.button_texts()) == 4 and t("zh", "💬 Message") in request.button_texts()


async def test_reminder_time_is_chosen_from_the_profile(
    api: FakeBotApi, bot: BotApplication
) -> None:
    ivan = api.user(211, "Иван", language_code="ru")
    await registered(bot, ivan, "ru", "Иван", "ru", "ivan@example.com")
    await ivan.send_text("/profile")
    profile = await ivan.expect(seen("ru", "<b>Your profile</b>"))
    await ivan.press(t("ru", "⏰ Meeting reminders"), profile)
    choice = await ivan.expect(
        seen("ru", "How many minutes before each meeting should I remind you?")
    )
    await ivan.press(-1, choice)
    await api.settle()
    service = services_of(bot).meetings
    delegate = await services_of(bot).delegates.by_telegram_user(211)
    assert delegate is not None
    assert await service.reminder_minutes(delegate.id) == 60


async def test_confirmation_adds_the_delegates_own_time_when_it_differs(
    api: FakeBotApi, bot: BotApplication
) -> None:
    minho = api.user(221, "Minho", language_code="en")
    wang = api.user(222, "Wang", language_code="en")
    await registered(bot, minho, "en", "Minho", "en", "minho@kaist.kr", country="KR")
    await registered(bot, wang, "en", "Wang", "en", "wang@nju.cn", country="CN")
    await wang.send_text("/badge")
    token = token_in((await wang.expect("t.me/")).text)
    await minho.open_link(token)
    page = await minho.expect("Book a meeting with")
    await minho.press(0, page)
    confirm = await minho.expect("Request a meeting with")
    await minho.press("📨 Send request", confirm)
    request = await wang.expect("Minho")
    await wang.press(0, request)
    for_minho = await minho.expect("Meeting confirmed")
    for_wang = await wang.expect("Meeting confirmed")
    # 09:30 in Shanghai is 10:30 in Seoul; Wang lives in the event's zone and sees no extra line.
    # The zone is named for people (CLDR), not as an IANA id.
    assert "Your local time: Tue, 10:30 (Korean Time)" in for_minho.text
    assert "Asia/Seoul" not in for_minho.text
    assert "Your local time" not in for_wang.text


# The first slot of the flows' event: Tuesday 24 November, 09:30–09:50 in Shanghai.
EVENT_ZONE = ZoneInfo("Asia/Shanghai")
FIRST_SLOT = dt.datetime(2026, 11, 24, 9, 30, tzinfo=EVENT_ZONE)


@pytest.mark.parametrize(
    ("locale", "country", "home", "separator"),
    [
        ("ru", "KR", "Asia/Seoul", None),
        ("ko", "KR", "Asia/Seoul", None),
        ("zh", "KR", "Asia/Seoul", None),
        ("ar", "TJ", "Asia/Dushanbe", "،"),
    ],
)
async def test_times_and_zones_read_in_the_delegates_language(
    api: FakeBotApi,
    bot: BotApplication,
    locale: str,
    country: str,
    home: str,
    separator: str | None,
) -> None:
    # The expected wording comes from the CLDR data of the Babel installed (it changes between
    # releases): what is tested is that the message uses the locale's own patterns and names.
    tr = I18n("en").translator(locale)
    end = FIRST_SLOT + dt.timedelta(minutes=20)
    when = span_text(FIRST_SLOT, end, EVENT_ZONE, tr)
    local_time = time_text(FIRST_SLOT, ZoneInfo(home), tr)
    zone = zone_text(ZoneInfo(home), tr)
    guest = api.user(231, "Guest", language_code=locale)
    wang = api.user(232, "Wang", language_code="en")
    await registered(bot, guest, locale, "Guest", "en", "guest@example.com", country=country)
    await registered(bot, wang, "en", "Wang", "en", "wang@nju.cn", country="CN")
    await wang.send_text("/badge")
    token = token_in((await wang.expect("t.me/")).text)
    await guest.open_link(token)
    page = await guest.expect("Wang")
    await guest.press(0, page)
    confirm = await guest.expect("Wang")
    await guest.press(-1, confirm)
    request = await wang.expect("Guest")
    await wang.press(0, request)
    confirmed = await guest.expect(re.escape(zone))
    plain = confirmed.text.replace("\u2068", "").replace("\u2069", "")
    # One date-time pattern per language (Arabic joins with "،"), the guest's own time, and
    # the zone named for people, never an IANA id.
    assert when in plain
    assert local_time in plain and local_time not in when
    assert zone in plain
    assert "Asia/" not in confirmed.text
    if separator is not None:
        assert separator in when
    # The calendar file carries no isolation marks, even from a right-to-left message.
    await guest.send_text("/agenda")
    ics = await guest.expect("")
    while ics.kind != "document":
        ics = await guest.expect("")
    assert ics.document is not None
    (event,) = icalendar.Calendar.from_ical(ics.document[1]).walk("VEVENT")
    assert "Wang" in str(event["SUMMARY"])
    assert not {"\u2068", "\u2069"} & set(ics.document[1].decode())


async def test_an_organizer_answers_for_a_delegate_without_telegram_or_host(
    api: FakeBotApi, bot: BotApplication
) -> None:
    organizer = api.user(900, "Organizer", language_code="en")
    minho = api.user(231, "Minho", language_code="en")
    mallory = api.user(232, "Mallory", language_code="en")
    await registered(bot, organizer, "en", "Olga Org", "en", "org@example.com")
    minho_id = await registered(bot, minho, "en", "Minho", "en", "minho@kaist.kr")
    await registered(bot, mallory, "en", "Mallory", "en", "m@example.com")
    services = services_of(bot)
    now = "2026-11-01T00:00:00.000000+00:00"
    zhang_id = await services.db.insert(
        "INSERT INTO delegates (locale, name, organization, country, role, meeting_languages, "
        "consent, step, source, created_at, updated_at, registered_at) "
        "VALUES ('zh', 'Zhang Wei', 'Jiangsu Dyeing', 'CN', 'company', 'zh en', 1, 'done', "
        "'import', ?, ?, ?)",
        (now, now, now),
    )
    slot = (await services.meetings.free_slots_for([minho_id, zhang_id], limit=1))[0]
    await services.meetings.request(minho_id, zhang_id, slot.start)

    request = await organizer.expect("On behalf of Zhang Wei")
    assert "Minho" in request.text
    accept = request.buttons[0][0][1]
    assert accept is not None
    await mallory.press_data(accept, request)
    await api.settle()
    assert mallory.callback_answers[-1].get("show_alert") is True
    await organizer.press(0, request)
    confirmed = await minho.expect("Meeting confirmed")
    assert "Zhang Wei" in confirmed.text
    await organizer.expect("(?s)On behalf of Zhang Wei.*Meeting confirmed")


async def test_a_delegate_who_deletes_their_data_frees_their_meetings_and_the_others_are_told(
    api: FakeBotApi, bot: BotApplication
) -> None:
    services = services_of(bot)
    anna, ivan, bo = api.user(511, "Anna"), api.user(512, "Ivan"), api.user(513, "Бо")
    a = await registered(bot, anna, "en", "Anna", "en", "a@example.com")
    i = await registered(bot, ivan, "en", "Ivan", "en", "i@example.com")
    b = await registered(bot, bo, "ru", "Бо", "ru", "b@example.com")
    booked = await services.meetings.request(a, i, FIRST_SLOT)
    await services.meetings.accept(booked.id, i)
    await anna.expect("Meeting confirmed")
    pending = await services.meetings.request(b, i, FIRST_SLOT + 20 * MINUTE)

    await ivan.send_text("/delete_me")
    await ivan.press("Yes, delete my data", await ivan.expect("Delete your data?"))
    await ivan.expect("Your personal data has been deleted")

    # Both counterparts hear it in their language, with the time and without Ivan's name.
    left = (
        "The delegate you were to meet on {when} has left the matchmaking. The meeting is "
        "cancelled and the time is free again."
    )
    told_anna = await anna.expect(re.escape(t("en", left, when="X").split("X")[0]))
    assert "Ivan" not in told_anna.text and "09:30" in told_anna.text
    told_bo = await bo.expect(re.escape(t("ru", left, when="X").split("X")[0]))
    assert "09:50" in told_bo.text
    states = {m.id: m.state.value for m in await services.meetings.agenda(a)}
    assert states.get(booked.id) in (None, "cancelled")
    assert [m.state.value for m in await services.meetings.agenda(b) if m.id == pending.id] in (
        [],
        ["cancelled"],
    )
    # The slot and the table are free again: Anna books Bo at the very same time.
    again = await services.meetings.request(a, b, FIRST_SLOT)
    await services.meetings.accept(again.id, b)
    await anna.expect("Meeting confirmed")
    # Nothing about the meeting reaches the deleted chat afterwards.
    await api.settle()
    assert ivan.last().text.startswith("Your personal data has been deleted")


@pytest.mark.parametrize("locale", ["en", "ar"])
async def test_a_meeting_that_began_is_read_only_in_the_agenda(
    api: FakeBotApi, bot: BotApplication, clock: ManualClock, locale: str
) -> None:
    guest = api.user(241, "Guest", language_code=locale)
    wang = api.user(242, "Wang", language_code="en")
    await registered(bot, guest, locale, "Guest", "en", "guest@example.com")
    await registered(bot, wang, "en", "Wang", "en", "wang@nju.cn")
    await wang.send_text("/badge")
    token = token_in((await wang.expect("t.me/")).text)
    await guest.open_link(token)
    await guest.press(0, await guest.expect("Wang"))
    await guest.press(-1, await guest.expect("Wang"))
    await wang.press(0, await wang.expect("Guest"))
    await guest.expect(re.escape(t(locale, "✅ <b>Meeting confirmed</b>").replace("<b>", "")[:6]))

    # Before it: cancel and move offered.
    await guest.send_text("/agenda")
    before = await guest.expect("^" + re.escape(t(locale, "<b>Your meetings</b>")))
    cancel = t(locale, "❌ Cancel {time}", time="09:30")
    assert any(label.startswith(cancel[:4]) for label in before.button_texts())
    stale = before.buttons[0][0][1]
    assert stale is not None and ":cx:" in stale

    # It took place (and was answered): listed as done, with nothing to cancel or move.
    await run_due(bot, clock, FIRST_SLOT + 30 * MINUTE)
    await guest.send_text("/agenda")
    after = await guest.expect("^" + re.escape(t(locale, "<b>Your meetings</b>")))
    assert "✔️" in after.text
    assert not any(":cx:" in (data or "") or ":mv:" in (data or "")
                   for row in after.buttons for _, data in row)  # fmt: skip
    # The old Cancel button is refused, in the delegate's language.
    await guest.press_data(stale, before)
    await api.settle()
    refusal = t(locale, "This meeting has already begun; it can no longer be cancelled or moved.")
    assert guest.callback_answers[-1].get("text") == refusal


@pytest.mark.parametrize(
    ("locale", "counts", "disputed"),
    [
        ("en", "held: 1; no-shows: 0", "⚠️ 1 meeting answered differently by its two sides"),
        ("ar", "عُقد", "اجتماع واحد (1) أجاب عنه طرفاه بشكل مختلف"),
    ],
)
async def test_stats_count_each_meeting_once_and_show_the_disagreements(
    api: FakeBotApi, bot: BotApplication, clock: ManualClock, locale: str, counts: str,
    disputed: str,
) -> None:  # fmt: skip
    people = [api.user(251 + n, f"P{n}", language_code="en") for n in range(4)]
    ids = [await registered(bot, p, "en", f"P{n}", "en", f"p{n}@x.org")
           for n, p in enumerate(people)]  # fmt: skip
    service = services_of(bot).meetings
    # Two meetings: one both call held, one the sides answer differently.
    first = await service.request(ids[0], ids[1], FIRST_SLOT)
    await service.accept(first.id, ids[1])
    second = await service.request(ids[2], ids[3], FIRST_SLOT)
    await service.accept(second.id, ids[3])
    clock.set(FIRST_SLOT + 30 * MINUTE)
    await service.record_outcome(first.id, ids[0], Outcome.HELD)
    await service.record_outcome(first.id, ids[1], Outcome.HELD)
    await service.record_outcome(second.id, ids[2], Outcome.HELD)
    await service.record_outcome(second.id, ids[3], Outcome.NO_SHOW)

    organizer = api.user(900, "Olga", language_code=locale)
    await organizer.send_text("/stats")
    stats = await organizer.expect("")
    shown = stats.text.replace("\u2068", "").replace("\u2069", "")
    assert counts in shown, shown
    assert disputed in shown and f"#{second.id}" in shown, shown
    # Two requests are two delegates who asked to meet a match.
    assert (
        t(locale, "Interest shown in matches: {n}", n=2)
        .replace("\u2068", "")
        .replace("\u2069", "")
        in shown
    )
    if locale != "en":
        return
    # The meetings export: local event time named in the header, each side's answer, the outcome.
    await organizer.send_text("/export")
    menu = await organizer.expect("CSV or Excel")
    await organizer.press("Meetings · CSV", menu)
    document = await organizer.expect("2 rows")
    assert document.document is not None
    rows = list(csv.DictReader(io.StringIO(document.document[1].decode("utf-8-sig"))))
    assert rows[0]["start (Asia/Shanghai)"] == "2026-11-24 09:30"
    outcomes = {int(r["id"]): (r["requester_answer"], r["invitee_answer"], r["outcome"])
                for r in rows}  # fmt: skip
    assert outcomes == {first.id: ("held", "held", "held"),
                        second.id: ("held", "no_show", "disputed")}  # fmt: skip
