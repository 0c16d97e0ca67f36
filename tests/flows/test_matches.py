"""Matches as delegates see them: cards, paging, interest, hiding and announcements."""

from __future__ import annotations

import re

from bot.app import BotApplication
from bot.sandbox.fake_api import FakeBotApi, FakeUser
from storage.matches import Mark
from tests.flows.items_kit import TRL, add_item, name, seed, seen, services_of, t, utf16
from tests.flows.test_registration import register

WASTEWATER_RU = (
    "Технологии глубокой очистки промышленных сточных вод: мембранные биореакторы и "
    "озонирование для текстильных и химических предприятий"
)
DYEING_NEED_ZH = "寻求印染行业工业废水深度处理技术"
TPU = "Томский политехнический университет"
OLGA = "Ольга Смирнова"
PLANT = "江苏印染集团"
NEW_MATCH = "🔔 <b>A new match for you</b>"
MATCH_OF = "Match {n} of {total} · fit {percent}"
NO_MATCHES = "No matches yet. I will tell you when a matching delegate joins."
DELETE_QUESTION = (
    "This deletes your profile, contact and everything you entered. It cannot be undone. "
    "Delete your data?"
)
DELETED = "Your personal data has been deleted. Send /start if you want to register again."
NO_LANGUAGE_RU = t(
    "ru",
    "⚠️ You share no meeting language: they meet in {languages}. You may need an interpreter.",
    languages="китайский",
)


async def russian_and_chinese(api: FakeBotApi) -> tuple[FakeUser, FakeUser]:
    """The Chinese dyeing plant and the Russian university, both registered in chat."""
    plant = api.user(401, "王", language_code="zh")
    await register(plant, locale="zh", language="中文", name="王芳", organization=PLANT,
                   country="中国")  # fmt: skip
    await add_item(plant, "zh", "need", DYEING_NEED_ZH, kind="licence")
    university = api.user(402, "Ольга", language_code="ru")
    await register(university, locale="ru", language="Русский", name=OLGA, organization=TPU,
                   country="Россия", role=1)  # fmt: skip
    saved = await add_item(university, "ru", "offer", WASTEWATER_RU, kind="licence", trl=6,
                           ip="Patent granted")  # fmt: skip
    found = t("ru", "I found {n} matching delegate. Tap My matches to see them.", n=1)
    assert found in saved.text
    return university, plant


