"""The Mini App's catalogue tab: search, filter and Save in a real browser, then /saved in chat;
and its API's rules over HTTP (launch data, filter values, the saved exhibit must exist)."""

from __future__ import annotations

import re

import aiohttp
from playwright.async_api import expect

from bot.app import BotApplication
from bot.domain.clock import ManualClock
from bot.domain.exhibits import parse_csv
from bot.sandbox.fake_api import FakeBotApi
from tests.flows.test_exhibit_filters import CATALOGUE
from tests.flows.test_web import fits
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


async def test_search_filter_save_in_the_miniapp_then_saved_in_chat(
    api: FakeBotApi, web_bot: BotApplication, browser: object, clock: ManualClock
) -> None:
    anna = api.user(501, "Anna", language_code="en")
    await registered(web_bot, anna, "en", "Anna Petrova", "TPU", "RU")
    await services_of(web_bot).exhibits.import_parsed(parse_csv(CATALOGUE.encode()))

    page = await new_page(browser, width=390, height=800)  # type: ignore[arg-type]
    await page.goto(miniapp_url(web_bot, init_data(api, anna, clock.now())))
    await page.wait_for_function("document.body.dataset.ready === 'true'")
    await page.locator("#tab-catalogue").click()
    await expect(page.locator("#days")).to_be_hidden()  # the catalogue has no days
    items = page.locator("#exhibits li.exhibit")
    await expect(items).to_have_count(5)  # browsing: the whole catalogue, without text

    await page.locator("#q").fill("lithium battery")
    await page.locator("#find-button").click()
    await expect(items.first).to_contain_text(re.compile("lithium", re.IGNORECASE))
    await expect(page.locator("#exhibits")).to_contain_text("separator film")
    await expect(page.locator("#exhibits")).not_to_contain_text("Robot")
    # Hall B: two of these results; the choices name the catalogue's halls with their counts.
    hall = page.locator("#f-hall")
    await expect(hall.locator("option", has_text="Hall B (2)")).to_have_count(1)
    await hall.select_option(label="Hall B (2)")
    await expect(items).to_have_count(2)
    # TRL up to 5 (the levels offered are those the catalogue has).
    await page.locator("#f-trl-max").select_option("5")
    await expect(items).to_have_count(1)
    await expect(items.first).to_contain_text("Lithium battery separator film")
    await expect(items.first).to_contain_text("Booth C3, hall B")
    await page.locator("#f-trl-min").select_option("7")  # above the maximum: the maximum goes
    await expect(items.first).to_contain_text("钙钛矿太阳能电池")
    await page.locator("#f-trl-max").select_option("5")  # below the minimum: the minimum goes
    await expect(items).to_have_count(1)
    await page.locator("#f-trl-min").select_option("4")
    await page.locator("#f-kind").select_option("joint_rnd")
    await expect(items).to_have_count(1)
    await page.locator("#f-kind").select_option("")
    await screenshot(page, "miniapp-catalogue.png")
    await items.first.locator("button.save").click()
    await expect(page.locator("#message")).to_contain_text("Saved: see /saved")
    await expect(items.first.locator("button.save")).to_have_text("Saved")
    await expect(items.first.locator("button.save")).to_be_disabled()

    # The same shortlist as the chat's.
    await anna.send_text("/saved")
    shortlist = await anna.expect("Your saved exhibits")
    assert "Lithium battery separator film" in shortlist.text
    assert "Fast charging" not in shortlist.text


async def test_the_catalogue_in_arabic_fits_360_px(
    api: FakeBotApi, web_bot: BotApplication, browser: object, clock: ManualClock
) -> None:
    layla = api.user(511, "ليلى", language_code="ar")
    await registered(web_bot, layla, "ar", "ليلى الحسن", "جامعة الملك عبدالله", "SA")
    long_row = "E9,Org,Z9,B,," + "超长标题没有空格" * 12 + ",3,licence\n"
    await services_of(web_bot).exhibits.import_parsed(parse_csv((CATALOGUE + long_row).encode()))
    page = await new_page(browser, width=360, height=740)  # type: ignore[arg-type]
    await page.goto(miniapp_url(web_bot, init_data(api, layla, clock.now()), "tab=catalogue"))
    await page.wait_for_function("document.body.dataset.ready === 'true'")
    assert await page.evaluate("document.documentElement.dir") == "rtl"
    await expect(page.locator("#tab-catalogue")).to_have_text("الدليل")
    solar = page.locator("#exhibits li.exhibit", has_text="钙钛矿太阳能电池")
    await expect(solar.locator(".lang")).to_have_text("(الصينية)")
    await expect(page.locator("#l-hall")).to_have_text("🏛 القاعة")
    await page.locator("#f-kind").select_option("licence")
    await expect(page.locator("#exhibits li.exhibit")).to_have_count(3)
    await screenshot(page, "miniapp-catalogue-ar.png")
    await fits(page, 360)


async def test_the_catalogue_api_applies_the_miniapp_rules(
    api: FakeBotApi, web_bot: BotApplication, clock: ManualClock
) -> None:
    anna = api.user(521, "Anna", language_code="en")
    stranger = api.user(522, "Stranger", language_code="en")
    anna_id = await registered(web_bot, anna, "en", "Anna", "TPU")
    services = services_of(web_bot)
    await services.exhibits.import_parsed(parse_csv(CATALOGUE.encode()))
    base = base_url(web_bot) + "/app/api/exhibits"
    good = {"Authorization": f"tma {init_data(api, anna, clock.now())}"}
    forged = {"Authorization": "tma " + init_data(api, anna, clock.now()).replace("521", "522")}
    async with aiohttp.ClientSession() as http:
        for headers in ({}, forged):
            async with http.get(base, headers=headers) as response:
                assert response.status == 401
            async with http.post(f"{base}/save", json={"exhibit": 1}, headers=headers) as r:
                assert r.status == 401
        stranger_auth = {"Authorization": f"tma {init_data(api, stranger, clock.now())}"}
        async with http.get(base, headers=stranger_auth) as response:
            assert response.status == 403
        for query in ("hall=Z", "kind=licence2", "field=nope", "trl_min=0", "trl_min=8&trl_max=3",
                      "trl_max=x", "offset=-1"):  # fmt: skip
            async with http.get(f"{base}?{query}", headers=good) as response:
                assert response.status == 400, query
        async with http.get(f"{base}?q=water&kind=licence&trl_min=5", headers=good) as response:
            body = await response.json()
        assert [x["title"] for x in body["results"]] == ["Water purification membrane"]
        assert body["filters"]["trl_min"] == 5 and body["total"] == 1
        for bad in ({"exhibit": "1"}, {"exhibit": 2**70}, {}, {"exhibit": True}):
            async with http.post(f"{base}/save", json=bad, headers=good) as response:
                assert response.status == 400, bad
        async with http.post(f"{base}/save", json={"exhibit": 999}, headers=good) as response:
            assert response.status == 404
    assert await services.exhibits.saved(anna_id) == []
