"""The web face in a real browser: the venue board and the Mini App, against the fake Bot API."""

from __future__ import annotations

import datetime as dt
import re

import aiohttp
from playwright.async_api import expect

from bot.app import BotApplication
from bot.domain.clock import ManualClock
from bot.sandbox.fake_api import FakeBotApi, FakeUser
from tests.flows.web_kit import (
    base_url,
    browser,
    init_data,
    miniapp_url,
    new_page,
    registered,
    screenshot,
    services_of,
    web_bot,
)

__all__ = ["browser", "web_bot"]  # fixtures


# The widest element edge on the page (and the leftmost), in CSS pixels.
EDGES = """() => {
  let left = 0, right = 0;
  for (const node of document.querySelectorAll("body *")) {
    const box = node.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    left = Math.min(left, box.left); right = Math.max(right, box.right);
  }
  return [left, right, document.documentElement.scrollWidth];
}"""


async def fits(page: object, width: int) -> None:
    """Nothing sticks out sideways and the page does not scroll sideways."""
    left, right, scroll = await page.evaluate(EDGES)  # type: ignore[attr-defined]
    assert left >= -0.5 and right <= width + 0.5 and scroll <= width, (left, right, scroll)


def token_in(text: str) -> str:
    match = re.search(r"start=(b_[A-Za-z0-9_\-]{22})", text)
    assert match, text
    return match.group(1)


async def book_in_chat(requester: FakeUser, invitee: FakeUser) -> None:
    """The requester scans the invitee's badge and asks for the first time; the invitee accepts."""
    await invitee.send_text("/badge")
    token = token_in((await invitee.expect("t.me/")).text)
    await requester.open_link(token)
    page = await requester.expect("Book a meeting with")
    await requester.press(0, page)
    confirm = await requester.expect("Request a meeting with")
    await requester.press("📨 Send request", confirm)
    await requester.expect("Request sent")
    request = await invitee.expect(r"09:30")
    await invitee.press(0, request)
    await invitee.expect("✅")


async def test_board_shows_a_booking_made_in_chat_without_contacts(
    api: FakeBotApi, web_bot: BotApplication, browser: object
) -> None:
    anna = api.user(201, "Anna", language_code="en")
    ivan = api.user(202, "Иван", language_code="ru")
    omar = api.user(203, "Omar", language_code="ar")
    anna_id = await registered(web_bot, anna, "en", "Anna Petrova", "TPU", "RU")
    await registered(web_bot, ivan, "ru", "Иван Смирнов", "Росатом", "RU")
    secret = await services_of(web_bot).web.board_secret()
    board = f"{base_url(web_bot)}/board/{secret}"

    async with aiohttp.ClientSession() as http:
        for wrong in ("/board/nope", "/board/nope/events", "/board/nope/table/A1", "/board/"):
            async with http.get(base_url(web_bot) + wrong) as response:
                assert response.status == 404, wrong
        async with http.get(f"{board}/table/Z9") as response:
            assert response.status == 404

    page = await new_page(browser, width=1920, height=1080)  # type: ignore[arg-type]
    await page.goto(board)
    cards = page.locator("section.table")
    await expect(cards).to_have_count(3)
    await expect(cards.first).to_contain_text("Free")
    version = await page.evaluate("document.body.dataset.version")

    await book_in_chat(anna, ivan)

    # The same page, not reloaded: the card of table A1 now shows the next meeting.
    first = page.locator('section.table[data-table="A1"]')
    await expect(first).to_contain_text("Anna Petrova", timeout=5000)
    await expect(first).to_contain_text("Иван Смирнов")
    await expect(first).to_contain_text("09:30")
    assert await page.evaluate("document.body.dataset.version") != version

    # Anna brings an interpreter: the card shows him under the two, named as an interpreter.
    services = services_of(web_bot)
    omar_id = await registered(web_bot, omar, "ar", "عمر الفاروق", "Freelance", "EG")
    await services.db.execute("UPDATE delegates SET role = 'interpreter' WHERE id = ?", (omar_id,))
    meeting_id = await services.db.fetchval("SELECT id FROM meetings WHERE state = 'accepted'")
    await services.talk.add_guest(int(meeting_id), anna_id, omar_id)
    guest = first.locator(".person.guest")
    await expect(guest).to_contain_text("عمر الفاروق", timeout=5000)
    await expect(guest.locator(".role")).to_have_text("Interpreter")
    text = await page.locator("main").inner_text()
    assert "@example.org" not in text, "the board shows no contact"
    await screenshot(page, "board.png")

    # In Arabic: right to left, names isolated, the same meeting.
    await page.goto(f"{board}?lang=ar")
    assert await page.evaluate("document.documentElement.dir") == "rtl"
    await expect(page.locator(".person.guest .role")).to_have_text(
        services.i18n.translator("ar").label("Interpreter")
    )
    await expect(page.locator('section.table[data-table="A1"] bdi.name').first).to_have_text(
        "Anna Petrova"
    )

    # The table's own small screen.
    await page.goto(f"{board}/table/A1")
    await expect(page.locator("section.table")).to_have_count(1)
    await expect(page.locator("section.table")).to_contain_text("Anna Petrova")


