"""Talk before the meeting, a colleague or an interpreter at the table, and wishes on exhibit
cards, over the fake Bot API, in English, Arabic, Russian and Chinese."""

from __future__ import annotations

import contextlib
import dataclasses
import re
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import BotApplication
from bot.domain.autoschedule import Priority
from bot.domain.clock import ManualClock
from bot.domain.exhibits import parse_csv
from bot.domain.scheduling import parse_schedule
from bot.i18n import FSI, PDI, language_name
from bot.sandbox.fake_api import FakeBotApi, FakeUser
from storage.wishes import WishRepository
from tests.flows.conftest import flow_settings, start_bot, stop_bot
from tests.flows.items_kit import I18N, t
from tests.flows.test_meetings import (
    FIRST_SLOT,
    MINUTE,
    SCHEDULE,
    registered,
    run_due,
    services_of,
)
from tests.flows.test_wishes import scheduler

MESSAGE = "💬 Message"
REPLY = "↩️ Reply"
PROMPT = (
    "✏️ Write your message to {name}, up to {limit} characters. I will pass it on; your "
    "contact details are shared only once a meeting is accepted."
)
SENT = "✉️ Sent to {name}. Their answer will come here."
WRITES_IN = "💬 <b>{name}</b> writes, in {language}:"
WRITES_PROBABLY = "💬 <b>{name}</b> writes, probably in {language} (guessed from the script):"
DECLINED = (
    "The request was declined, so this conversation has ended. /matches may show you other "
    "people to meet."
)
UNREACHABLE = (
    "The other delegate can no longer be reached through the bot, so this conversation has ended."
)
UNDELIVERED = (
    "Your message to {name} could not be delivered: they can no longer be reached through the "
    "bot. This conversation has ended."
)
TOO_LONG = (
    "Your message is {length} characters long; the limit is {limit}. Please shorten it and send "
    "it again."
)
TEXT_ONLY = (
    "I can pass on text messages only, not stickers, photos or files. Please type your message, "
    "up to {limit} characters."
)
BRING = "👥 Bring a colleague or interpreter"
TABLE_FULL = "The table has no free chair left ({seats} seats)."


@pytest.fixture
async def bot(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotApplication]:
    settings = flow_settings(api, tmp_path / "talk.db")
    schedule = parse_schedule(SCHEDULE, zone=settings.timezone)
    # Three chairs: the two parties and one guest.
    app = await start_bot(
        dataclasses.replace(settings, schedule=schedule, seats_per_table=3), clock
    )
    yield app
    await stop_bot(app)


def opening(locale: str, msgid: str) -> str:
    """A pattern for the translated message up to its first placeholder."""
    return re.escape(t(locale, msgid).split("{")[0].strip())


def who(locale: str, name: str, organization: str) -> str:
    """A delegate as a message names them, in the reader's language."""
    return t(locale, "{name} ({organization})", name=name, organization=organization)


async def delegate(
    app: BotApplication,
    user: FakeUser,
    locale: str,
    name: str,
    organization: str,
    *,
    role: str = "company",
    languages: str = "en",
) -> int:
    """A registered delegate with a chosen organization and role."""
    delegate_id = await registered(app, user, locale, name, languages, f"{user.user_id}@x.org")
    await services_of(app).db.execute(
        "UPDATE delegates SET organization = ?, role = ? WHERE id = ?",
        (organization, role, delegate_id),
    )
    return delegate_id


async def write(user: FakeUser, locale: str, button: str, card: object, text: str) -> None:
    """Press Message (or Reply) on a card and type the text."""
    await user.press(t(locale, button), card)  # type: ignore[arg-type]
    await user.expect(opening(locale, PROMPT))
    await user.send_text(text)


