"""A meeting time typed instead of pressed (issue 17, item 1), in Russian and Arabic.

The bot offers free times as buttons and says that a time may be typed; "завтра 10:00" or
"غدًا 10:00" is read in the delegate's language and the event's zone (Asia/Shanghai) and taken
as that time's button; a time that is not free is answered with the nearest free times, and
what is no time at all with an example.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import BotApplication
from bot.domain.clock import ManualClock
from bot.domain.scheduling import parse_schedule
from bot.sandbox.fake_api import FakeBotApi
from tests.flows.conftest import flow_settings, start_bot, stop_bot
from tests.flows.items_kit import t
from tests.flows.test_meetings import FIRST_SLOT, SCHEDULE, registered, services_of, token_in

ISOLATES = re.compile("[\u2066-\u2069]")


def opening(locale: str, msgid: str, **params: str) -> str:
    """The words of a message before its first placeholder, as a pattern."""
    filled = {key: "§" for key in params}
    return re.escape(t(locale, msgid, **filled).split("§")[0])


@pytest.fixture
async def bot(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotApplication]:
    settings = flow_settings(api, tmp_path / "typed.db")
    schedule = parse_schedule(SCHEDULE, zone=settings.timezone)
    app = await start_bot(dataclasses.replace(settings, schedule=schedule), clock)
    yield app
    await stop_bot(app)


async def test_a_time_typed_in_russian_on_the_booking_page(
    api: FakeBotApi, bot: BotApplication
) -> None:
    host = api.user(1501, "Host", language_code="en")
    guest = api.user(1502, "Гость", language_code="ru")
    await registered(bot, host, "en", "Host", "en ru", "h@example.com")
    await registered(bot, guest, "ru", "Гость", "ru en", "g@example.com")
    await host.send_text("/badge")
    token = token_in((await host.expect("t.me/")).text)
    await guest.open_link(token)
    page = await guest.expect(opening("ru", "<b>Book a meeting with {name}</b>", name=""))
    hint = t("ru", "You can also type a time, for example {time} or {day_and_time}.",
             time="14:40", day_and_time="завтра 10:00")  # fmt: skip
    assert hint in page.text

    # No time at all: an example in Russian, with CLDR's word for tomorrow.
    await guest.send_text("25:99")
    example = await guest.expect("Не удалось понять время")
    assert "завтра 10:00" in ISOLATES.sub("", example.text)

    # A time between two slots: the nearest free times, as buttons, in time order.
    await guest.send_text("14:45")
    nearest = await guest.expect("у кого-то из вас это время занято")
    labels = nearest.button_texts()
    assert len(labels) == 6 and all("24 нояб." in label for label in labels)
    assert [label[-5:] for label in labels] == [
        "14:00",
        "14:20",
        "14:40",
        "15:00",
        "15:20",
        "15:40",
    ]

    # A day and a time that is free: taken as its button, the request waits for a note.
    await guest.send_text("завтра 10:10")
    draft = await guest.expect(
        opening("ru", "Request a meeting with {name} on {when}?", name="", when="")
    )
    assert "25 нояб." in draft.text and "10:10" in draft.text
    # The Send button's words, typed: the request goes, it does not become the note.
    await guest.send_text(t("ru", "📨 Send request").removeprefix("📨 "))
    await guest.expect("Запрос отправлен|отправлен")
    (meeting,) = [m for m in await services_of(bot).meetings.agenda(1) if m.requester_id == 2]
    assert meeting.note is None
    # 10:10 in Shanghai on the second day.
    assert meeting.slot_start == dt.datetime(2026, 11, 25, 2, 10, tzinfo=dt.UTC)


async def test_a_time_typed_in_arabic_to_propose_another_one(
    api: FakeBotApi, bot: BotApplication
) -> None:
    anna = api.user(1511, "Anna", language_code="en")
    host = api.user(1512, "مضيف", language_code="ar")
    anna_id = await registered(bot, anna, "en", "Anna", "en ar", "anna@tpu.ru")
    host_id = await registered(bot, host, "ar", "مضيف", "ar en", "h@example.com")
    services = services_of(bot)
    await services.meetings.request(anna_id, host_id, FIRST_SLOT, note="Batteries")
    request = await host.expect("Batteries")
    await host.press(t("ar", "🕒 Propose another time"), request)
    times = await host.expect("غدًا 10:00")
    assert times.button_texts()

    # "tomorrow" without its tanween and with Arabic-Indic digits still reads as 10:10.
    await host.send_text("غدا ١٠:١٠")
    asked = await host.expect(
        opening(
            "ar",
            "✉️ I asked {name} whether {when} suits them. Until they accept, nothing changes.",
            name="",
            when="",
        )  # fmt: skip
    )
    assert "25 نوفمبر" in asked.text and "10:10" in asked.text
    proposal = await anna.expect("10:10")
    assert "Nov 25" in proposal.text
