"""Links the organizer writes reach delegates as written, whatever their URL holds."""

from __future__ import annotations

import pytest

from bot.app import BotApplication
from bot.sandbox.fake_api import FakeBotApi
from tests.flows.broadcast_kit import ORGANIZER, seed
from tests.flows.test_broadcast import finish


@pytest.mark.parametrize(
    "url",
    [
        'https://example.org/map?a=1&b="2"',
        "https://example.org/it's?x=<y>&z=&amp;",
    ],
)
async def test_a_link_with_quotes_in_its_url_reaches_delegates_unchanged(
    api: FakeBotApi, bot: BotApplication, url: str
) -> None:
    delegate = await seed(api, bot, 4301, locale="en")
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    await organizer.send_text("/broadcast")
    await organizer.expect("New announcement")
    text = "Lunch: see the map"
    link = {"type": "text_link", "offset": 14, "length": 4, "url": url}
    api.push_user_message(organizer, {"text": text, "entities": [link]})
    menu = await organizer.expect("Versions written")
    await organizer.press(-2, menu)  # keep one text for all
    await organizer.press("Everyone", await organizer.expect("Who should receive"))
    confirm = await organizer.expect("Send the announcement to 1 delegate")
    await organizer.press("Send now", confirm)
    await organizer.expect("Announcement #")
    await finish(bot)
    await api.settle()
    assert api.rejected == [], api.rejected[0].error
    got = [m for m in delegate.messages if "Lunch" in m.text]
    assert len(got) == 1, delegate.dump()
    links = [e for e in got[0].raw.get("entities", []) if e["type"] == "text_link"]
    assert [(e["url"], got[0].text[e["offset"] : e["offset"] + e["length"]]) for e in links] == [
        (url, "map")
    ]
