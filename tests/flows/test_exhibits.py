"""The achievements catalogue over the fake Bot API: /search, the booth QR, Save, a meeting."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import BotApplication
from bot.domain.clock import ManualClock
from bot.domain.exhibits import parse_csv
from bot.domain.scheduling import parse_schedule
from bot.sandbox.fake_api import FakeBotApi
from bot.services import open_services
from tests.flows.conftest import flow_settings, start_bot, stop_bot
from tests.flows.items_kit import seen, t
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
