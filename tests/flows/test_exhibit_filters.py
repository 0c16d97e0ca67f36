"""Filters of /search over the fake Bot API: field, hall, TRL and deal kind buttons, in English
and Arabic, with browsing without text, and stale or forged presses refused."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import BotApplication
from bot.domain.clock import ManualClock
from bot.domain.exhibits import parse_csv
from bot.domain.scheduling import parse_schedule
from bot.sandbox.fake_api import BotMessage, FakeBotApi, FakeUser
from tests.flows.conftest import flow_settings, start_bot, stop_bot
from tests.flows.items_kit import name, t
from tests.flows.test_meetings import SCHEDULE, registered, services_of

CATALOGUE = (
    "key,organization,booth,hall,title_en,title_zh,trl,deal_kinds\n"
    "E1,Xi'an Jiaotong,B12,A,Fast charging of lithium batteries,,7,licence\n"
    "E2,Tomsk Polytechnic,C3,B,Lithium battery separator film,,4,joint_rnd\n"
    "E3,KAUST,D1,A,Water purification membrane,,5,licence\n"
    "E4,Solar Lab,D2,B,,钙钛矿太阳能电池,8,investment\n"
    "E5,Robot Works,F1,10,Industrial robot arm for welding,,2,product\n"
)


@pytest.fixture
async def bot(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotApplication]:
    settings = flow_settings(api, tmp_path / "filters.db")
    schedule = parse_schedule(SCHEDULE, zone=settings.timezone)
    app = await start_bot(dataclasses.replace(settings, schedule=schedule), clock)
    await services_of(app).exhibits.import_parsed(parse_csv(CATALOGUE.encode()))
    yield app
    await stop_bot(app)


async def refused(api: FakeBotApi, user: FakeUser) -> None:
    await api.settle()
    answer = user.callback_answers[-1]
    assert answer.get("show_alert") is True, answer


async def pressed(user: FakeUser, label: str, message: BotMessage, then: str) -> BotMessage:
    await user.press(label, message)
    return await user.expect(then)


async def test_search_results_filter_by_hall_trl_and_kind_in_english(
    api: FakeBotApi, bot: BotApplication
) -> None:
    anna = api.user(401, "Anna", language_code="en")
    await registered(bot, anna, "en", "Anna", "en", "anna@tpu.ru")
    await anna.send_text("/search lithium battery")
    results = await anna.expect("Exhibits for")
    assert "Fast charging" in results.text and "separator film" in results.text
    labels = results.button_texts()
    assert {"🔬 Field", "🏛 Hall", "📶 TRL", "🤝 Deal kind"} <= set(labels)
    assert "✖ Clear filters" not in labels

    # Halls: the catalogue's own, each with how many of these results it leaves.
    halls = await pressed(anna, "🏛 Hall", results, "Choose a hall")
    assert halls.edited and halls.message_id == results.message_id
    # A small catalogue is scored whole: the solar cell (电池, a cell) is a weak third result.
    assert "Hall A (1)" in halls.button_texts() and "Hall B (2)" in halls.button_texts()
    assert not any("10" in label for label in halls.button_texts()), "no robot in these results"
    in_b = await pressed(anna, "Hall B (2)", halls, "Filters: Hall B")
    assert "separator film" in in_b.text and "Fast charging" not in in_b.text
    assert "✖ Clear filters" in in_b.button_texts()

    # TRL as a band or a minimum, combined with the hall; then a kind that leaves nothing else.
    levels = await pressed(anna, "📶 TRL", in_b, "Choose a technology readiness level")
    assert "TRL 4–6 (1)" in levels.button_texts()
    banded = await pressed(anna, "TRL 4–6 (1)", levels, "TRL 4–6")
    assert "Filters: Hall B and TRL 4–6" in banded.text and "separator film" in banded.text
    cleared = await pressed(anna, "✖ Clear filters", banded, "Exhibits for")
    assert "Filters:" not in cleared.text and "Fast charging" in cleared.text
    kinds = await pressed(anna, "🤝 Deal kind", cleared, "Choose a kind of deal")
    licence = f"{name('licence', 'en')} (1)"
    assert licence in kinds.button_texts()
    licensed = await pressed(anna, licence, kinds, "Filters:")
    assert "Fast charging" in licensed.text and "separator film" not in licensed.text
    again = await pressed(anna, "📶 TRL", licensed, "Choose a technology")
    at_least = await pressed(anna, "TRL 7 or higher (1)", again, "TRL 7 or higher")
    assert "Fast charging" in at_least.text

    # A press made before the catalogue changed names positions that moved: refused.
    stale = at_least.snapshot()
    extra = "E6,New Org,G1,C,Hydrogen fuel cell stack,,6,licence\n"
    await services_of(bot).exhibits.import_parsed(parse_csv((CATALOGUE + extra).encode()))
    await anna.press("🏛 Hall", stale)
    await refused(api, anna)
    # Forged: a position past the catalogue's halls, a search this chat never made, junk.
    facets = await services_of(bot).exhibits.facets()
    from handlers.exhibit_filters import query_digest

    for arg in (
        f"{query_digest('lithium battery')}{facets.fingerprint}_h99_0",
        f"{query_digest('never searched')}{facets.fingerprint}__0",
        f"{query_digest('lithium battery')}{facets.fingerprint}_h0h1_0",
        "zz",
    ):
        await anna.press_data(f"x1:more:{arg}", stale)
        await refused(api, anna)
    await anna.press_data(f"x1:menu:q{query_digest('')}{facets.fingerprint}__0", stale)
    await refused(api, anna)


async def test_browsing_without_text_in_arabic(api: FakeBotApi, bot: BotApplication) -> None:
    layla = api.user(411, "ليلى", language_code="ar")
    await registered(bot, layla, "ar", "ليلى", "ar en", "layla@kaust.sa")
    await layla.send_text("/search")
    prompt = await layla.expect(t("ar", "Send /search and what you are looking for."))
    assert t("ar", "Or browse the catalogue by field, hall, TRL or deal kind:") in prompt.text

    fields = await pressed(
        layla, t("ar", "🔬 Field"), prompt, t("ar", "Choose a technology field:")
    )
    water = name("env.water_treatment", "ar")
    choice = next(label for label in fields.button_texts() if water in label)
    found = await pressed(layla, choice, fields, t("ar", "Exhibits in the catalogue:"))
    assert water in found.text and "Water purification membrane" in found.text
    # The English title, its language named in Arabic.
    assert "(\u2068الإنجليزية\u2069)" in found.text
    assert "Fast charging" not in found.text

    # A Chinese-only exhibit through the hall filter, its language named; then no results.
    halls = await pressed(layla, t("ar", "🏛 Hall"), found, t("ar", "Choose a hall:"))
    back = await pressed(layla, t("ar", "Any"), halls, t("ar", "Exhibits in the catalogue:"))
    assert "Water purification membrane" in back.text
    cleared = await pressed(
        layla, t("ar", "✖ Clear filters"), back, t("ar", "Exhibits in the catalogue:")
    )
    assert "钙钛矿太阳能电池" in cleared.text and "(\u2068الصينية\u2069)" in cleared.text
    opens = [data for row in cleared.buttons for _, data in row if "x1:open:" in (data or "")]
    assert len(opens) == 5