async def test_russian_university_and_chinese_dyeing_plant_find_each_other(
    api: FakeBotApi, bot: BotApplication
) -> None:
    university, plant = await russian_and_chinese(api)
    wastewater_ru, wastewater_zh = name("env.wastewater", "ru"), name("env.wastewater", "zh")

    # A new strong match is announced to both sides, each in their own language.
    told_plant = await plant.expect(seen("zh", NEW_MATCH))
    assert OLGA in told_plant.text and "🇷🇺" in told_plant.text
    assert WASTEWATER_RU in told_plant.text
    answers_zh = t("zh", "Their offer answers your need: {fields}", fields=wastewater_zh)
    assert answers_zh in told_plant.text
    told_university = await university.expect(seen("ru", NEW_MATCH))
    assert "王芳" in told_university.text and DYEING_NEED_ZH in told_university.text

    await university.send_text("/matches")
    card = await university.expect("王芳")
    assert t("ru", "<b>{name}</b>, {organization}", name="王芳", organization=PLANT) in card.text
    assert "🇨🇳" in card.text
    # Their need in its own language, the fields and the reason in the viewer's.
    assert t("ru", "They need: {text}", text=DYEING_NEED_ZH) in card.text
    assert t("ru", "Your offer answers their need: {fields}", fields=wastewater_ru) in card.text
    assert wastewater_ru in card.text and wastewater_zh not in card.text
    # They meet in Chinese, she in Russian: the card says so.
    assert NO_LANGUAGE_RU in card.text
    assert t("ru", MATCH_OF, n=1, total=1, percent="57\xa0%") in card.text
    assert "совпадение на 57\xa0%" in card.text  # as a Russian editor writes it
    assert "▶" not in card.button_texts()

    await plant.send_text("/matches")
    card = await plant.expect(OLGA)
    assert t("zh", "They offer: {text}", text=WASTEWATER_RU) in card.text
    assert t("zh", "Their offer answers your need: {fields}", fields=wastewater_zh) in card.text
    assert t("zh", "Maturity: TRL {trl}", trl=6) in card.text
    assert "俄语" in card.text  # the note names the language she meets in, in Chinese

    # Interest reaches the other side through the outbox, in their language.
    await plant.press(t("zh", "🤝 Request a meeting"), card)
    marked = await plant.expect(OLGA)
    assert marked.edited and t("zh", "✅ Interest sent") in marked.button_texts()
    told = t("zh", "I told {name} that you would like to meet.", name=OLGA)
    assert told in plant.callback_answers[-1]["text"]
    notice = await university.expect("王芳")
    who = t("ru", "<b>{name}</b>, {organization}", name="王芳", organization=PLANT)
    assert t("ru", "{who} would like to meet you.", who=who + " 🇨🇳") in notice.text
    assert DYEING_NEED_ZH in notice.text
    await plant.press(t("zh", "✅ Interest sent"), marked)
    await api.settle()
    again = t("zh", "You already told {name} that you would like to meet.", name=OLGA)
    assert again in plant.callback_answers[-1]["text"]

    # The details show every item, languages and reasons; they can answer from the notice.
    await university.press(t("ru", "ℹ️ Details"), notice)
    details = await university.expect(DYEING_NEED_ZH)
    assert t("ru", "Meeting languages: {languages}", languages="китайский") in details.text
    services = services_of(bot)
    plant_id = (await services.delegates.by_telegram_user(401)).id  # type: ignore[union-attr]
    uni_id = (await services.delegates.by_telegram_user(402)).id  # type: ignore[union-attr]
    assert await services.matches.has_mark(plant_id, uni_id, Mark.INTERESTED)
    assert await services.matches.has_mark(uni_id, plant_id, Mark.ANNOUNCED)


async def test_a_match_is_announced_once_and_opt_out_is_respected(
    api: FakeBotApi, bot: BotApplication
) -> None:
    university, plant = await russian_and_chinese(api)
    await plant.expect(seen("zh", NEW_MATCH))
    await university.expect(seen("ru", NEW_MATCH))
    services = services_of(bot)
    # Editing the offer again announces nothing new.
    await university.send_text("/items")
    await university.press(0, await university.expect("1\\. 🟢"))
    card = await university.expect("TRL 6")
    await university.press(t("ru", "✏️ TRL"), card)
    await university.press("7", await university.expect(seen("ru", TRL)))
    await university.expect(seen("ru", "✅ Changes saved."))
    # The plant turns announcements off in its profile; a new matching offer is not announced.
    await plant.send_text("/profile")
    profile = await plant.expect(seen("zh", "Tell me about new matches: {answer}", answer="x")[:8])
    await plant.press(t("zh", "🔕 Stop match alerts"), profile)
    toggled = await plant.expect(seen("zh", "Tell me about new matches: {answer}", answer="x")[:8])
    assert t("zh", "🔔 Send match alerts") in toggled.button_texts()
    seoul = api.user(403, "Lee", language_code="ko")
    await register(seoul, locale="ko", language="한국어", name="이서연", organization="서울환경",
                   country="중국")  # fmt: skip
    await add_item(seoul, "ko", "offer", "산업 폐수 처리 및 염색 폐수 고도 처리 기술",
                   kind="licence", trl=8, ip="No patent")  # fmt: skip
    await seoul.expect(seen("ko", NEW_MATCH))  # the newcomer hears of the plant...
    await services.delivery.sender.wait_idle()
    announcements = [m for m in plant.messages if "🔔" in m.text]
    assert len(announcements) == 1  # ...the plant, which opted out, does not hear of them
    assert len([m for m in university.messages if "🔔" in m.text]) == 1
    # A bulk change (an import) announces nothing.
    lab = api.user(404, "Lab", language_code="en")
    await seed(bot, lab, name="Lab", organization="Water Lab", country="DE", locale="en",
               offers=("Industrial wastewater treatment for dyeing plants",))  # fmt: skip
    await services.delivery.sender.wait_idle()
    assert not lab.messages