async def test_a_thread_both_ways_in_english_and_arabic_with_honest_languages(
    api: FakeBotApi, bot: BotApplication
) -> None:
    anna = api.user(601, "Anna", language_code="en")
    layla = api.user(602, "ليلى", language_code="ar")
    a = await registered(bot, anna, "en", "Anna", "en ru", "anna@tpu.ru")
    la = await registered(bot, layla, "ar", "ليلى", "ar en", "layla@example.com")
    await services_of(bot).meetings.request(a, la, FIRST_SLOT, note="Solar <panels>")
    card = await layla.expect("Anna")
    assert t("ar", MESSAGE) in card.button_texts()

    # Layla writes in Arabic, with HTML-looking text; Anna reads who wrote it and in which
    # language, the text escaped and isolated, a Reply button, and no contact.
    arabic = "مرحبا! هل نلتقي عند الطاولة؟ <b>نعم</b> & شكرا"
    await write(layla, "ar", MESSAGE, card, arabic)
    await layla.expect(opening("ar", SENT))
    relayed = await anna.expect(re.escape("💬 "))
    head = t("en", WRITES_IN, name=who("en", "ليلى", "ليلى Lab"), language="Arabic")
    assert relayed.text.startswith(head)
    assert f"{FSI}{arabic}{PDI}" in relayed.text  # bidi-isolated in an English message
    assert "&lt;b&gt;نعم&lt;/b&gt; &amp; شكرا" in (relayed.html or "")  # escaped, not bold
    assert "layla@example.com" not in relayed.text
    assert relayed.button_texts() == [t("en", REPLY)]

    # Anna answers in English, then in Russian (both hers), then in Korean (not hers: a guess).
    await write(anna, "en", REPLY, relayed, "Yes, see you at 9:30!")
    await anna.expect(opening("en", SENT))
    answer = await layla.expect(re.escape("💬 "))
    ar = I18N.translator("ar")
    english = language_name("en", ar)
    assert answer.text.startswith(
        t("ar", WRITES_IN, name=who("ar", "Anna", "Anna Lab"), language=english)
    )
    assert f"{FSI}Yes, see you at 9:30!{PDI}" in answer.text  # isolated in an Arabic message
    assert answer.button_texts() == [t("ar", REPLY)]
    assert "anna@tpu.ru" not in answer.text

    await write(anna, "en", REPLY, relayed, "До встречи")
    russian = await layla.expect(re.escape("💬 "))
    assert russian.text.startswith(
        t("ar", WRITES_IN, name=who("ar", "Anna", "Anna Lab"), language=language_name("ru", ar))
    )
    await write(anna, "en", REPLY, relayed, "안녕하세요")
    korean = await layla.expect(re.escape("💬 "))
    assert korean.text.startswith(
        t(
            "ar", WRITES_PROBABLY, name=who("ar", "Anna", "Anna Lab"),
            language=language_name("ko", ar),
        )
    )  # fmt: skip

    # Layla replies from the Arabic card; everything is stored with its language.
    await write(layla, "ar", REPLY, korean, "شكرا جزيلا")
    back = await anna.expect(re.escape("💬 "))
    assert "شكرا جزيلا" in back.text
    meeting = (await services_of(bot).meetings.agenda(a))[0]
    stored = await services_of(bot).talk.thread_of(meeting.id)
    assert [(m.author_id, m.language, m.basis.value) for m in stored] == [
        (la, "ar", "profile"),
        (a, "en", "profile"),
        (a, "ru", "profile"),
        (a, "ko", "script"),
        (la, "ar", "profile"),
    ]

    # Stale: Layla declines; Anna, who pressed Reply just before, is told in English, and Layla
    # pressing Reply afterwards is told in Arabic. Nothing more is relayed.
    await anna.press(t("en", REPLY), back)
    await anna.expect(opening("en", PROMPT))
    await services_of(bot).meetings.decline(meeting.id, la)
    await anna.send_text("Are you still there?")
    await anna.expect(re.escape(t("en", DECLINED)))
    await layla.press(t("ar", REPLY), korean)
    await api.settle()
    assert layla.callback_answers[-1].get("show_alert") is True
    assert layla.callback_answers[-1]["text"] == t("ar", DECLINED)
    assert len(await services_of(bot).talk.thread_of(meeting.id)) == 5