async def test_miniapp_books_a_slot_end_to_end(
    api: FakeBotApi, web_bot: BotApplication, browser: object, clock: ManualClock
) -> None:
    anna = api.user(211, "Anna", language_code="en")
    ivan = api.user(212, "Иван", language_code="ru")
    await registered(web_bot, anna, "en", "Anna Petrova", "TPU", "RU")
    ivan_id = await registered(web_bot, ivan, "ru", "Иван Смирнов", "Росатом", "RU")

    page = await new_page(browser, width=390, height=800)  # type: ignore[arg-type]
    await page.goto(miniapp_url(web_bot, init_data(api, anna, clock.now()), f"with={ivan_id}"))
    rows = page.locator("#pair tbody tr")
    await expect(rows.first).to_contain_text("09:30")
    await expect(page.locator("#col-them")).to_have_text("Иван Смирнов")
    await screenshot(page, "miniapp.png")
    await page.locator("#pair button.request").first.click()
    await expect(page.locator("#message")).to_contain_text("Request sent to Иван Смирнов")

    # Ivan is asked in the chat, in Russian, and can accept as from any request.
    request = await ivan.expect("Anna Petrova")
    assert "09:30" in request.text
    await ivan.press(0, request)
    await anna.expect("Meeting confirmed")

    # Anna's day grid shows the meeting at its table.
    await page.locator("#tab-day").click()
    first = page.locator('#grid li[data-state="meeting"]')
    await expect(first).to_contain_text("Иван Смирнов")
    await expect(first).to_contain_text("Table A1, Hall 3")


async def test_forged_or_expired_launch_data_is_refused(
    api: FakeBotApi, web_bot: BotApplication, browser: object, clock: ManualClock
) -> None:
    anna = api.user(221, "Anna", language_code="en")
    ivan = api.user(222, "Ivan", language_code="en")
    await registered(web_bot, anna, "en", "Anna Petrova", "TPU", "RU")
    await registered(web_bot, ivan, "en", "Ivan", "Lab", "RU")
    good = init_data(api, anna, clock.now())
    # The same signature with Ivan's id put in: a forgery.
    forged = good.replace("%22id%22%3A221", "%22id%22%3A222")
    assert forged != good
    expired = init_data(api, anna, clock.now() - dt.timedelta(days=2))
    other_bot = init_data(api, anna, clock.now()).replace("hash=", "hash=0")

    async with aiohttp.ClientSession() as http:
        url = base_url(web_bot) + "/app/api/session"
        for data in (None, "", forged, expired, other_bot, "user=1&hash=abc"):
            headers = {} if data is None else {"Authorization": f"tma {data}"}
            async with http.get(url, headers=headers) as response:
                assert response.status == 401, data
                assert "Open this page from the bot" in (await response.json())["error"]
        async with http.post(
            base_url(web_bot) + "/app/api/request",
            json={"with": 1, "slot": 1},
            headers={"Authorization": f"tma {forged}"},
        ) as response:
            assert response.status == 401
        async with http.get(url, headers={"Authorization": f"tma {good}"}) as response:
            assert response.status == 200

    page = await new_page(browser)  # type: ignore[arg-type]
    await page.goto(miniapp_url(web_bot, expired))
    await expect(page.locator("#error")).to_contain_text("Open this page from the bot")
    assert await page.locator("#grid li").count() == 0


async def test_no_overflow_at_360_px_in_arabic_and_english(
    api: FakeBotApi, web_bot: BotApplication, browser: object, clock: ManualClock
) -> None:
    layla = api.user(231, "ليلى", language_code="ar")
    omar = api.user(232, "Omar", language_code="en")
    university = "جامعة الملك عبدالله للعلوم والتقنية"
    await registered(web_bot, layla, "ar", "ليلى الحسن", university, "SA")
    omar_id = await registered(web_bot, omar, "en", "Omar Long-Name-Without-Breaks" * 2, "Org")
    await book_in_chat(omar, layla)
    secret = await services_of(web_bot).web.board_secret()

    cases = ((layla, f"with={omar_id}", "rtl"), (layla, "", "rtl"), (omar, "", "ltr"))
    for user, query, direction in cases:
        page = await new_page(browser, width=360, height=740)  # type: ignore[arg-type]
        await page.goto(miniapp_url(web_bot, init_data(api, user, clock.now()), query))
        await page.wait_for_function("document.body.dataset.ready === 'true'")
        assert await page.evaluate("document.documentElement.dir") == direction
        if query:
            await expect(page.locator("#pair tbody tr").first).to_be_visible()
            await screenshot(page, "miniapp-ar.png")
        await fits(page, 360)

    for path in (f"/board/{secret}?lang=ar", f"/board/{secret}/table/A1?lang=en"):
        await page.goto(base_url(web_bot) + path)
        await expect(page.locator("section.table").first).to_be_visible()
        await fits(page, 360)