async def test_pages_stay_within_telegram_limits_with_long_items(
    api: FakeBotApi, bot: BotApplication
) -> None:
    viewer = api.user(410, "Viewer", language_code="en")
    await seed(bot, viewer, name="Viewer", organization="Mill", country="CN", locale="en",
               needs=("Industrial wastewater treatment for our dyeing plant",),
               fields=("env.wastewater",))  # fmt: skip
    long_text = ("💧 Industrial wastewater treatment with membranes and ozone. " * 20)[:1000]
    others = [api.user(411 + n, f"Other {n}", language_code="en") for n in range(4)]
    for n, other in enumerate(others):
        await seed(bot, other, name="N" * 80, organization=f"{'O' * 110} {n}", country="RU",
                   locale="ru", offers=(long_text,) * (10 if n == 0 else 1),
                   fields=("env.wastewater",))  # fmt: skip
    await viewer.send_text("/matches")
    card = await viewer.expect("Match 1 of 4")
    assert long_text.rstrip() in card.text
    assert "▶" in card.button_texts() and "◀" not in card.button_texts()
    for n in range(2, 5):
        await viewer.press("▶", card)
        card = await viewer.expect(f"Match {n} of 4")
        assert card.edited
    assert "▶" not in card.button_texts()
    await viewer.press("◀", card)
    card = await viewer.expect("Match 3 of 4")
    # The counterpart with ten long offers: the details come in several messages.
    await viewer.send_text("/matches")
    first = await viewer.expect("Match 1 of 4")
    before = len(viewer.messages)
    await viewer.press("ℹ️ Details", first)
    await viewer.expect("Why you match")
    details = viewer.messages[before:]
    assert len(details) >= 3
    assert sum(m.text.count(long_text.rstrip()) for m in details) == 10
    assert details[-1].button_texts() == ["🤝 Request a meeting", "🙈 Hide"]
    assert all(utf16(m.text) <= 4096 for m in viewer.messages)
    assert all(utf16(call.params.get("text", "")) <= 4096 for call in api.calls)
    # A stale page number shows the last page rather than failing.
    await viewer.press_data("mt1:pg:99", first)
    await viewer.expect("Match 4 of 4")


async def test_hidden_matches_are_never_shown_again(api: FakeBotApi, bot: BotApplication) -> None:
    viewer = api.user(420, "Viewer", language_code="en")
    await seed(bot, viewer, name="Viewer", organization="Mill", country="CN", locale="en",
               needs=("Industrial wastewater treatment",), fields=("env.wastewater",))  # fmt: skip
    first, second = api.user(421, "A", language_code="en"), api.user(422, "B", language_code="en")
    await seed(bot, first, name="Alice", organization="Aqua", country="RU", locale="en",
               offers=("Wastewater treatment membranes",), fields=("env.wastewater",))  # fmt: skip
    await seed(bot, second, name="Bob", organization="Blue", country="KR", locale="en",
               offers=("Wastewater sludge treatment",), fields=("env.wastewater",))  # fmt: skip
    await viewer.send_text("/matches")
    card = await viewer.expect("Match 1 of 2")
    shown = "Alice" if "Alice" in card.text else "Bob"
    other = "Bob" if shown == "Alice" else "Alice"
    await viewer.press("🙈 Hide", card)
    card = await viewer.expect("Match 1 of 1")
    assert other in card.text and shown not in card.text
    assert f"you will not see {shown} again" in viewer.callback_answers[-1]["text"]
    await viewer.send_text("/matches")
    card = await viewer.expect("Match 1 of 1")
    assert shown not in card.text
    # Old buttons about the hidden delegate are refused.
    services = services_of(bot)
    hidden = await services.delegates.by_telegram_user(421 if shown == "Alice" else 422)
    assert hidden is not None
    await viewer.press_data(f"mt1:det:{hidden.id}", card)
    await viewer.press_data(f"mt1:int:{hidden.id}", card)
    await api.settle()
    assert all("no longer active" in a.get("text", "") for a in viewer.callback_answers[-2:])