async def test_a_blocked_counterpart_ends_the_thread_and_overlong_or_sticker_is_refused(
    api: FakeBotApi, bot: BotApplication, clock: ManualClock
) -> None:
    anna = api.user(611, "Anna", language_code="en")
    ivan = api.user(612, "Иван", language_code="ru")
    a = await registered(bot, anna, "en", "Anna", "en", "anna@tpu.ru")
    i = await registered(bot, ivan, "ru", "Иван", "ru", "ivan@tpu.ru")
    services = services_of(bot)
    meeting = await services.meetings.request(a, i, FIRST_SLOT)
    card = await ivan.expect("Anna")

    # Too long: refused with the limit named, in Russian; a sticker and a photo too; then it goes.
    await ivan.press(t("ru", MESSAGE), card)
    await ivan.expect(opening("ru", PROMPT))
    await ivan.send_text("д" * 501)
    await ivan.expect(re.escape(t("ru", TOO_LONG, length=501, limit=500)))
    await ivan.send_sticker()
    await ivan.expect(re.escape(t("ru", TEXT_ONLY, limit=500)))
    await ivan.send_photo()
    await ivan.expect(re.escape(t("ru", TEXT_ONLY, limit=500)))
    await ivan.send_text("д" * 500)
    await ivan.expect(opening("ru", SENT))
    relayed = await anna.expect(re.escape("💬 "))
    assert "д" * 500 in relayed.text

    # Ivan blocks the bot: Anna's answer is dropped by the outbox (403), and she is told.
    api.block_user(ivan.user_id)
    await write(anna, "en", REPLY, relayed, "Hello?")
    await anna.expect(opening("en", SENT))
    await api.settle()
    await run_due(bot, clock, clock.now() + MINUTE)
    told = await anna.expect(opening("en", UNDELIVERED))
    assert told.text == t("en", UNDELIVERED, name=who("en", "Иван", "Иван Lab"))
    await run_due(bot, clock, clock.now() + MINUTE)  # told once
    await anna.press(t("en", REPLY), relayed)
    await api.settle()
    assert anna.callback_answers[-1]["text"] == t("en", UNREACHABLE)
    sent_undelivered = [
        c for c in api.calls
        if c.method == "sendMessage" and c.params["text"].startswith("Your message to")
    ]  # fmt: skip
    assert len(sent_undelivered) == 1
    assert len(await services.talk.thread_of(meeting.id)) == 2

    # A forged press for a meeting Anna is not in changes nothing.
    await anna.press_data("m1:say:999999", relayed)
    await api.settle()
    assert anna.callback_answers[-1].get("show_alert") is True


