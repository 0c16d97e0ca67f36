"""Forged and odd button presses: every one is answered, none makes the bot fail."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import BotApplication
from bot.domain.clock import ManualClock
from bot.domain.scheduling import parse_schedule
from bot.i18n import I18n
from bot.sandbox.fake_api import FakeBotApi, FakeUser
from handlers import claim, matches, meetings, offers, profile, programme, registration
from handlers.organizer import broadcast, control, desk
from tests.flows.broadcast_kit import ORGANIZER, seed, services_of
from tests.flows.conftest import flow_settings, start_bot, stop_bot
from tests.flows.test_delivery import wait_until
from tests.flows.test_meetings import FIRST_SLOT, SCHEDULE

# Every namespace and the actions it knows.
FEATURES: tuple[tuple[str, frozenset[str]], ...] = (
    (broadcast.NS, frozenset(broadcast.ACTIONS)),
    (claim.NS, frozenset(claim.ACTIONS)),
    (control.NS, frozenset(control.ACTIONS)),
    (desk.NS, frozenset(desk.ACTIONS)),
    (matches.NS, frozenset(matches.ACTIONS)),
    (meetings.NS, frozenset(meetings.ACTIONS)),
    (offers.NS, frozenset({"new", "list", *offers.ITEM_ACTIONS})),
    (profile.NS, frozenset(profile.ACTIONS)),
    (programme.NS, frozenset(programme.ACTIONS)),
    (registration.NS, frozenset(registration.ACTIONS)),
)
# Past SQLite's largest integer (2**63 - 1), alone and beside a small one.
HUGE = "99999999999999999999"
APOLOGY = I18n().translator("ru")._("Sorry, something went wrong. Please try again.")


@pytest.fixture
async def bot(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotApplication]:
    """A running bot whose event has meeting slots."""
    settings = flow_settings(api, tmp_path / "forged.db")
    schedule = parse_schedule(SCHEDULE, zone=settings.timezone)
    app = await start_bot(dataclasses.replace(settings, schedule=schedule), clock)
    yield app
    await stop_bot(app)


async def press_each(
    api: FakeBotApi,
    user: FakeUser,
    features: tuple[tuple[str, frozenset[str]], ...],
    args: tuple[str, ...],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Press every action of every feature with each argument: answered once, no failure."""
    for namespace, actions in features:
        for action in sorted(actions):
            for arg in args:
                data = f"{namespace}1:{action}:{arg}"
                answers = len(user.callback_answers)
                caplog.clear()
                with caplog.at_level(logging.ERROR):
                    await user.press_data(data)
                    await wait_until(
                        lambda: len(user.callback_answers) > answers,  # noqa: B023
                        within=10,
                        what=f"an answer to {data}",
                    )
                    await api.settle()
                failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
                assert failures == [], f"{data}: {failures[0].exc_text}"
                assert len(user.callback_answers) == answers + 1, f"{data} answered twice"
                assert all(APOLOGY not in m.text for m in user.messages), data


async def test_callback_data_with_integers_too_large_for_sqlite_is_refused_politely(
    api: FakeBotApi, bot: BotApplication, caplog: pytest.LogCaptureFixture
) -> None:
    user = await seed(api, bot, ORGANIZER, locale="ru")
    await user.send_text("/help")
    await api.settle()
    # Too large for SQLite; and within its range but far past any list or id.
    args = (HUGE, f"1-{HUGE}", f"{HUGE[:18]}-{HUGE[:18]}")
    await press_each(api, user, FEATURES, args, caplog)


async def test_a_real_meeting_with_a_forged_slot_or_table_is_refused_politely(
    api: FakeBotApi, bot: BotApplication, caplog: pytest.LogCaptureFixture
) -> None:
    user = await seed(api, bot, ORGANIZER, locale="ru")
    other = await seed(api, bot, 4201, locale="ru")
    services = services_of(bot)
    mine = await services.delegates.by_telegram_user(user.user_id)
    theirs = await services.delegates.by_telegram_user(other.user_id)
    assert mine is not None and theirs is not None
    meeting = await services.meetings.request(theirs.id, mine.id, FIRST_SLOT)
    await services.meetings.accept(meeting.id, mine.id)
    await user.send_text("/agenda")
    await user.next_event(timeout=10)
    await api.settle()
    args = (f"{meeting.id}-{HUGE[:18]}", f"{meeting.id}-{HUGE}", f"{meeting.id}")
    chosen = tuple(f for f in FEATURES if f[0] in (meetings.NS, control.NS))
    await press_each(api, user, chosen, args, caplog)


async def test_commands_with_numbers_too_large_for_sqlite_are_answered(
    api: FakeBotApi, bot: BotApplication, caplog: pytest.LogCaptureFixture
) -> None:
    user = await seed(api, bot, ORGANIZER, locale="ru")
    texts = (f"/merge {HUGE} {HUGE}", f"/merge #1 #{HUGE}", f"/find #{HUGE}", f"/start {HUGE}")
    for text in texts:
        before = len(user.messages)
        with caplog.at_level(logging.ERROR):
            await user.send_text(text)
            await user.next_event(timeout=10)
            await api.settle()
        assert [r for r in caplog.records if r.levelno >= logging.ERROR] == [], text
        assert all(APOLOGY not in m.text for m in user.messages[before:]), text


async def test_a_press_carrying_only_an_inline_message_id_is_answered(
    api: FakeBotApi, bot: BotApplication, caplog: pytest.LogCaptureFixture
) -> None:
    user = await seed(api, bot, 4202, locale="ru")
    stranger = api.user(4203, "Stranger", language_code="ko")
    for who, language in ((user, "ru"), (stranger, "ko")):
        tr = I18n().translator(language)
        expected = tr.label("This button is no longer active. Please use the latest message.")
        # Each feature routes all its actions to one handler: one action each tries them all.
        for namespace, actions in FEATURES:
            data = f"{namespace}1:{min(actions)}:1"
            answers = len(who.callback_answers)
            with caplog.at_level(logging.ERROR):
                api.push_inline_callback_query(who, data)
                await wait_until(
                    lambda: len(who.callback_answers) > answers,  # noqa: B023
                    within=10,
                    what=f"an answer to {data}",
                )
                await api.settle()
            assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
            assert len(who.callback_answers) == answers + 1, data
            assert who.callback_answers[-1]["text"] == expected
    assert user.messages == [] and stranger.messages == []
