"""Claiming an imported profile, as delegates experience it over the fake Bot API.

Expected texts come from the catalogs (the same translator the bot uses), so these tests check
that each message is in the right language whatever the current state of the translations.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import BotApplication
from bot.cli.organizers import run_import
from bot.config import Settings
from bot.domain.clock import ManualClock
from bot.domain.models import Delegate
from bot.i18n import I18n
from bot.sandbox.fake_api import FakeBotApi
from bot.services import Services
from tests.flows.conftest import flow_settings, start_bot, stop_bot

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "delegates_small.csv"
EVENT = "Nanjing Innovation Days"
I18N = I18n()

GREETING = (
    "Welcome, {name}! The organizers of {event} registered you, and this Telegram account "
    "is now linked to your profile."
)
USED_BY_ANOTHER = (
    "This link has already been used by another Telegram account, so it cannot be used again. "
    "If you think this is a mistake, please contact the organizers."
)
HAS_OWN_PROFILE = (
    "Your Telegram account already has a profile: {name}, {organization}. The link was not "
    "used. If the profile in the link is yours, delete your current profile with /delete_me "
    "and open the link again, or contact the organizers."
)
INVALID = (
    "This link is not valid: it may be incomplete or withdrawn. Please ask the organizers for "
    "your link, or send /start to register yourself."
)
ARE_YOU = (
    "The organizers of {event} registered a delegate with your Telegram username. "
    "Are you {name}, {organization}?"
)


CONSENT = (
    "May we show your profile to delegates who match your interests? "
    "Your contact stays hidden until you accept a meeting."
)


def said(locale: str, message: str, **params: Any) -> str:
    """A message as the bot renders it in a language (plain text, as the user reads it)."""
    return I18N.translator(locale).label(message, **params)


def exactly(text: str) -> str:
    return re.escape(text)


@pytest.fixture
async def settings(api: FakeBotApi, tmp_path: Path, clock: ManualClock) -> Settings:
    """Flow settings on a database the organizers imported the small fixture into."""
    settings = flow_settings(api, tmp_path / "flow.db")
    await run_import(
        settings, FIXTURE, FIXTURE.read_bytes(), links=None, notify=False, clock=clock
    )
    return settings


@pytest.fixture
async def bot(settings: Settings, clock: ManualClock) -> AsyncIterator[BotApplication]:
    app = await start_bot(settings, clock)
    yield app
    await stop_bot(app)


def services_of(app: BotApplication) -> Services:
    services: Services = app.bot_data["services"]
    return services


async def token_of(app: BotApplication, external_id: str) -> str:
    value = await services_of(app).db.fetchval(
        "SELECT claim_token FROM delegates WHERE external_id = ?", (external_id,)
    )
    assert isinstance(value, str)
    return value


async def bound(app: BotApplication, user_id: int) -> Delegate | None:
    return await services_of(app).delegates.by_telegram_user(user_id)


async def test_a_claim_link_binds_once_and_greets_in_the_profiles_language(
    api: FakeBotApi, bot: BotApplication
) -> None:
    token = await token_of(bot, "A1")  # Ivan Petrov, Russian profile
    ivan = api.user(201, "Ivan", language_code="en")
    await ivan.open_link(token)
    welcome = await ivan.expect(exactly(said("ru", GREETING, name="Ivan Petrov", event=EVENT)))
    assert said("ru", "Name: {name}", name="Ivan Petrov") in welcome.text
    assert (
        said("ru", "Organization: {organization}", organization="Tomsk Polytechnic University")
        in welcome.text
    )
    assert said("ru", "✏️ Name") in welcome.button_texts()
    delegate = await bound(bot, 201)
    assert delegate is not None and delegate.name == "Ivan Petrov" and delegate.chat_id == 201

    # The same link a second time, from someone else: refused in their language, nothing bound.
    other = api.user(202, "李", language_code="zh-hans")
    await other.open_link(token)
    await other.expect(exactly(said("zh", USED_BY_ANOTHER)))
    assert await bound(bot, 202) is None
    still = await bound(bot, 201)
    assert still is not None and still.id == delegate.id

    # Its owner opening it again is told it is theirs already.
    await ivan.open_link(token)
    await ivan.expect(exactly(said("ru", "This profile is already linked to your account.")))


async def test_a_chinese_profile_is_greeted_in_chinese(
    api: FakeBotApi, bot: BotApplication
) -> None:
    wang = api.user(211, "Wang", language_code="ko")
    await wang.open_link(await token_of(bot, "A2"))
    welcome = await wang.expect(exactly(said("zh", GREETING, name="王伟", event=EVENT)))
    assert said("zh", "Name: {name}", name="王伟") in welcome.text
    assert (
        said("zh", "Shown to matching delegates: {answer}", answer=said("zh", "yes"))
        in welcome.text
    )


async def test_a_profile_imported_without_consent_asks_for_it(
    api: FakeBotApi, bot: BotApplication
) -> None:
    olga = api.user(221, "Olga", language_code="ru")
    await olga.open_link(await token_of(bot, "A5"))
    welcome = await olga.expect(exactly(said("ru", GREETING, name="Olga Ivanova", event=EVENT)))
    assert (
        said("ru", "Shown to matching delegates: {answer}", answer=said("ru", "no"))
        in welcome.text
    )
    question = await olga.expect(exactly(said("ru", CONSENT)))
    await olga.press(said("ru", "Yes, show my profile"), question)
    await olga.expect(
        exactly(said("ru", "Shown to matching delegates: {answer}", answer=said("ru", "yes")))
    )
    delegate = await bound(bot, 221)
    assert delegate is not None and delegate.consent is True


async def test_an_account_with_its_own_profile_is_refused_and_the_link_stays_valid(
    api: FakeBotApi, bot: BotApplication, clock: ManualClock
) -> None:
    services = services_of(bot)
    own = await services.delegates.start_draft(231, 231)
    await services.delegates.update(
        own.id, locale="en", name="Own Name", organization="Own Org", registered_at=clock.now()
    )
    token = await token_of(bot, "A4")
    someone = api.user(231, "Someone", language_code="en")
    await someone.open_link(token)
    await someone.expect(
        exactly(said("en", HAS_OWN_PROFILE, name="Own Name", organization="Own Org"))
    )
    mine = await bound(bot, 231)
    assert mine is not None and mine.id == own.id

    anna = api.user(232, "Anna", language_code="en")
    await anna.open_link(token)
    await anna.expect(exactly(said("en", GREETING, name="Anna Smith", event=EVENT)))


async def test_an_unfinished_registration_gives_way_to_the_imported_profile(
    api: FakeBotApi, bot: BotApplication
) -> None:
    kim = api.user(241, "Kim", language_code="ko")
    await kim.send_text("/start")
    await kim.expect(EVENT)  # registration began: a draft exists
    await kim.open_link(await token_of(bot, "A3"))
    await kim.expect(exactly(said("ko", GREETING, name="Kim Minjun", event=EVENT)))
    delegate = await bound(bot, 241)
    assert delegate is not None and delegate.name == "Kim Minjun"


async def test_a_matching_username_is_asked_before_binding(
    api: FakeBotApi, bot: BotApplication
) -> None:
    anna = api.user(251, "Anna", language_code="ko", username="anna_h2")  # file: Anna_H2
    await anna.send_text("/start")
    question = await anna.expect(
        exactly(
            said(
                "ko", ARE_YOU, event=EVENT, name="Anna Smith", organization="Hydrogen Systems Ltd"
            )
        )
    )
    assert question.button_texts() == [
        said("ko", "Yes, that is me"),
        said("ko", "No, I am someone else"),
    ]
    assert await bound(bot, 251) is None  # nothing bound before the answer
    await anna.press(0, question)
    await anna.expect(exactly(said("en", GREETING, name="Anna Smith", event=EVENT)))
    delegate = await bound(bot, 251)
    assert delegate is not None and delegate.organization == "Hydrogen Systems Ltd"


async def test_no_goes_on_to_normal_registration_and_is_not_asked_again(
    api: FakeBotApi, bot: BotApplication
) -> None:
    impostor = api.user(261, "Ivan", language_code="ru", username="IVAN_PETROV")
    await impostor.send_text("/start")
    question = await impostor.expect(
        exactly(
            said(
                "ru", ARE_YOU, event=EVENT, name="Ivan Petrov",
                organization="Tomsk Polytechnic University",
            )
        )
    )  # fmt: skip
    await impostor.press(1, question)
    await impostor.expect(exactly(said("ru", "Please choose your language.")))
    draft = await bound(bot, 261)
    assert draft is not None and draft.name is None and not draft.is_registered
    await impostor.send_text("/start")
    again = await impostor.expect(
        exactly(said("ru", "Welcome back! Let us continue where you stopped."))
    )
    assert said("ru", "Yes, that is me") not in again.button_texts()
    # The imported profile is still there for its owner.
    target = await services_of(bot).claims.unclaimed_by_username("ivan_petrov")
    assert [t.external_id for t in target] == ["A1"]


async def test_a_forged_or_stale_yes_binds_nothing(api: FakeBotApi, bot: BotApplication) -> None:
    someone = api.user(271, "Someone", language_code="en", username="not_anna")
    await someone.send_text("/start")
    await someone.expect(EVENT)
    anna_id = (await services_of(bot).claims.unclaimed_by_username("anna_h2"))[0].delegate_id
    await someone.press_data(f"cl1:yes:{anna_id}")
    await api.settle()
    assert someone.callback_answers[-1].get("show_alert") is True
    draft = await bound(bot, 271)
    assert draft is not None and draft.id != anna_id


async def test_invalid_payloads_claim_nothing(api: FakeBotApi, bot: BotApplication) -> None:
    guest = api.user(281, "Guest", language_code="en")
    await guest.open_link("c_" + "A" * 32)
    await guest.expect(exactly(said("en", INVALID)))
    assert await bound(bot, 281) is None
    await guest.open_link("c_short!")
    await guest.expect(exactly(said("en", INVALID)))
    await guest.open_link("from-the-poster")  # not a claim: registration as usual
    await guest.expect(EVENT)
    assert await bound(bot, 281) is not None  # a draft, nothing claimed
    assert [
        t.external_id for t in await services_of(bot).claims.unclaimed_by_username("anna_h2")
    ] == ["A4"]


async def test_an_import_while_the_bot_runs_is_seen_without_a_restart(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    settings = flow_settings(api, tmp_path / "live.db")
    app = await start_bot(settings, clock)
    try:
        services = services_of(app)
        assert len(services.matching) == 0
        await run_import(
            settings, FIXTURE, FIXTURE.read_bytes(), links=None, notify=False, clock=clock
        )
        await services.delivery.dispatcher.run_due()  # the repeating due-work job
        assert len(services.matching) == 6
        anna = api.user(291, "Anna", language_code="en")
        await anna.open_link(await token_of(app, "A4"))
        await anna.expect(exactly(said("en", GREETING, name="Anna Smith", event=EVENT)))
    finally:
        await stop_bot(app)
