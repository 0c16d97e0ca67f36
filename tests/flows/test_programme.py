"""/programme as delegates see it, in English and Russian, and a session reminder on time."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from babel.dates import format_interval, format_skeleton

from bot.app import BotApplication
from bot.domain.clock import ManualClock, from_iso
from bot.sandbox.fake_api import FakeBotApi
from bot.services.programme import parse_toml
from handlers import callbacks
from tests.flows.items_kit import seen, services_of, t
from tests.flows.test_meetings import registered, run_due

ZONE = ZoneInfo("Asia/Shanghai")
MINUTE = dt.timedelta(minutes=1)
# The clock stands at 09:00 in Shanghai: the keynote has just begun, the forum is ahead.
FORUM = dt.datetime(2026, 11, 24, 1, 30, tzinfo=dt.UTC)
PROGRAMME = """\
[[sessions]]
key = "keynote"
kind = "session"
starts = 2026-11-24T09:00:00
ends = 2026-11-24T09:30:00
title = { en = "Keynote", ru = "Ключевой доклад" }

[[sessions]]
key = "forum"
kind = "forum"
starts = 2026-11-24T09:30:00
ends = 2026-11-24T10:30:00
room = "Hall <A>"
speakers = ["Anna Petrova", "Li Wei"]
title = { en = "Battery forum", ru = "Форум о батареях" }

[[sessions]]
key = "pitch"
kind = "roadshow"
starts = 2026-11-24T11:00:00
ends = 2026-11-24T12:00:00
title = { zh = "路演" }

[[sessions]]
key = "closing"
kind = "other"
starts = 2026-11-25T16:00:00
ends = 2026-11-25T17:00:00
title = { en = "Closing" }
"""
DAY1 = dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC)
DAY2 = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)
CHOOSE = "<b>Event programme</b>\nChoose a day:"


def day_button(locale: str, moment: dt.datetime) -> str:
    return format_skeleton("MMMEd", moment, tzinfo=ZONE, locale=locale)


def hours(locale: str, start: dt.datetime, minutes: int) -> str:
    end = start + minutes * MINUTE
    return format_interval(start, end, "Hm", tzinfo=ZONE, locale=locale)


async def load(bot: BotApplication) -> dict[str, int]:
    service = services_of(bot).programme
    await service.repo.load(parse_toml(PROGRAMME, ZONE).sessions)
    return {s.data.key: s.id for s in await service.repo.all()}


async def test_programme_by_day_in_two_languages_and_a_reminder(
    api: FakeBotApi, bot: BotApplication, clock: ManualClock
) -> None:
    ids = await load(bot)
    anna = api.user(401, "Anna", language_code="en")
    ivan = api.user(402, "Иван", language_code="ru")
    guest = api.user(403, "Guest", language_code="en")
    anna_id = await registered(bot, anna, "en", "Anna", "en", "anna@example.com")
    await registered(bot, ivan, "ru", "Иван", "ru", "ivan@example.com")

    # Ivan: the days as buttons, in Russian.
    await ivan.send_text("/programme")
    days = await ivan.expect(seen("ru", CHOOSE))
    assert days.button_texts() == [day_button("ru", DAY1), day_button("ru", DAY2)]
    await ivan.press(0, days)
    heading = format_skeleton("MMMMEEEEd", DAY1, tzinfo=ZONE, locale="ru")
    day = await ivan.expect(re.escape(heading))
    assert "Форум о батареях" in day.text and "Ключевой доклад" in day.text
    assert hours("ru", FORUM, 60) in day.text
    # The speakers are listed the way Russian lists things (CLDR), not hand-joined by commas.
    assert "Hall <A>" in day.text and "Anna Petrova и Li Wei" in day.text
    assert t("ru", "Forum") in day.text and t("ru", "Roadshow") in day.text
    assert "路演" in day.text  # no Russian, no English title: any title there is
    # The keynote has begun: reminders only for the forum and the roadshow, then the other day.
    forum_label = f"{hours('ru', FORUM, 60)} Форум о батареях"  # short enough to show whole
    assert day.button_texts()[0] == t("ru", "🔔 Remind me: {session}", session=forum_label)
    assert len(day.button_texts()) == 3
    assert day.button_texts()[-1] == day_button("ru", DAY2)
    await ivan.press(0, day)
    marked = await ivan.expect(seen("ru", "🔔 You will be reminded."))
    cancel = t("ru", "🔕 Cancel reminder: {session}", session=forum_label)
    assert marked.button_texts()[0] == cancel
    await api.settle()
    assert ivan.callback_answers[-1].get("text") == t(
        "ru", "🔔 I will remind you {minutes} minutes before.", minutes=10
    )

    # Anna, in English: asks for the forum, then changes her mind.
    await anna.send_text("/programme")
    await anna.press(day_button("en", DAY1), await anna.expect(seen("en", CHOOSE)))
    english = await anna.expect("Battery forum")
    assert hours("en", FORUM, 60) in english.text and "Keynote" in english.text
    await anna.press(0, english)
    english = await anna.expect("You will be reminded")
    await anna.press("Cancel reminder", english)
    english = await anna.expect("Battery forum")
    assert "You will be reminded" not in english.text
    # The other day, by its button.
    await anna.press(day_button("en", DAY2), english)
    closing = await anna.expect("Closing")
    assert day_button("en", DAY1) in closing.button_texts()

    # Stale or forged presses: a session that has begun, one that does not exist.
    await anna.press_data(callbacks.make("pr", "on", ids["keynote"]), closing)
    await api.settle()
    assert anna.callback_answers[-1].get("show_alert") is True
    await anna.press_data(callbacks.make("pr", "on", 9999), closing)
    await api.settle()
    assert anna.callback_answers[-1].get("show_alert") is True
    assert len(await services_of(bot).programme.repo.reminded(anna_id)) == 0

    # Someone not registered reads the programme but is asked to register for reminders.
    await guest.send_text("/programme")
    await guest.press(0, await guest.expect(seen("en", CHOOSE)))
    page = await guest.expect("Battery forum")
    assert "/start" in page.text and page.button_texts() == [day_button("en", DAY2)]

    # The reminder: ten minutes before, once, in Ivan's language; nothing for Anna.
    await run_due(bot, clock, FORUM - 11 * MINUTE)
    await run_due(bot, clock, FORUM - 10 * MINUTE)
    reminder = await ivan.expect("⏰")
    assert "Форум о батареях" in reminder.text and "Hall &lt;A&gt;" not in reminder.text
    assert "Hall <A>" in reminder.text
    await run_due(bot, clock, FORUM - 9 * MINUTE)
    await api.settle()
    sent = [c for c in api.calls if c.method == "sendMessage" and "⏰" in c.params["text"]]
    assert len(sent) == 1
    assert sent[0].params["chat_id"] == ivan.chat_id
    # Had Telegram failed, it would have been retried until the forum begins, not after.
    expiry = await services_of(bot).db.fetchval(
        "SELECT expires_at FROM outbox WHERE dedupe_key LIKE 'programme:%:remind:%'"
    )
    assert expiry is not None and from_iso(expiry) == FORUM

    # Once the forum has begun its buttons are refused.
    clock.set(FORUM + MINUTE)
    await ivan.press_data(callbacks.make("pr", "off", ids["forum"]), marked)
    await api.settle()
    assert ivan.callback_answers[-1].get("show_alert") is True


async def test_no_programme_yet(api: FakeBotApi, bot: BotApplication) -> None:
    ivan = api.user(501, "Иван", language_code="ru")
    await ivan.send_text("/programme")
    await ivan.expect(seen("ru", "The programme has not been published yet."))