async def test_a_colleague_and_an_interpreter_at_the_table_with_reminders_and_seat_limit(
    api: FakeBotApi, bot: BotApplication, clock: ManualClock
) -> None:
    anna = api.user(621, "Anna", language_code="en")
    ivan = api.user(622, "Иван", language_code="ru")
    boris = api.user(623, "Boris", language_code="en")
    zara = api.user(624, "Zara", language_code="en")
    mallory = api.user(625, "Mallory", language_code="en")
    a = await delegate(bot, anna, "en", "Anna", "Tomsk Polytechnic")
    i = await delegate(bot, ivan, "ru", "Иван", "Сибирский завод", languages="ru")
    b = await delegate(bot, boris, "en", "Boris", "tomsk  polytechnic")  # same, spelt otherwise
    z = await delegate(bot, zara, "en", "Zara", "Free Lance", role="interpreter",
                       languages="en ru")  # fmt: skip
    await delegate(bot, mallory, "en", "Mallory", "Elsewhere Inc")
    services = services_of(bot)
    meeting = await services.meetings.request(a, i, FIRST_SLOT)
    await services.meetings.accept(meeting.id, i)
    confirmed = await anna.expect("Meeting confirmed")
    assert t("en", BRING) in confirmed.button_texts()
    ivan_confirmed = await ivan.expect("✅")

    # Anna's choices: her colleague and the interpreter, not Mallory.
    await anna.press(t("en", BRING), confirmed)
    menu = await anna.expect("Who joins you")
    labels = menu.button_texts()
    assert labels == ["🗣 Zara, interpreter: English and Russian", "👤 Boris"]
    assert "Free chairs at Table A1, Hall 3: 1 of 3." in menu.text

    # Forged presses by a third delegate: refused, nobody seated.
    boris_data = menu.buttons[1][0][1]
    assert boris_data is not None
    await mallory.press_data(boris_data, menu)
    await mallory.press_data(f"m1:gst:{meeting.id}", menu)
    await api.settle()
    assert [answer.get("show_alert") for answer in mallory.callback_answers[-2:]] == [True, True]
    assert await services.talk.guests([meeting.id]) == []

    # Anna brings Boris: he gets the confirmation; Ivan is told, in Russian.
    await anna.press("👤 Boris", menu)
    await anna.expect("will join you")
    joined = await boris.expect("You join a meeting")
    assert "as a colleague of Anna" in joined.text and "Table A1, Hall 3" in joined.text
    assert "Anna (Tomsk Polytechnic) and Иван (Сибирский завод)" in joined.text
    told = await ivan.expect("👥")
    assert "Boris" in told.text

    # The table is full (three chairs): Ivan cannot bring the interpreter; Anna no second guest.
    await ivan.press(t("ru", BRING), ivan_confirmed)
    full = await ivan.expect(re.escape(t("ru", TABLE_FULL, seats=3)))
    assert full.button_texts() == []
    await ivan.press_data(f"m1:gad:{meeting.id}_{z}", full)
    await api.settle()
    assert ivan.callback_answers[-1]["text"] == t("ru", TABLE_FULL, seats=3)
    await anna.press_data(f"m1:gad:{meeting.id}_{z}", menu)
    await api.settle()
    assert anna.callback_answers[-1].get("show_alert") is True
    assert [g.guest_id for g in await services.talk.guests([meeting.id])] == [b]

    # Boris sees it in /agenda (and his .ics), and gets the reminder with the two parties.
    await boris.send_text("/agenda")
    agenda = await boris.expect("Your meetings")
    assert "You join as a colleague or interpreter" in agenda.text
    assert "Anna (Tomsk Polytechnic) and Иван (Сибирский завод)" in agenda.text
    await run_due(bot, clock, FIRST_SLOT - 15 * MINUTE)
    reminder = await boris.expect("⏰ Reminder: the meeting you join starts soon")
    assert "Table A1" in reminder.text
    await anna.expect("⏰")
    await ivan.expect("⏰")

    # Anna swaps Boris for the interpreter: Boris is told, Zara confirmed.
    await anna.send_text("/agenda")
    mine = await anna.expect("Your meetings")
    assert "👥 Boris (tomsk  polytechnic)" in mine.text
    await anna.press(next(x for x in mine.button_texts() if x.startswith("👥")), mine)
    menu = await anna.expect("Who joins you")
    await anna.press("✖️ Remove Boris", menu)
    await anna.expect("no longer joins")
    await boris.expect("You are no longer expected")
    await anna.press(t("en", BRING), confirmed)
    menu = await anna.expect("Who joins you")
    await anna.press("🗣 Zara, interpreter: English and Russian", menu)
    assert "as an interpreter for Anna" in (await zara.expect("You join a meeting")).text

    # Ivan cancels: the interpreter is told her time is free again.
    await services.meetings.cancel(meeting.id, i)
    await run_due(bot, clock, FIRST_SLOT - 14 * MINUTE)
    await zara.expect("does not take place at that time any more")
    assert await services.talk.guests([meeting.id]) == []


