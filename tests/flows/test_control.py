"""Control of the day: find a delegate, move and cancel meetings, reachability, booking links."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import BotApplication
from bot.domain.clock import ManualClock
from bot.domain.meetings import MeetingState
from bot.domain.scheduling import parse_schedule
from bot.sandbox.fake_api import FakeBotApi
from tests.flows.broadcast_kit import ORGANIZER, seed, services_of
from tests.flows.conftest import flow_settings, start_bot, stop_bot

FIRST_SLOT = dt.datetime(2026, 11, 24, 1, 30, tzinfo=dt.UTC)  # 09:30 in Shanghai
SCHEDULE = {
    "days": ["2026-11-24"],
    "sessions": ["09:30-12:00"],
    "tables": "A1..A2",
    "room": "Hall 3",
}
REFUSAL = "only available to the event organizers"


@pytest.fixture
async def bot(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[BotApplication]:
    settings = flow_settings(api, tmp_path / "control.db")
    schedule = parse_schedule(SCHEDULE, zone=settings.timezone)
    app = await start_bot(dataclasses.replace(settings, schedule=schedule), clock)
    yield app
    await stop_bot(app)


async def book(app: BotApplication, a: int, b: int) -> int:
    repo = services_of(app).meetings.repo
    async with services_of(app).db.transaction():
        meeting = await repo.insert_request(
            a, b, FIRST_SLOT, FIRST_SLOT + dt.timedelta(minutes=20), FIRST_SLOT,
            note=None, reason=None,
        )  # fmt: skip
        await repo.book(meeting, "A1")
    return meeting.id


async def test_organizer_moves_and_cancels_a_meeting(api: FakeBotApi, bot: BotApplication) -> None:
    ivan = await seed(api, bot, 501, locale="ru")
    li = await seed(api, bot, 502, locale="zh")
    services = services_of(bot)
    ivan_id = (await services.delegates.by_telegram_user(501)).id  # type: ignore[union-attr]
    li_id = (await services.delegates.by_telegram_user(502)).id  # type: ignore[union-attr]
    meeting_id = await book(bot, ivan_id, li_id)
    organizer = api.user(ORGANIZER, "Olga", language_code="en")

    await organizer.send_text("/find 501")
    found = await organizer.expect("1 delegate found")
    await organizer.press(0, found)
    card = await organizer.expect(f"#{meeting_id} ")
    assert "table A1" in card.text and "Delegate 502" in card.text
    await organizer.press(f"🔀 Move #{meeting_id}", card)
    slots = await organizer.expect("Move meeting")
    await organizer.press(0, slots)
    moved = await organizer.expect("moved to")
    assert "Both were told" in moved.text
    await services.delivery.sender.wait_idle(timeout=10)
    for user in (ivan, li):
        told = [m for m in user.messages if "Delegate 50" in m.text]
        assert len(told) == 1, user.dump()
    assert "нояб" in ivan.messages[-1].text and "11月" in li.messages[-1].text
    old = await services.meetings.get(meeting_id)
    assert old is not None and old.state is MeetingState.RESCHEDULED
    [current] = [m for m in await services.meetings.agenda(ivan_id)]
    assert current.state is MeetingState.ACCEPTED and current.slot_start > FIRST_SLOT

    await organizer.send_text("/find Delegate 502")
    await organizer.press(0, await organizer.expect("delegate found"))
    card = await organizer.expect(f"#{current.id} ")
    await organizer.press(f"❌ Cancel #{current.id}", card)
    confirm = await organizer.expect("for both delegates")
    mallory = api.user(666, "Mallory", language_code="en")
    await mallory.press_data(confirm.buttons[0][0][1] or "", confirm)
    await api.settle()
    assert REFUSAL in mallory.callback_answers[-1].get("text", "")
    assert (await services.meetings.get(current.id)).state is MeetingState.ACCEPTED  # type: ignore[union-attr]
    await organizer.press(0, confirm)
    await organizer.expect("was cancelled")
    await services.delivery.sender.wait_idle(timeout=10)
    assert (await services.meetings.get(current.id)).state is MeetingState.CANCELLED  # type: ignore[union-attr]
    # Each is told in their own language (the wording may be translated by now; the date is).
    for user, month in ((ivan, "нояб"), (li, "11月")):
        assert len(user.messages) == 2 and "Delegate 50" in user.messages[-1].text
        assert month in user.messages[-1].text
    actions = [e.action for e in await services.broadcasts.audit.recent()]
    assert actions[:2] == ["cancel_meeting", "move_meeting"]


async def test_reachability_and_booking_link(api: FakeBotApi, bot: BotApplication) -> None:
    anna = await seed(api, bot, 510, locale="en")
    services = services_of(bot)
    anna_id = (await services.delegates.by_telegram_user(510)).id  # type: ignore[union-attr]
    old_token = await services.meetings.booking_token(anna_id)
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    await organizer.send_text("/find Delegate 510")
    await organizer.press(0, await organizer.expect("delegate found"))
    card = await organizer.expect("Reachable in Telegram: yes")
    await organizer.press("🔗 Revoke booking link", card)
    await api.settle()
    assert "no longer works" in organizer.callback_answers[-1].get("text", "")
    assert await services.meetings.booking_token(anna_id) != old_token
    await services.delivery.sender.wait_idle(timeout=10)
    assert "replaced your booking link" in anna.messages[-1].text
    await organizer.press("🚫 Mark unreachable", card)
    card = await organizer.expect("Reachable in Telegram: no")
    assert (await services.delegates.get(anna_id)).reachable is False  # type: ignore[union-attr]
    await organizer.press("✅ Mark reachable", card)
    await organizer.expect("Reachable in Telegram: yes")
    await services.delivery.sender.wait_idle(timeout=10)
    assert "can reach you here again" in anna.messages[-1].text
    actions = [e.action for e in await services.broadcasts.audit.recent()]
    assert actions[:3] == ["mark_reachable", "mark_unreachable", "revoke_booking_link"]
    stranger = await seed(api, bot, 511, locale="en")
    await stranger.send_text("/find Delegate")
    await stranger.expect(REFUSAL)
    await stranger.press_data(f"ct1:unr:{anna_id}", card)
    await api.settle()
    assert REFUSAL in stranger.callback_answers[-1].get("text", "")
    assert (await services.delegates.get(anna_id)).reachable is True  # type: ignore[union-attr]
