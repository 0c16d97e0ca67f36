"""The longest message Telegram lets a user send, at every text step and after every command.

Every answer must reach the user (the fake Bot API refuses a text past 4,096 UTF-16 code units
after entity parsing, as Telegram does) and be in the user's language, never the apology for
a failure.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import BotApplication
from bot.domain.clock import ManualClock
from bot.domain.scheduling import parse_schedule
from bot.i18n import I18n
from bot.sandbox.fake_api import BotMessage, FakeBotApi, FakeUser
from handlers.fallback import COMMANDS, ORGANIZER_COMMANDS
from handlers.organizer.broadcast import MAX_TEXT
from tests.flows.broadcast_kit import ORGANIZER, seed
from tests.flows.conftest import flow_settings, start_bot, stop_bot
from tests.flows.test_delivery import wait_until
from tests.flows.test_meetings import SCHEDULE, registered, token_in
from tests.flows.test_registration import QUESTIONS

LIMIT = 4096
# Characters that grow when escaped for HTML, or take two UTF-16 code units, or neither.
MIXED = "a<&é😀 "
# Half as many characters as code units: a limit counted in characters lets twice as many in.
ASTRAL = "😀"
CYRILLIC = re.compile("[А-Яа-яЁё]")
APOLOGY = I18n().translator("ru")._("Sorry, something went wrong. Please try again.")


@pytest.fixture
async def bot(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotApplication]:
    """A running bot whose event has meeting slots."""
    settings = flow_settings(api, tmp_path / "long.db")
    schedule = parse_schedule(SCHEDULE, zone=settings.timezone)
    app = await start_bot(dataclasses.replace(settings, schedule=schedule), clock)
    yield app
    await stop_bot(app)


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def longest(prefix: str = "", piece: str = MIXED, limit: int = LIMIT) -> str:
    """`prefix` followed by filler, exactly as long as Telegram allows a message to be."""
    text = prefix
    while units(text) + units(piece) <= limit:
        text += piece
    return text + "x" * (limit - units(text))


async def answered(api: FakeBotApi, user: FakeUser, text: str, what: str) -> list[BotMessage]:
    """Send `text`; the bot answers it, in Russian, and every call it made was accepted."""
    before = len(user.messages)
    await user.send_text(text)
    await wait_until(
        lambda: len(user.messages) > before or bool(api.rejected), within=10, what=what
    )
    await api.settle()
    new = user.messages[before:]
    assert api.rejected == [], f"{what}: {api.rejected[0].error}"
    assert new, f"{what}: no answer"
    assert all(APOLOGY not in m.text for m in new), f"{what}: {new[-1].text[:300]}"
    assert any(CYRILLIC.search(m.text) for m in new), f"{what}: {new[-1].text[:300]}"
    return new


async def test_every_registration_step_answers_the_longest_text(
    api: FakeBotApi, bot: BotApplication
) -> None:
    name_q, org_q, country_q, role_q, lang_q, contact_q, consent_q, done = QUESTIONS["ru"]
    user = api.user(4101, "Long", language_code="ru")
    await answered(api, user, longest(), "before /start")
    await user.send_text("/start")
    await user.press("Русский", await user.expect("Nanjing Innovation Days"))
    await user.expect(name_q)
    await answered(api, user, longest(), "name")
    await user.send_text("Анна")
    await user.expect(org_q)
    await answered(api, user, longest(), "organization")
    await user.send_text("Лаборатория")
    await user.expect(country_q)
    await answered(api, user, longest(), "country")
    await user.send_text("Китай")
    roles = await user.expect(role_q)
    await answered(api, user, longest(), "role")
    await user.press(0, roles)
    languages = await user.expect(lang_q)
    await answered(api, user, longest(), "meeting languages")
    await user.press(-1, languages)
    contact = await user.expect(contact_q)
    await answered(api, user, longest(), "contact")
    await user.press(0, contact)
    consent = await user.expect(consent_q)
    await answered(api, user, longest(), "consent")
    await user.press(0, consent)
    await user.expect(done)
    await answered(api, user, longest(), "registered")
    # Editing a field from the profile asks the same questions again.
    for field in ("name", "organization", "country", "contact"):
        await user.send_text("/profile")
        profile = await user.expect("Анна")
        await user.press_data(f"r1:edit:{field}", profile)
        await api.settle()
        await answered(api, user, longest(), f"editing the {field}")


async def test_every_command_answers_the_longest_argument(
    api: FakeBotApi, bot: BotApplication
) -> None:
    user = await seed(api, bot, 4102, locale="ru")
    for command, _ in COMMANDS:
        await answered(api, user, longest(f"/{command} "), f"/{command}")
    await answered(api, user, longest("/organizer "), "/organizer")
    await answered(api, user, longest("/"), "an unknown command")
    organizer = await seed(api, bot, ORGANIZER, locale="ru")
    for command, _ in ORGANIZER_COMMANDS:
        for piece in (MIXED, ASTRAL):
            await answered(api, organizer, longest(f"/{command} ", piece), f"/{command}")
            # Leave a wizard the command may have opened.
            await organizer.send_text("/help")
            await api.settle()


async def test_item_text_and_meeting_note_answer_the_longest_text(
    api: FakeBotApi, bot: BotApplication
) -> None:
    user = await seed(api, bot, 4103, locale="ru")
    for command in ("/offer", "/need"):
        await user.send_text(command)
        await api.settle()
        await answered(api, user, longest(), f"the text of {command}")
        await user.send_text("/help")
        await api.settle()
    anna = api.user(4104, "Anna", language_code="ru")
    ivan = api.user(4105, "Иван", language_code="ru")
    await registered(bot, anna, "ru", "Анна", "ru", "anna@example.org")
    await registered(bot, ivan, "ru", "Иван", "ru", "ivan@example.org")
    await ivan.send_text("/badge")
    token = token_in((await ivan.expect("t.me/")).text)
    await anna.open_link(token)
    await anna.press(0, await anna.expect("Запись на встречу"))
    await anna.expect("Запросить встречу")
    await answered(api, anna, longest(), "a meeting request's note")


async def test_the_broadcast_wizard_answers_the_longest_text(
    api: FakeBotApi, bot: BotApplication
) -> None:
    organizer = await seed(api, bot, ORGANIZER, locale="ru")
    for piece in (MIXED, ASTRAL):
        await organizer.send_text("/broadcast")
        await api.settle()
        refusal = await answered(api, organizer, longest(piece=piece), f"{piece!r} too long")
        assert f"{MAX_TEXT}" in refusal[-1].text
        # The longest text the step takes: the preview shows it under the header, as the
        # delegates will get it.
        menu = await answered(api, organizer, longest(piece=piece, limit=MAX_TEXT), "longest")
        assert "📢" in menu[-1].text
        organizer.drain_events()
        await organizer.press(-2, menu[-1])  # keep one text for all
        await organizer.press(0, await organizer.expect("Кому отправить"))  # everyone
        await api.settle()
        assert api.rejected == [], api.rejected[0].error
        assert any("От организаторов" in m.text for m in organizer.messages[-3:])
        assert all(APOLOGY not in m.text for m in organizer.messages)
        await organizer.send_text("/help")
