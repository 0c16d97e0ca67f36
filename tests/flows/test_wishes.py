"""Wishes on match cards, /wishes, and the auto-scheduler's proposals confirmed in chat,
over the fake Bot API, in all five languages."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import BotApplication
from bot.domain.autoschedule import Priority
from bot.domain.clock import ManualClock
from bot.domain.meetings import MeetingState
from bot.domain.scheduling import parse_schedule
from bot.formats.schedules import schedule_rows
from bot.sandbox.fake_api import FakeBotApi
from bot.services.autoschedule import AutoScheduler
from storage.wishes import WishRepository
from tests.flows.conftest import flow_settings, start_bot, stop_bot
from tests.flows.items_kit import seen, services_of, t
from tests.flows.test_matches import NEW_MATCH, OLGA, russian_and_chinese
from tests.flows.test_meetings import SCHEDULE, registered

PROPOSAL = (
    "📅 <b>The organizers propose a meeting</b> with {name} on {when}, at {table}. "
    "{name} would like to meet you."
)
PROPOSED = (
    "📅 The organizers propose a meeting with {name} on {when}, at {table}, as you wished. "
    "I asked {name} to confirm and will tell you the answer."
)
NONE_YET = (
    "You have not marked anyone yet. On a card in /matches, tap ⭐ Must meet, 👍 Would like to "
    "or 🚫 Not interested. The organizers build the meeting schedule from these marks; nobody "
    "is told until a meeting is proposed."
)
MUST = "⭐ Must meet"
MAYBE = "👍 Would like to"
NOT_INTERESTED = "🚫 Not interested"


@pytest.fixture
async def bot(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotApplication]:
    settings = flow_settings(api, tmp_path / "wishes.db")
    schedule = parse_schedule({**SCHEDULE, "interpreters": {"ru": 1}}, zone=settings.timezone)
    app = await start_bot(dataclasses.replace(settings, schedule=schedule), clock)
    yield app
    await stop_bot(app)


def before_name(locale: str, msgid: str) -> str:
    """The sentence as the delegate reads it, up to the counterpart's name, as a pattern."""
    text = t(locale, msgid, name="NAMEHERE", when="WHEN", table="TABLE")
    # Names are bidi-isolated, once as the name and once as part of "name (organization)".
    return re.escape(text.split("NAMEHERE")[0].rstrip("\u2068")) + "\u2068*"


def scheduler(app: BotApplication) -> AutoScheduler:
    services = services_of(app)
    schedule = services.settings.schedule
    return AutoScheduler(
        services.db, services.clock, schedule, services.meetings,
        interpreters=dict(schedule.interpreters),
    )  # fmt: skip


async def test_wishes_on_cards_and_wishes_list_in_russian_and_chinese(
    api: FakeBotApi, bot: BotApplication
) -> None:
    university, plant = await russian_and_chinese(api)
    await plant.expect(seen("zh", NEW_MATCH))
    await university.expect(seen("ru", NEW_MATCH))
    await university.send_text("/wishes")
    await university.expect(seen("ru", NONE_YET))

    await university.send_text("/matches")
    card = await university.expect("王芳")
    assert t("ru", MUST) in card.button_texts()
    assert t("ru", MAYBE) in card.button_texts() and t("ru", NOT_INTERESTED) in card.button_texts()
    plant.drain_events()
    await university.press(t("ru", MUST), card)
    card = await university.expect("王芳")
    assert card.edited and "✓ " + t("ru", MUST) in card.button_texts()
    saved = t("ru", "Saved: you must meet {name}. They are not told.", name="王芳")
    assert university.callback_answers[-1]["text"] == saved

    # Changeable: "would like to" replaces "must"; a second tap clears it.
    await university.press(t("ru", MAYBE), card)
    card = await university.expect("王芳")
    assert "✓ " + t("ru", MAYBE) in card.button_texts()
    assert t("ru", MUST) in card.button_texts()
    await university.press("✓ " + t("ru", MAYBE), card)
    card = await university.expect("王芳")
    assert not any(b.startswith("✓") for b in card.button_texts())
    cleared = t("ru", "Your mark for {name} is cleared.", name="王芳")
    assert university.callback_answers[-1]["text"] == cleared
    await university.press(t("ru", MUST), card)
    await university.expect("王芳")

    await plant.send_text("/matches")
    card = await plant.expect(OLGA)
    await plant.press(t("zh", NOT_INTERESTED), card)
    await plant.expect(OLGA)
    no = t("zh", "Saved: no meeting with {name} will be proposed.", name=OLGA)
    assert plant.callback_answers[-1]["text"] == no

    await university.send_text("/wishes")
    listed = await university.expect(seen("ru", "<b>Your marks</b>"))
    assert t("ru", MUST) in listed.text and "王芳" in listed.text
    assert t("ru", MAYBE) not in listed.text
    await plant.send_text("/wishes")
    listed = await plant.expect(seen("zh", "<b>Your marks</b>"))
    assert t("zh", NOT_INTERESTED) in listed.text and OLGA in listed.text

    # Nobody was told about anybody's mark.
    await api.settle()
    assert not any("王芳" in e.text and "✓" not in e.text and e.text.startswith("⭐")
                   for e in plant.drain_events())  # fmt: skip
    services = services_of(bot)
    uni = await services.delegates.by_telegram_user(university.user_id)
    zh = await services.delegates.by_telegram_user(plant.user_id)
    assert uni is not None and zh is not None
    repo = WishRepository(services.db, services.clock)
    assert await repo.get(uni.id, zh.id) is Priority.MUST
    assert await repo.get(zh.id, uni.id) is Priority.NO
    # "Not interested" on either side: the scheduler never pairs them.
    plan = await scheduler(bot).plan(seconds=2)
    assert plan.meetings == () and plan.summary.wishes_must == 1

    # A forged wish button is refused.
    await university.press_data("mt1:w:999999-m-0", card)
    await api.settle()
    assert university.callback_answers[-1].get("show_alert") is True


