"""After a button step the message keeps the choice, and a typed label counts as the button.

Issue 17, item 5: pressing a button no longer removes the buttons silently; the message is
edited to show what was chosen under its question ("✅ Принято — …, Стол A1, Hall 3"), and typing
a button's exact label ("Готово", "تخطٍّ") while the bot expects a text is taken as pressing it.
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
from bot.i18n import Html
from bot.sandbox.fake_api import FakeBotApi
from tests.flows.conftest import flow_settings, start_bot, stop_bot
from tests.flows.items_kit import FIELDS, IP, OFFER_KIND, SAVED, TRL, name, question, seed, seen, t
from tests.flows.test_meetings import FIRST_SLOT, SCHEDULE, registered, services_of
from tests.flows.test_registration import QUESTIONS


@pytest.fixture
async def bot(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotApplication]:
    settings = flow_settings(api, tmp_path / "echoes.db")
    schedule = parse_schedule(SCHEDULE, zone=settings.timezone)
    app = await start_bot(dataclasses.replace(settings, schedule=schedule), clock)
    yield app
    await stop_bot(app)


@pytest.mark.parametrize(
    ("locale", "language", "country"), [("ru", "Русский", "Россия"), ("ar", "العربية", "مصر")]
)
async def test_registration_echoes_each_choice_and_takes_typed_labels(
    api: FakeBotApi, bot: BotApplication, locale: str, language: str, country: str
) -> None:
    name_q, org_q, country_q, role_q, lang_q, contact_q, consent_q, done_q = QUESTIONS[locale]
    user = api.user(1401, "Guest", language_code=locale)
    await user.send_text("/start")
    await user.press(language, await user.expect("Nanjing Innovation Days"))
    chosen = "✅ " + t(locale, "Interface language: {language}", language=language)
    welcome = await user.expect(re.escape(chosen))
    assert welcome.edited and welcome.buttons == []
    await user.expect(name_q)
    await user.send_text("Guest")
    await user.expect(org_q)
    await user.send_text("Org")
    await user.expect(country_q)
    await user.send_text(country)
    university = t(locale, "University")
    await user.press(university, await user.expect(role_q))
    role = await user.expect(re.escape("✅ " + university))
    assert role.edited and role.buttons == [] and role_q in role.text
    # Typed, not pressed: the exact labels of "Done", "Skip" and "Yes, show my profile".
    await user.expect(lang_q)
    await user.send_text(t(locale, "Done"))
    await user.expect(contact_q)
    await user.send_text(t(locale, "Skip"))
    await user.expect(consent_q)
    await user.send_text(t(locale, "Yes, show my profile"))
    done = await user.expect(done_q)
    summary = t(locale, "Shown to matching delegates: {answer}", answer=Html(t(locale, "yes")))
    assert summary in done.text
    assert t(locale, "Contact: {contact}", contact=Html(t(locale, "not given"))) in done.text


@pytest.mark.parametrize(
    ("locale", "table"), [("ru", "Стол A1, Hall 3"), ("ar", "الطاولة A1، Hall 3")]
)
async def test_an_accepted_request_keeps_when_and_where_under_it(
    api: FakeBotApi, bot: BotApplication, locale: str, table: str
) -> None:
    anna = api.user(1411, "Anna", language_code="en")
    host = api.user(1412, "Host", language_code=locale)
    anna_id = await registered(bot, anna, "en", "Anna", "en ru ar", "anna@tpu.ru")
    host_id = await registered(bot, host, locale, "Host", "en ru ar", "h@example.com")
    services = services_of(bot)
    await services.meetings.request(anna_id, host_id, FIRST_SLOT, note="Batteries")
    request = await host.expect("Batteries")
    await host.press(0, request)  # Accept
    accepted = t(locale, "✅ Accepted — {when}, {table}", when="§", table="§").split("§")[0]
    echoed = await host.expect(re.escape(accepted))
    assert echoed.edited and echoed.buttons == [] and "Batteries" in echoed.text
    isolates_aside = re.sub("[\u2066-\u2069]", "", echoed.text)
    assert table in isolates_aside and "09:30" in isolates_aside
    assert echoed.text.index(accepted) > echoed.text.index("Batteries")


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("ru", "Мембранные биореакторы для очистки сточных вод текстильных предприятий"),
        ("ar", "مفاعلات حيوية غشائية لمعالجة مياه الصرف الصناعي في مصانع النسيج"),
    ],
)
async def test_an_offer_is_described_with_typed_labels_and_each_choice_echoed(
    api: FakeBotApi, bot: BotApplication, locale: str, text: str
) -> None:
    user = api.user(1421, "Olga", language_code=locale)
    await seed(bot, user, name="Olga", organization="Lab", country="EG", locale=locale)
    await user.send_text("/offer")
    await user.expect(question(locale, "offer"))
    await user.send_text(text)
    await user.expect(seen(locale, OFFER_KIND))
    # The kind typed exactly as its button reads; the question keeps the answer under it.
    await user.send_text(name("licence", locale))
    trl = await user.expect(seen(locale, TRL))
    await user.press("6", trl)
    echoed = await user.expect(re.escape("✅ 6"))
    assert echoed.edited and echoed.buttons == [] and echoed.message_id == trl.message_id
    await user.expect(seen(locale, IP))
    await user.send_text(t(locale, "Patent granted"))
    await user.expect(seen(locale, FIELDS))
    await user.send_text(t(locale, "💾 Save"))
    saved = await user.expect(seen(locale, SAVED))
    assert name("licence", locale) in saved.text
    assert t(locale, "Maturity: TRL {trl}", trl=6) in saved.text
    assert t(locale, "Patent: {status}", status=t(locale, "Patent granted")) in saved.text


@pytest.mark.parametrize("locale", ["ar", "ru"])
async def test_the_announcement_prompt_takes_its_buttons_typed(
    api: FakeBotApi, bot: BotApplication, locale: str
) -> None:
    organizer = api.user(900, "Olga", language_code=locale)
    await organizer.send_text("/broadcast")
    prompt = await organizer.expect(re.escape(t(locale, "📢 <b>New announcement</b>")))
    assert any("English" in label for label in prompt.button_texts())
    # "English", typed while the prompt waits for the text: the first version is in English.
    await organizer.send_text("English")
    english = await organizer.expect(re.escape(t(locale, "📢 <b>New announcement</b>")))
    assert english.message_id != prompt.message_id
    assert "(English)" in re.sub("[\u2066-\u2069]", "", english.text)
    await organizer.send_text(t(locale, "✖️ Discard"))
    await organizer.expect(re.escape(t(locale, "The announcement was discarded.")))
    assert await services_of(bot).broadcasts.draft(900) is None