async def test_no_consent_own_organization_and_self_are_never_shown(
    api: FakeBotApi, bot: BotApplication
) -> None:
    viewer = api.user(430, "Viewer", language_code="en")
    me = await seed(bot, viewer, name="Viewer", organization="Mill Group", country="CN",
                    locale="en", needs=("Industrial wastewater treatment",),
                    offers=("Industrial wastewater treatment",),
                    fields=("env.wastewater",))  # fmt: skip
    shy, colleague, fine = (api.user(431 + n, str(n), language_code="en") for n in range(3))
    shy_id = await seed(bot, shy, name="Shy", organization="Quiet", country="RU", locale="en",
                        consent=False, offers=("Wastewater treatment",),
                        fields=("env.wastewater",))  # fmt: skip
    colleague_id = await seed(bot, colleague, name="Colleague", organization="MILL GROUP",
                              country="CN", locale="en", offers=("Wastewater treatment",),
                              fields=("env.wastewater",))  # fmt: skip
    await seed(bot, fine, name="Fine", organization="Open", country="KR", locale="en",
               offers=("Wastewater treatment",), fields=("env.wastewater",))  # fmt: skip
    await viewer.send_text("/matches")
    card = await viewer.expect("Match 1 of 1")
    assert "Fine" in card.text
    for other in (shy_id, colleague_id, me, 999_999):
        await viewer.press_data(f"mt1:det:{other}", card)
        await viewer.press_data(f"mt1:int:{other}-0", card)
        await viewer.press_data(f"mt1:hide:{other}", card)
    await api.settle()
    assert all("no longer active" in a.get("text", "") for a in viewer.callback_answers[-12:])
    # The shy delegate sees others (with a note) but nobody sees them.
    await shy.send_text("/matches")
    theirs = await shy.expect("Match 1 of")
    assert "Your profile is hidden" in theirs.text
    services = services_of(bot)
    assert not await services.matches.marked(me, Mark.INTERESTED)


async def test_deleting_my_data_removes_my_items_and_marks(
    api: FakeBotApi, bot: BotApplication
) -> None:
    university, plant = await russian_and_chinese(api)
    await plant.expect(seen("zh", NEW_MATCH))
    await plant.send_text("/matches")
    card = await plant.expect(seen("zh", MATCH_OF, n=1, total=1, percent="57%")[:8])
    await plant.press(t("zh", "🤝 Request a meeting"), card)
    await university.expect("王芳")
    services = services_of(bot)
    uni = await services.delegates.by_telegram_user(402)
    assert uni is not None
    await university.send_text("/delete_me")
    confirm = await university.expect(seen("ru", DELETE_QUESTION))
    await university.press(t("ru", "Yes, delete my data"), confirm)
    await university.expect(seen("ru", DELETED))
    async with services.db.transaction() as db:
        items = await db.fetchval("SELECT count(*) FROM items WHERE delegate_id = ?", (uni.id,))
        marks = await db.fetchval(
            "SELECT count(*) FROM match_marks WHERE delegate_id = ? OR other_id = ?",
            (uni.id, uni.id),
        )
    assert items == marks == 0
    await plant.send_text("/matches")
    await plant.expect(seen("zh", NO_MATCHES))


AHMED = "أحمد المنصوري"


