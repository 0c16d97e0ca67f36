"""The achievements catalogue over the fake Bot API: /search, the booth QR, Save, a meeting."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import BotApplication
from bot.domain.clock import ManualClock
from bot.domain.exhibits import parse_csv
from bot.domain.scheduling import parse_schedule
from bot.i18n import Html
from bot.sandbox.fake_api import FakeBotApi
from bot.services import open_services
from tests.flows.conftest import flow_settings, start_bot, stop_bot
from tests.flows.items_kit import seed, seen, t
from tests.flows.test_meetings import SCHEDULE, registered, services_of

CATALOGUE = (
    "key,organization,owner_external_id,booth,hall,title_zh,title_en,description_zh\n"
    "E1,西安交大,OWNER1,B12,A,锂电池快速充电技术,Fast charging of lithium batteries,"
    "一种用于电动汽车锂离子电池的快速充电方法\n"
    "E2,西北农林,,C3,B,小麦抗旱品种,,耐旱高产的冬小麦新品种\n"
)


@pytest.fixture
async def bot(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotApplication]:
    settings = flow_settings(api, tmp_path / "exhibits.db")
    schedule = parse_schedule(SCHEDULE, zone=settings.timezone)
    app = await start_bot(dataclasses.replace(settings, schedule=schedule), clock)
    yield app
    await stop_bot(app)


async def test_booth_qr_from_scan_to_a_meeting_with_the_owner(
    api: FakeBotApi, bot: BotApplication
) -> None:
    owner = api.user(301, "王芳", language_code="zh")
    visitor = api.user(302, "Anna", language_code="en")
    owner_id = await registered(bot, owner, "zh", "王芳", "zh en", "wang@xjtu.cn")
    await registered(bot, visitor, "en", "Anna", "en", "anna@tpu.ru")
    services = services_of(bot)
    await services.db.execute(
        "UPDATE delegates SET external_id = 'OWNER1' WHERE id = ?", (owner_id,)
    )
    report = await services.exhibits.import_parsed(parse_csv(CATALOGUE.encode()))
    assert report.summary is not None and report.summary.added == 2 and report.notes == ()
    exhibit = await services.exhibits.repo.by_key("E1")
    assert exhibit is not None and exhibit.token.startswith("x_")

    # The QR on the poster: the card in English, Save and Request a meeting.
    await visitor.open_link(exhibit.token)
    card = await visitor.expect("Fast charging of lithium batteries")
    assert "Booth B12, hall A" in card.text
    assert "About, in Chinese: 一种用于电动汽车锂离子电池的快速充电方法" in card.text
    await visitor.press("Save", card)
    await api.settle()
    assert "Saved" in visitor.callback_answers[-1].get("text", "")
    await visitor.send_text("/saved")
    shortlist = await visitor.expect("Your saved exhibits")
    assert "Fast charging" in shortlist.text

    await visitor.press("🤝 Request a meeting", card)
    page = await visitor.expect("Book a meeting with")
    assert "王芳" in page.text
    await visitor.press(0, page)
    confirm = await visitor.expect("Request a meeting with")
    await visitor.press("📨 Send request", confirm)
    await visitor.expect("Request sent")
    request = await owner.expect("Anna")
    await owner.press(0, request)  # Accept
    await owner.expect(seen("zh", "✅ <b>Meeting confirmed</b>"))
    booked = await visitor.expect("Meeting confirmed")
    assert "Table A1" in booked.text

    # A forged exhibit id is refused like any stale press.
    await visitor.press_data("x1:meet:999", card)
    await api.settle()
    assert visitor.callback_answers[-1].get("show_alert") is True


async def test_search_names_the_original_language_and_pages(
    api: FakeBotApi, bot: BotApplication
) -> None:
    visitor = api.user(311, "Иван", language_code="ru")
    await registered(bot, visitor, "ru", "Иван", "ru", "ivan@tpu.ru")
    services = services_of(bot)
    rows = "".join(
        f"W{n},Org {n},,D{n},,,Water purification membrane model {n},\n" for n in range(7)
    )
    await services.exhibits.import_parsed(parse_csv((CATALOGUE + rows).encode()))
    query = "water purification membrane"
    await visitor.send_text(f"/search {query}")
    first = await visitor.expect(seen("ru", "Exhibits for “{query}”:", query=query))
    assert "(английский)" in first.text  # an English title, its language named in Russian
    # Five results to open, More, then the filters the catalogue has (fields and halls here).
    opens = [t("ru", "Open {n}", n=n) for n in range(1, 6)]
    filters = [t("ru", "🔬 Field"), t("ru", "🏛 Hall")]
    assert first.button_texts() == [*opens, t("ru", "More"), *filters]
    await visitor.press(t("ru", "More"), first)
    second = await visitor.expect("6.")
    assert "7." in second.text
    await visitor.send_text("/search")
    await visitor.expect(t("ru", "Send /search and what you are looking for."))


async def test_inline_mode_answers_with_shareable_cards_checked_against_the_spec(
    api: FakeBotApi, bot: BotApplication
) -> None:
    services = services_of(bot)
    rows = "".join(
        f"W{n:02},Org {n},,D{n},,,Water purification membrane model {n},\n" for n in range(25)
    )
    await services.exhibits.import_parsed(parse_csv((CATALOGUE + rows).encode()))
    colleague = api.user(321, "Li", language_code="zh")  # not even registered
    first_id = api.push_inline_query(colleague, "water purification membrane")
    await api.settle()
    answer = api.inline_answers[first_id]
    results = answer["results"]
    assert len(results) == 20 and answer["next_offset"] == "20"
    top = results[0]
    assert top["type"] == "article" and top["id"].startswith("x")
    assert "英语" in top["description"]  # the original language, named in Chinese
    button = top["reply_markup"]["inline_keyboard"][0][0]
    assert button["url"].startswith(f"https://t.me/{api.bot_username}?start=x_")
    assert "Water purification membrane" in top["input_message_content"]["message_text"]
    second_id = api.push_inline_query(colleague, "water purification membrane", offset="20")
    await api.settle()
    second = api.inline_answers[second_id]
    assert len(second["results"]) == 5 and "next_offset" not in second
    assert not {r["id"] for r in second["results"]} & {r["id"] for r in results}
    # The link in the shared card opens the exhibit in the bot.
    token = button["url"].split("start=")[1]
    await colleague.open_link(token)
    await colleague.expect("Water purification membrane")


async def test_a_running_bot_finds_what_another_process_imported(
    api: FakeBotApi, bot: BotApplication
) -> None:
    visitor = api.user(331, "Anna", language_code="en")
    await visitor.send_text("/search lithium battery charging")
    await visitor.expect("No exhibit matches this search.")
    # The organizer's `matchmaker import-exhibits`: its own connection to the same file.
    settings = services_of(bot).settings
    async with open_services(settings) as other:
        await other.exhibits.import_parsed(parse_csv(CATALOGUE.encode()))
    await visitor.send_text("/search lithium battery charging")
    found = await visitor.expect("Exhibits for")
    assert "Fast charging of lithium batteries" in found.text


async def test_share_puts_the_exhibit_title_in_inline_mode_and_its_answer_is_that_exhibit(
    api: FakeBotApi, bot: BotApplication
) -> None:
    services = services_of(bot)
    # Exhibits sorted before E1 with the same words in their titles, so as good for search.
    rows = "".join(
        f"A{n:02},Org {n},,D{n},,锂电池快速充电技术！,Fast charging of lithium batteries!,"
        "一种用于电动汽车锂离子电池的快速充电方法\n"
        for n in range(25)
    )
    await services.exhibits.import_parsed(parse_csv((CATALOGUE + rows).encode()))
    exhibit = await services.exhibits.repo.by_key("E1")
    assert exhibit is not None
    for user_id, language, title in (
        (341, "ru", "锂电池快速充电技术"),  # no Russian title: the original's
        (342, "en", "Fast charging of lithium batteries"),
    ):
        visitor = api.user(user_id, "Visitor", language_code=language)
        await visitor.open_link(exhibit.token)
        card = await visitor.expect(title)
        buttons = [b for row in card.raw["reply_markup"]["inline_keyboard"] for b in row]
        (share,) = [b for b in buttons if b["text"] == t(language, "📤 Share")]
        assert share["switch_inline_query"] == title
        # The user picks a chat; Telegram types "@bot <title>" there and sends the inline query.
        answered = len(api.inline_answers)
        await visitor.press(t(language, "📤 Share"), card)
        await api.settle()
        assert len(api.inline_answers) == answered + 1
        results = list(api.inline_answers.values())[-1]["results"]
        assert results[0]["id"] == f"x{exhibit.id}"
        assert [r["id"] for r in results].count(f"x{exhibit.id}") == 1
        shared = results[0]["input_message_content"]["message_text"]
        assert title in shared and "B12" in shared


async def test_matches_show_the_exhibits_on_display_for_my_needs_in_english_and_arabic(
    api: FakeBotApi, bot: BotApplication
) -> None:
    services = services_of(bot)
    await services.exhibits.import_parsed(parse_csv(CATALOGUE.encode()))
    exhibit = await services.exhibits.repo.by_key("E1")
    assert exhibit is not None
    need = "Fast charging of lithium batteries for electric buses"
    english = api.user(351, "Anna", language_code="en")
    await seed(bot, english, name="Anna", organization="TPU", country="RU", locale="en",
               needs=(need,))  # fmt: skip
    offerer = api.user(352, "Wang", language_code="zh")
    offer = "Lithium battery fast charging stations"
    await seed(bot, offerer, name="王芳", organization="西安交大", country="CN", locale="zh",
               languages=("zh", "en"), offers=(offer,))  # fmt: skip
    arabic = api.user(353, "Ahmed", language_code="ar")
    await seed(bot, arabic, name="أحمد", organization="جامعة القاهرة", country="EG", locale="ar",
               needs=(need,))  # fmt: skip
    english_title = t(
        "en", "<b>{title}</b>, {organization}",
        title="Fast charging of lithium batteries", organization="西安交大",
    )  # fmt: skip
    # No Arabic title: the original, its language named in Arabic.
    arabic_title = t(
        "ar", "<b>{title}</b> ({language}), {organization}",
        title="锂电池快速充电技术", language="الصينية", organization="西安交大",
    )  # fmt: skip
    for user, locale, title in ((english, "en", english_title), (arabic, "ar", arabic_title)):
        await user.send_text("/matches")
        card = await user.expect(r"🏛")
        where = t(locale, "Booth {booth}, hall {hall}", booth="B12", hall="A")
        expected = t(
            locale, "🏛 On display: {where} — {title}", where=Html(where), title=Html(title)
        )
        assert expected in card.text, card.text
        assert "小麦" not in card.text  # the wheat exhibit answers no need of theirs
        assert "王芳" in card.text  # below the match card, which keeps its buttons
        assert t(locale, "🙈 Hide") in card.button_texts()
        await user.press(t(locale, "🏛 Booth {booth}", booth="B12"), card)
        opened = await user.expect(re.escape(title))
        assert t(locale, "📤 Share") in opened.button_texts()
