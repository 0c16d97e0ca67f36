"""Registration as a delegate experiences it, over the fake Bot API."""

from __future__ import annotations

from pathlib import Path

from bot.app import BotApplication
from bot.domain.clock import ManualClock
from bot.sandbox.fake_api import FakeBotApi, FakeUser
from tests.flows.conftest import flow_settings, start_bot, stop_bot


async def register(user: FakeUser, *, language: str, name: str, organization: str,
                   country: str, role: str | int) -> None:
    """Walk through registration pressing the first meeting language and skipping contact."""
    await user.send_text("/start")
    await user.expect("")
    await user.press(language)
    await user.expect("")
    await user.send_text(name)
    await user.expect("")
    await user.send_text(organization)
    await user.expect("")
    await user.send_text(country)
    await user.expect("")
    await user.press(role)
    await user.expect("")
    await user.press(-1)  # Done
    await user.expect("")
    await user.press(0)  # Skip contact
    await user.expect("")
    await user.press(0)  # Yes, show my profile
    await user.expect("")


async def test_english_registration_end_to_end(api: FakeBotApi, bot: BotApplication) -> None:
    user = api.user(101, "Anna", language_code="en")
    await user.send_text("/start")
    welcome = await user.expect("Welcome to the matchmaking of Nanjing Innovation Days")
    assert "Please choose your language." in welcome.text
    assert welcome.button_texts() == ["✅ English", "中文", "Русский", "한국어", "العربية"]
    await user.press("English")
    await user.expect("What is your name")
    await user.send_text("Anna <b>Smith</b> & Co")
    await user.expect("Which organization")
    await user.send_text("Tomsk Polytechnic University")
    country = await user.expect("Which country are you from")
    assert "🇷🇺 Russia" in country.button_texts()
    await user.send_text("Россия")
    role = await user.expect("What kind of organization")
    assert role.button_texts() == ["Company", "University", "Research institute", "Investor",
                                   "Tech-transfer agency", "Government body"]
    await user.press("University")
    languages = await user.expect("In which languages can you hold a meeting")
    assert "✅ English" in languages.button_texts()
    await user.press("▫️ Russian")
    toggled = await user.expect("In which languages")
    assert toggled.edited and "✅ Russian" in toggled.button_texts()
    await user.press("Done")
    await user.expect("phone number or e-mail")
    await user.send_text("anna@tpu.ru")
    await user.expect("May we show your profile")
    await user.press("Yes, show my profile")
    done = await user.expect("Your registration is complete")
    assert "Thank you, Anna <b>Smith</b> & Co!" in done.text
    assert "&lt;b&gt;" in (done.html or "")
    assert "Country: 🇷🇺 Russia" in done.text
    assert "Meeting languages: English, Russian" in done.text
    assert "Contact: anna@tpu.ru" in done.text
    assert "Shown to matching delegates: yes" in done.text
    assert "✏️ Name" in done.button_texts()


async def test_russian_registration_from_telegram_language(
    api: FakeBotApi, bot: BotApplication
) -> None:
    user = api.user(102, "Иван", language_code="ru")
    await user.send_text("/start")
    welcome = await user.expect("Nanjing Innovation Days")
    assert "✅ Русский" in welcome.button_texts()
    await user.press("Русский")
    await user.expect("")
    await user.send_text("Иван Петров")
    await user.expect("")
    await user.send_text("ТПУ")
    await user.expect("")
    await user.send_text("китай")
    await user.expect("")
    await user.press(0)
    await user.expect("")
    await user.press(-1)
    await user.expect("")
    await user.press(0)
    await user.expect("")
    await user.press(0)
    done = await user.expect("Иван Петров")
    assert "🇨🇳 Китай" in done.text
    assert "русский" in done.text.lower()


async def test_chinese_traditional_falls_back_to_simplified(
    api: FakeBotApi, bot: BotApplication
) -> None:
    user = api.user(103, "陳", language_code="zh-hant")
    await user.send_text("/start")
    welcome = await user.expect("")
    assert "✅ 中文" in welcome.button_texts()