async def test_a_wish_from_an_exhibit_card_reaches_wishes_and_the_auto_scheduler(
    api: FakeBotApi, bot: BotApplication
) -> None:
    owner = api.user(631, "王芳", language_code="zh")
    visitor = api.user(632, "Иван", language_code="ru")
    owner_id = await registered(bot, owner, "zh", "王芳", "zh en", "wang@xjtu.cn")
    visitor_id = await registered(bot, visitor, "ru", "Иван", "ru en", "ivan@tpu.ru")
    services = services_of(bot)
    await services.db.execute(
        "UPDATE delegates SET external_id = 'OWNER1' WHERE id = ?", (owner_id,)
    )
    catalogue = (
        "key,organization,owner_external_id,booth,title_zh,title_en\n"
        "E1,西安交大,OWNER1,B12,锂电池快速充电技术,Fast charging of lithium batteries\n"
    )
    await services.exhibits.import_parsed(parse_csv(catalogue.encode()))
    exhibit = await services.exhibits.repo.by_key("E1")
    assert exhibit is not None

    await visitor.open_link(exhibit.token)
    card = await visitor.expect("B12")
    must = t("ru", "⭐ Must meet")
    assert must in card.button_texts()
    assert t("ru", "🚫 Not interested") in card.button_texts()
    await visitor.press(must, card)
    card = await visitor.expect("B12")
    assert card.edited and "✓ " + must in card.button_texts()
    saved = t("ru", "Saved: you must meet {name}. They are not told.", name="王芳")
    assert visitor.callback_answers[-1]["text"] == saved

    await visitor.send_text("/wishes")
    listed = await visitor.expect(re.escape(t("ru", "<b>Your marks</b>")))
    assert must in listed.text and "王芳" in listed.text
    repo = WishRepository(services.db, services.clock)
    assert await repo.get(visitor_id, owner_id) is Priority.MUST
    plan = await scheduler(bot).plan(seconds=2)
    assert plan.summary.wishes_must == 1 and plan.summary.must_scheduled == 1

    # The owner sees no wish buttons on their own exhibit; a forged owner id is refused.
    await owner.open_link(exhibit.token)
    own = await owner.expect("B12")
    assert not any("⭐" in b for b in own.button_texts())
    await visitor.press_data(f"x1:w:{visitor_id}-m-{exhibit.id}", card)
    await api.settle()
    assert visitor.callback_answers[-1].get("show_alert") is True


