"""Registration as a delegate experiences it, over the fake Bot API."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import BotApplication
from bot.domain.clock import ManualClock
from bot.sandbox.fake_api import BotMessage, FakeBotApi, FakeUser
from tests.flows.conftest import flow_settings, start_bot, stop_bot

# What each step's question contains in each language, to wait for the right message.
QUESTIONS = {
    "ru": ("Как вас зовут", "Какую организацию", "Из какой вы страны", "типу относится",
           "На каких языках", "телефон или адрес", "показывать ваш профиль", "Спасибо"),
    "zh": ("请输入您的姓名", "您代表哪家单位", "哪个国家", "属于哪种类型", "哪些语言",
           "电话号码或电子邮箱", "是否同意", "感谢您"),
    "ko": ("성함을 입력해", "어느 기관", "어느 국가", "어떤 유형", "어떤 언어로", "전화번호나",
           "프로필을 공개", "감사합니다"),
    "ar": ("ما اسمك", "ما الجهة", "من أي دولة", "ما نوع", "ما اللغات", "رقم هاتف",
           "هل توافق", "شكرًا"),
    "en": ("What is your name", "Which organization", "Which country", "What kind of",
           "In which languages", "phone number or e-mail", "May we show", "Thank you"),
}  # fmt: skip


async def register(
    user: FakeUser,
    *,
    locale: str,
    language: str,
    name: str,
    organization: str,
    country: str,
    role: int = 0,
) -> BotMessage:
    """Register with typed answers and buttons; returns the final summary message."""
    name_q, org_q, country_q, role_q, lang_q, contact_q, consent_q, done = QUESTIONS[locale]
    await user.send_text("/start")
    welcome = await user.expect("Nanjing Innovation Days")
    assert "✅ " + language in welcome.button_texts()
    await user.press(language, welcome)
    await user.expect(name_q)
    await user.send_text(name)
    await user.expect(org_q)
    await user.send_text(organization)
    await user.expect(country_q)
    await user.send_text(country)
    roles = await user.expect(role_q)
    await user.press(role, roles)
    languages = await user.expect(lang_q)
    await user.press(-1, languages)
    contact = await user.expect(contact_q)
    await user.press(0, contact)
    consent = await user.expect(consent_q)
    await user.press(0, consent)
    return await user.expect(done)


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
    assert role.button_texts() == [
        "Company",
        "University",
        "Research institute",
        "Investor",
        "Tech-transfer agency",
        "Government body",
        "Interpreter",
    ]
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
    assert "Meeting languages: English and Russian" in done.text  # CLDR list pattern
    assert "Contact: anna@tpu.ru" in done.text
    assert "Shown to matching delegates: yes" in done.text
    assert "✏️ Name" in done.button_texts()


async def test_russian_registration_from_telegram_language(
    api: FakeBotApi, bot: BotApplication
) -> None:
    user = api.user(102, "Иван", language_code="ru")
    done = await register(
        user,
        locale="ru",
        language="Русский",
        name="Иван Петров",
        organization="ТПУ",
        country="китай",
        role=1,
    )
    assert "Иван Петров" in done.text
    assert "🇨🇳 Китай" in done.text
    assert "Тип организации: Университет" in done.text  # not "Роль"
    assert "русский" in done.text


@pytest.mark.parametrize(
    ("locale", "language", "name", "country", "flag"),
    [("zh", "中文", "王芳", "俄罗斯", "🇷🇺"), ("ko", "한국어", "김민준", "중국", "🇨🇳"),
     ("ar", "العربية", "عمر", "السعودية", "🇸🇦")],
)  # fmt: skip
async def test_registration_in_other_languages(
    api: FakeBotApi,
    bot: BotApplication,
    locale: str,
    language: str,
    name: str,
    country: str,
    flag: str,
) -> None:
    user = api.user(110, "X", language_code=locale)
    done = await register(
        user, locale=locale, language=language, name=name, organization="Org", country=country
    )
    assert name in done.text and flag in done.text


async def test_chinese_traditional_falls_back_to_simplified(
    api: FakeBotApi, bot: BotApplication
) -> None:
    user = api.user(103, "陳", language_code="zh-hant")
    await user.send_text("/start")
    welcome = await user.expect("Nanjing")
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
    await user.expect("Nanjing")
    await user.press("中文")
    await user.expect("请输入您的姓名")
    await user.send_text("李明")
    await user.expect("您代表哪家单位")
    await stop_bot(app)

    app = await start_bot(settings, clock)
    try:
        await user.send_text("/start")
        await user.expect("您代表哪家单位")
        await user.send_text("南京大学")
        country = await user.expect("哪个国家")
        assert "🇨🇳" in " ".join(country.button_texts())
    finally:
        await stop_bot(app)


async def test_profile_language_and_delete(api: FakeBotApi, bot: BotApplication) -> None:
    user = api.user(107, "Omar", language_code="ar")
    await register(
        user, locale="ar", language="العربية", name="عمر", organization="KAUST", country="السعودية"
    )
    await user.send_text("/profile")
    profile = await user.expect("عمر")
    assert "\u2068عمر\u2069" in profile.text
    await user.send_text("/language")
    choice = await user.expect("يُرجى اختيار لغتك")
    await user.press("English", choice)
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
    await user.expect("مرحبًا بك")  # a fresh start, in the language Telegram reports


async def test_command_menus_are_localized(api: FakeBotApi, bot: BotApplication) -> None:
    english = api.commands[(None, "default")]
    russian = api.commands[("ru", "default")]
    assert [c["command"] for c in english] == [c["command"] for c in russian]
    assert english != russian


async def test_organizer_commands_check_the_role_on_every_use(
    api: FakeBotApi, bot: BotApplication
) -> None:
    stranger = api.user(555, "Stranger", language_code="ko")
    await stranger.send_text("/stats")
    refusal = await stranger.expect("주최")
    assert "Registration" not in refusal.text

    organizer = api.user(900, "Organizer", language_code="en")
    await organizer.send_text("/stats")
    stats = await organizer.expect("Registration")
    assert "0 delegates registered" in stats.text
    assert "1 registration in progress" not in stats.text

    # A forged press of the organizer's button by someone else changes nothing.
    await stranger.press_data("o1:stats:", stats)
    await api.settle()
    assert "주최" in stranger.callback_answers[-1]["text"]
    await organizer.press("Refresh", stats)
    await api.settle()
    assert organizer.callback_answers[-1].get("text") in (None, "")


@pytest.mark.parametrize(
    ("locale", "language", "offered", "other", "chosen"),
    [
        ("ru", "Русский", ("таджикский", "казахский", "узбекский", "персидский", "иврит"),
         "другой язык", "Языки встреч: русский и другой язык"),
        ("ar", "العربية", ("الطاجيكية", "الكازاخية", "الأوزبكية", "الفارسية", "العبرية"),
         "لغة أخرى", "لغات الاجتماعات: \u2068العربية ولغة أخرى\u2069"),
    ],
)  # fmt: skip
async def test_meeting_languages_beyond_the_interface_ones_and_another(
    api: FakeBotApi,
    bot: BotApplication,
    locale: str,
    language: str,
    offered: tuple[str, ...],
    other: str,
    chosen: str,
) -> None:
    name_q, org_q, country_q, role_q, lang_q, *_ = QUESTIONS[locale]
    user = api.user(120, "X", language_code=locale)
    await user.send_text("/start")
    await user.press(language, await user.expect("Nanjing Innovation Days"))
    await user.expect(name_q)
    await user.send_text("Farida")
    await user.expect(org_q)
    await user.send_text("TNU")
    await user.expect(country_q)
    await user.send_text("Tajikistan")
    await user.press(0, await user.expect(role_q))
    languages = await user.expect(lang_q)
    labels = " ".join(languages.button_texts())
    for name in offered:  # names from CLDR in the reader's language, Arabic's Kazakh reviewed
        assert name in labels, labels
    assert "الكازاخستانية" not in labels
    await user.press("▫️ " + other, languages)
    toggled = await user.expect(lang_q)
    await user.press(-1, toggled)
    contact = await user.expect(QUESTIONS[locale][5])
    await user.press(0, contact)
    await user.press(0, await user.expect(QUESTIONS[locale][6]))
    done = await user.expect(QUESTIONS[locale][7])
    assert chosen in done.text, done.text


@pytest.mark.parametrize(
    ("locale", "language", "country", "typed", "shown"),
    [
        ("ru", "Русский", "Россия", "8 (913) 123 45 67", "+7 913 123-45-67"),
        ("ar", "العربية", "السعودية", "050 123 4567", "\u2068+966 50 123 4567\u2069"),
    ],
)
async def test_a_phone_number_is_read_in_the_delegates_country_and_shown_readably(
    api: FakeBotApi,
    bot: BotApplication,
    locale: str,
    language: str,
    country: str,
    typed: str,
    shown: str,
) -> None:
    name_q, org_q, country_q, role_q, lang_q, contact_q, consent_q, done_q = QUESTIONS[locale]
    user = api.user(130, "X", language_code=locale)
    await user.send_text("/start")
    await user.press(language, await user.expect("Nanjing Innovation Days"))
    await user.expect(name_q)
    await user.send_text("Sara")
    await user.expect(org_q)
    await user.send_text("Org")
    await user.expect(country_q)
    await user.send_text(country)
    await user.press(0, await user.expect(role_q))
    await user.press(-1, await user.expect(lang_q))
    await user.expect(contact_q)
    await user.send_text("12345")  # too short for any country's plan
    await user.expect(contact_q)
    await user.send_text(typed)
    await user.press(0, await user.expect(consent_q))
    done = await user.expect(done_q)
    assert shown in done.text, done.text


@pytest.mark.parametrize(
    ("locale", "language", "country", "role"),
    [("ko", "한국어", "대한민국", "기업"), ("ar", "العربية", "السعودية", "شركة")],
)
async def test_typing_a_buttons_exact_label_is_pressing_it(
    api: FakeBotApi, bot: BotApplication, locale: str, language: str, country: str, role: str
) -> None:
    name_q, org_q, country_q, role_q, lang_q, *_ = QUESTIONS[locale]
    user = api.user(140, "X", language_code="en")  # Telegram in English: the button decides
    await user.send_text("/start")
    await user.expect("Nanjing Innovation Days")
    await user.send_text(language)
    await user.expect(name_q)
    await user.send_text("Min")
    await user.expect(org_q)
    await user.send_text("Org")
    await user.expect(country_q)
    await user.send_text(country)
    await user.expect(role_q)
    await user.send_text(role)
    await user.expect(lang_q)
    services = bot.bot_data["services"]
    delegate = await services.delegates.by_telegram_user(140)
    assert delegate is not None and (delegate.locale, delegate.role) == (locale, "company")