async def test_bad_input_is_explained_and_the_step_asked_again(
    api: FakeBotApi, bot: BotApplication
) -> None:
    user = api.user(104, "Eve", language_code="en")
    await user.send_text("/start")
    await user.expect("")
    await user.press("English")
    await user.expect("What is your name")
    await user.send_text("x" * 4096)
    reply = await user.expect("too long")
    assert "80 characters" in reply.text and "What is your name" in reply.text
    await user.send_sticker()
    reply = await user.expect("only read text")
    assert "What is your name" in reply.text
    await user.send_photo()
    await user.expect("What is your name")
    await user.send_text("🚀🚀🚀")
    await user.expect("letters or digits")
    await user.send_text("/nonsense")
    await user.expect("do not know that command")
    await user.send_text("Eve")
    await user.expect("Which organization")
    await user.send_text("Acme")
    await user.expect("Which country")
    await user.send_text("Atlantis")
    reply = await user.expect("do not know that country")
    assert "Which country" in reply.text
    await user.send_text("Korea")
    await user.expect("What kind of organization")
    await user.send_text("investor")
    await user.expect("Please use the buttons")


async def test_stale_and_forged_buttons_change_nothing(
    api: FakeBotApi, bot: BotApplication
) -> None:
    user = api.user(105, "Mallory", language_code="en")
    await user.send_text("/start")
    language_question = await user.expect("choose your language")
    await user.press("English")
    await user.expect("What is your name")
    # The old language message lost its buttons; a forged press on it is refused.
    assert language_question.buttons == [] or user.messages[0].buttons == []
    await user.press_data("r1:lang:ru", language_question)
    await api.settle()
    assert "no longer active" in user.callback_answers[-1].get("text", "")
    await user.press_data("r1:role:investor", language_question)
    await user.press_data("zz9:hack:1", language_question)
    await user.press_data("r1:edit:name", language_question)
    await api.settle()
    assert all("no longer active" in a.get("text", "") for a in user.callback_answers[-3:])
    await user.send_text("Mallory")
    await user.expect("Which organization")


async def test_restart_mid_registration_continues_where_it_stopped(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    settings = flow_settings(api, tmp_path / "restart.db")
    app = await start_bot(settings, clock)
    user = api.user(106, "Li", language_code="zh")
    await user.send_text("/start")
    await user.expect("")
    await user.press("中文")
    await user.expect("")
    await user.send_text("李明")
    await user.expect("")
    await stop_bot(app)

    app = await start_bot(settings, clock)
    try:
        await user.send_text("/start")
        resumed = await user.expect("")
        assert "Which organization" not in resumed.text  # it is Chinese
        await user.send_text("南京大学")
        country = await user.expect("")
        assert "🇨🇳" in " ".join(country.button_texts())
    finally:
        await stop_bot(app)


async def test_profile_language_and_delete(api: FakeBotApi, bot: BotApplication) -> None:
    user = api.user(107, "Omar", language_code="ar")
    await register(user, language="العربية", name="عمر", organization="KAUST",
                   country="السعودية", role=0)
    await user.send_text("/profile")
    profile = await user.expect("عمر")
    assert "\u2068عمر\u2069" in profile.text
    await user.send_text("/language")
    await user.expect("")
    await user.press("English")
    switched = await user.expect("in English")
    assert "Your profile" in switched.text
    await user.press("✏️ Name", switched)
    await user.expect("What is your name")
    await user.send_text("Omar Al-Farsi")
    edited = await user.expect("Your profile")
    assert "Name: Omar Al-Farsi" in edited.text
    await user.send_text("/delete_me")
    await user.expect("cannot be undone")
    await user.press("Yes, delete my data")
    await user.expect("has been deleted")
    async with bot.bot_data["services"].db.transaction() as db:
        assert await db.fetchval("SELECT count(*) FROM delegates WHERE name IS NOT NULL") == 0
    await user.send_text("/profile")
    await user.expect("Welcome to the matchmaking")


async def test_command_menus_are_localized(api: FakeBotApi, bot: BotApplication) -> None:
    english = api.commands[(None, "default")]
    russian = api.commands[("ru", "default")]
    assert [c["command"] for c in english] == [c["command"] for c in russian]
    assert english != russian