async def test_published_proposals_reserve_and_are_answered_in_five_languages(
    api: FakeBotApi, bot: BotApplication, clock: ManualClock
) -> None:
    anna = api.user(501, "Anna", language_code="en")
    ivan = api.user(502, "Иван", language_code="ru")
    li = api.user(503, "Li", language_code="zh")
    kim = api.user(504, "Kim", language_code="ko")
    layla = api.user(505, "Layla", language_code="ar")
    mallory = api.user(506, "Mallory", language_code="en")
    a = await registered(bot, anna, "en", "Anna", "en ru", "anna@example.com")
    i = await registered(bot, ivan, "ru", "Иван", "ru", "+7 900 000 00 00", country="RU")
    z = await registered(bot, li, "zh", "李", "zh en", "li@example.com")
    k = await registered(bot, kim, "ko", "김", "ko en", "kim@example.com", country="KR")
    r = await registered(bot, layla, "ar", "ليلى", "ar en", "layla@example.com", country="EG")
    m = await registered(bot, mallory, "en", "Mallory", "en ru", "m@example.com")
    services = services_of(bot)
    wishes = WishRepository(services.db, services.clock)
    await wishes.set(a, i, Priority.MUST)  # Anna asks; Ivan confirms in Russian
    await wishes.set(z, a, Priority.MUST)  # Li asks; Anna confirms in English
    await wishes.set(k, r, Priority.MAYBE)  # Kim asks; Layla confirms (or not) in Arabic

    auto = scheduler(bot)
    plan = await auto.plan(seconds=5)
    assert plan.summary.must_scheduled == 2 and plan.summary.maybe_scheduled == 1
    assert plan.gap == pytest.approx(0.0)
    assert await auto.publish(plan) == 3

    proposal_ru = await ivan.expect(before_name("ru", PROPOSAL) + "Anna")
    assert t("ru", "✅ Accept") in proposal_ru.button_texts()
    assert t("ru", "🕒 Propose another time") in proposal_ru.button_texts()
    assert "anna@example.com" not in proposal_ru.text  # contacts only after accepting
    await anna.expect(before_name("en", PROPOSED) + "Иван")
    proposal_en = await anna.expect(before_name("en", PROPOSAL) + "李")
    await li.expect(before_name("zh", PROPOSED) + "Anna")
    await kim.expect(before_name("ko", PROPOSED) + "ليلى")
    proposal_ar = await layla.expect(before_name("ar", PROPOSAL) + "김")
    assert t("ar", "Decline") in proposal_ar.button_texts()

    # The reservation: nobody can book Ivan, or the proposal's table, in that slot meanwhile.
    by_pair = {frozenset(x.participants): x for x in await services.meetings.repo.scheduled()}
    anna_ivan = by_pair[frozenset((a, i))]
    kim_layla = by_pair[frozenset((k, r))]
    assert anna_ivan.proposed and anna_ivan.table is not None
    assert anna_ivan.state is MeetingState.REQUESTED
    free = await services.meetings.free_slots_for([m, i], limit=None)
    assert anna_ivan.slot_start not in {s.start for s in free}
    taken = await services.meetings.repo.tables_taken(anna_ivan.slot_start)
    assert anna_ivan.table in taken

    # Ivan accepts: the meeting is booked at the reserved table and both get the contacts.
    await ivan.press(t("ru", "✅ Accept"), proposal_ru)
    confirmed = await anna.expect("Meeting confirmed")
    assert "+7 900 000-00-00" in confirmed.text and anna_ivan.table in confirmed.text
    await ivan.expect(seen("ru", "✅ <b>Meeting confirmed</b>"))
    booked = await services.meetings.get(anna_ivan.id)
    assert booked is not None and booked.state is MeetingState.ACCEPTED
    assert booked.table == anna_ivan.table

    # Layla declines: Kim is told in Korean, and the slot is free again for both.
    await layla.press(t("ar", "Decline"), proposal_ar)
    await kim.expect(before_name("ko", "{name} declined your meeting request for {when}."))
    assert kim_layla.slot_start not in await services.meetings.repo.busy([k, r])
    assert kim_layla.table not in await services.meetings.repo.tables_taken(kim_layla.slot_start)

    # export-schedule lists the proposal beside the accepted meeting; the next run proposes
    # nothing again to the pair who declined, nor to those already meeting.
    rows = schedule_rows(
        await services.meetings.repo.scheduled(),
        {p: await services.meetings.party(p) for p in (a, i, z)},
        services.settings.schedule,
    )
    statuses = {(row.delegate, row.counterpart, row.status) for row in rows if row.view == "table"}
    assert statuses == {("Anna", "Иван", "accepted"), ("李", "Anna", "proposed")}
    again = await auto.plan(seconds=2)
    assert again.meetings == ()
    assert again.summary.must_scheduled == 2 and again.summary.maybe_scheduled == 0

    # Anna answers Li with another time: the reserved table and slot are released at once.
    li_anna = by_pair[frozenset((z, a))]
    await anna.press(t("en", "🕒 Propose another time"), proposal_en)
    choice = await anna.expect("Which time would suit you better?")
    await anna.press(0, choice)
    await anna.expect("✉️")
    await li.expect(before_name("zh", "<b>{name} proposes another time:</b> {when}.") + "Anna")
    old = await services.meetings.get(li_anna.id)
    assert old is not None and old.state is MeetingState.RESCHEDULED
    assert li_anna.slot_start not in await services.meetings.repo.busy([z])
    assert li_anna.table not in await services.meetings.repo.tables_taken(li_anna.slot_start)