def match_of(locale: str, n: int, total: int) -> str:
    """A pattern for the card's counter, whatever the fit."""
    return re.escape(t(locale, MATCH_OF, n=n, total=total, percent="§").split("§")[0])


async def test_arabic_pages_point_the_way_arabic_reads_and_arabic_names_stay_isolated(
    api: FakeBotApi, bot: BotApplication
) -> None:
    viewer = api.user(430, "Viewer", language_code="ar")
    await seed(bot, viewer, name="عمر", organization="KAUST", country="SA", locale="ar",
               languages=("ar", "en"), needs=("Industrial wastewater treatment for a mill",),
               fields=("env.wastewater",))  # fmt: skip
    reader = api.user(431, "Ольга", language_code="ru")
    await seed(bot, reader, name=OLGA, organization=TPU, country="RU", locale="ru",
               languages=("ru", "en"), needs=("Industrial wastewater treatment for a mill",),
               fields=("env.wastewater",))  # fmt: skip
    for n, who in enumerate((AHMED, "Li Wei")):
        other = api.user(432 + n, who, language_code="en")
        await seed(bot, other, name=who, organization=f"Lab {n}", country="AE", locale="en",
                   languages=("ar", "en", "ru"), offers=(WASTEWATER_RU,),
                   fields=("env.wastewater",))  # fmt: skip

    # Arabic reads right to left: the next page is on the left and points left.
    await viewer.send_text("/matches")
    card = await viewer.expect(match_of("ar", 1, 2))
    assert card.button_texts()[-1] == "◀"
    await viewer.press("◀", card)
    card = await viewer.expect(match_of("ar", 2, 2))
    assert card.button_texts()[-1] == "▶"  # back to the first, on the right, pointing right
    await viewer.press("▶", card)
    await viewer.expect(match_of("ar", 1, 2))

    # Left to right, the arrows are the other way round; an Arabic name is isolated in the
    # Russian sentence, so it cannot turn the paragraph right to left.
    await reader.send_text("/matches")
    card = await reader.expect(match_of("ru", 1, 2))
    cards = card.text
    assert card.button_texts()[-1] == "▶"
    await reader.press("▶", card)
    card = await reader.expect(match_of("ru", 2, 2))
    cards += card.text
    assert card.button_texts()[-1] == "◀"
    assert f"\u2068{AHMED}\u2069" in cards
    assert "\u2068Li Wei\u2069" not in cards


async def test_fields_are_enumerated_so_terms_with_a_conjunction_stay_apart(
    api: FakeBotApi, bot: BotApplication
) -> None:
    both = ("energy.hydrogen", "env.wastewater")
    hydrogen_ru, wastewater_ru = name("energy.hydrogen", "ru"), name("env.wastewater", "ru")
    hydrogen_ar, wastewater_ar = name("energy.hydrogen", "ar"), name("env.wastewater", "ar")
    assert " и " in hydrogen_ru and " و" in hydrogen_ar  # the terms hold a conjunction
    viewers = []
    for n, locale in enumerate(("ru", "ar")):
        viewer = api.user(440 + n, f"Viewer {n}", language_code=locale)
        viewers.append(viewer)
        await seed(bot, viewer, name=f"Viewer {n}", organization="Mill", country="CN",
                   locale=locale, languages=("en",), needs=("Hydrogen and wastewater",),
                   fields=both)  # fmt: skip
    other = api.user(450, "Li", language_code="en")
    await seed(bot, other, name="Li Wei", organization="Lab", country="CN", locale="en",
               offers=("Hydrogen fuel cells and wastewater treatment",), fields=both)  # fmt: skip

    expected = (
        ("ru", f"{hydrogen_ru}, {wastewater_ru}"),
        ("ar", f"{hydrogen_ar}، {wastewater_ar}"),
    )
    for viewer, (locale, fields) in zip(viewers, expected, strict=True):
        await viewer.send_text("/matches")
        card = await viewer.expect("Li Wei")
        assert t(locale, "Fields: {fields}", fields=fields) in card.text, card.text