async def test_a_message_owed_when_the_bot_stops_is_sent_after_the_restart(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    settings = flow_settings(api, tmp_path / "restart.db")
    settings = dataclasses.replace(
        settings, schedule=parse_schedule(SCHEDULE, zone=settings.timezone)
    )
    anna = api.user(641, "Anna", language_code="en")
    ivan = api.user(642, "Иван", language_code="ru")
    first = await start_bot(settings, clock)
    try:
        a = await registered(first, anna, "en", "Anna", "en", "anna@tpu.ru")
        i = await registered(first, ivan, "ru", "Иван", "ru", "ivan@tpu.ru")
        await services_of(first).meetings.request(a, i, FIRST_SLOT)
        card = await ivan.expect("Anna")
        await ivan.press(t("ru", MESSAGE), card)
        await ivan.expect(opening("ru", PROMPT))
        # The sender stops claiming (as at the start of a shutdown): the copy stays owed.
        services_of(first).delivery.sender.halt_claiming()
        await ivan.send_text("Увидимся в 9:30")
        await ivan.expect(opening("ru", SENT))
        await api.settle()
        assert not [e for e in anna.drain_events() if e.text.startswith("💬")]
    finally:
        await stop_bot(first)
    second = await start_bot(settings, clock)
    try:
        relayed = await anna.expect(re.escape("💬 "))
        assert "Увидимся в 9:30" in relayed.text
        assert relayed.button_texts() == [t("en", REPLY)]
    finally:
        await stop_bot(second)


async def test_delete_me_erases_the_thread_and_the_seats_as_a_guest(
    api: FakeBotApi, bot: BotApplication
) -> None:
    anna = api.user(651, "Anna", language_code="en")
    ivan = api.user(652, "Ivan", language_code="en")
    boris = api.user(653, "Boris", language_code="en")
    a = await delegate(bot, anna, "en", "Anna", "Tomsk Polytechnic")
    i = await delegate(bot, ivan, "en", "Ivan", "Plant")
    b = await delegate(bot, boris, "en", "Boris", "Plant")
    services = services_of(bot)
    meeting = await services.meetings.request(a, i, FIRST_SLOT)
    await services.meetings.accept(meeting.id, i)
    confirmed = await anna.expect("Meeting confirmed")
    await ivan.expect("Meeting confirmed")
    await services.talk.add_guest(meeting.id, i, b)
    await boris.expect("You join a meeting")
    await write(anna, "en", MESSAGE, confirmed, "Zanzibar-Quokka secret plans")
    relayed = await ivan.expect(re.escape("💬 "))
    await write(ivan, "en", REPLY, relayed, "Quokka-Zanzibar answer")
    await anna.expect(re.escape("💬 "))
    await api.settle()

    await boris.send_text("/delete_me")
    await boris.press("Yes, delete my data", await boris.expect("cannot be undone"))
    await boris.expect("has been deleted")
    await anna.send_text("/delete_me")
    await anna.press("Yes, delete my data", await anna.expect("cannot be undone"))
    await anna.expect("has been deleted")
    await api.settle()
    assert await services.talk.thread_of(meeting.id) == []
    assert await services.talk.guests([meeting.id]) == []
    assert (
        await services.db.fetchval("SELECT count(*) FROM busy_slots WHERE delegate_id = ?", (b,))
        == 0
    )
    with contextlib.closing(sqlite3.connect(services.db.path)) as conn:
        dump = "\n".join(conn.iterdump())
    assert "Zanzibar" not in dump


async def test_a_guest_moves_with_the_meeting_when_free_at_the_new_time(
    api: FakeBotApi, bot: BotApplication, clock: ManualClock
) -> None:
    anna = api.user(661, "Anna", language_code="en")
    ivan = api.user(662, "Иван", language_code="ru")
    zara = api.user(663, "Zara", language_code="ko")
    a = await delegate(bot, anna, "en", "Anna", "Tomsk Polytechnic")
    i = await delegate(bot, ivan, "ru", "Иван", "Завод", languages="ru")
    z = await delegate(bot, zara, "ko", "Zara", "Free Lance", role="interpreter",
                       languages="ko ru en")  # fmt: skip
    services = services_of(bot)
    meeting = await services.meetings.request(a, i, FIRST_SLOT)
    await services.meetings.accept(meeting.id, i)
    await services.talk.add_guest(meeting.id, a, z)
    first = await zara.expect("✅")
    assert "09:30" in first.text
    told = await ivan.expect("👥")
    assert "Zara" in told.text

    later = FIRST_SLOT + 20 * MINUTE
    move = await services.meetings.reschedule(meeting.id, a, later)
    await services.meetings.accept(move.id, i)
    await run_due(bot, clock, clock.now())
    moved = await zara.expect("✅")
    assert "09:50" in moved.text  # the confirmation again, in Korean, at the new time
    assert [g.guest_id for g in await services.talk.guests([move.id])] == [z]
    assert await services.talk.guests([meeting.id]) == []


async def test_an_expired_request_and_a_past_meeting_end_the_thread_in_the_writers_language(
    api: FakeBotApi, bot: BotApplication, clock: ManualClock
) -> None:
    kim = api.user(671, "Kim", language_code="ko")
    li = api.user(672, "Li", language_code="zh")
    k = await registered(bot, kim, "ko", "김민준", "ko en", "kim@example.kr")
    lid = await registered(bot, li, "zh", "李伟", "zh en", "li@example.cn")
    services = services_of(bot)
    waiting = await services.meetings.request(k, lid, FIRST_SLOT)
    card = await li.expect("김민준")
    booked = await services.meetings.request(lid, k, FIRST_SLOT + 20 * MINUTE)
    await kim.expect("李伟")
    await services.meetings.accept(booked.id, k)
    confirmed = await li.expect("✅")
    await run_due(bot, clock, waiting.expires_at)
    await li.press(t("zh", MESSAGE), card)
    await api.settle()
    expired = "The request expired without an answer, so this conversation has ended."
    assert li.callback_answers[-1]["text"] == t("zh", expired)
    await run_due(bot, clock, booked.slot_end)
    await li.press(t("zh", MESSAGE), confirmed)
    await api.settle()
    past = "The meeting is over, so this conversation has ended."
    assert li.callback_answers[-1]["text"] == t("zh", past)
