"""Control of the day: find a delegate, move and cancel meetings, tables, reachability, booking
links, wrong claims and merging two profiles."""

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
from bot.services import day_control as ctl
from handlers.organizer.control import control_of
from storage.importer import PROFILE_COLUMNS
from storage.matches import Mark
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
    actions = [e.action for e in await services.organizers.audit.recent()]
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
    actions = [e.action for e in await services.organizers.audit.recent()]
    assert actions[:3] == ["mark_reachable", "mark_unreachable", "revoke_booking_link"]
    stranger = await seed(api, bot, 511, locale="en")
    await stranger.send_text("/find Delegate")
    await stranger.expect(REFUSAL)
    await stranger.press_data(f"ct1:unr:{anna_id}", card)
    await api.settle()
    assert REFUSAL in stranger.callback_answers[-1].get("text", "")
    assert (await services.delegates.get(anna_id)).reachable is True  # type: ignore[union-attr]


async def book_at(app: BotApplication, a: int, b: int, table: str) -> int:
    repo = services_of(app).meetings.repo
    async with services_of(app).db.transaction():
        meeting = await repo.insert_request(
            a, b, FIRST_SLOT, FIRST_SLOT + dt.timedelta(minutes=20), FIRST_SLOT,
            note=None, reason=None,
        )  # fmt: skip
        await repo.book(meeting, table)
    return meeting.id


async def delegate_id(app: BotApplication, user_id: int) -> int:
    found = await services_of(app).delegates.by_telegram_user(user_id)
    assert found is not None
    return found.id


async def imported(app: BotApplication, external_id: str, name: str, locale: str) -> int:
    """An imported profile nobody claimed yet."""
    values: dict[str, object] = {c: None for c in PROFILE_COLUMNS}
    values.update(
        name=name, organization="Nanjing Tech", country="CN", locale=locale, role="university",
        meeting_languages="en", consent=1,
    )  # fmt: skip
    services = services_of(app)
    async with services.db.transaction():
        return await services.imports.insert(external_id, values)


async def test_organizer_swaps_a_table(api: FakeBotApi, bot: BotApplication) -> None:
    ivan = await seed(api, bot, 541, locale="ru")
    li = await seed(api, bot, 542, locale="zh")
    services = services_of(bot)
    meeting_id = await book_at(bot, await delegate_id(bot, 541), await delegate_id(bot, 542), "A1")
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    await organizer.send_text("/find Delegate 541")
    await organizer.press(0, await organizer.expect("delegate found"))
    card = await organizer.expect(f"#{meeting_id} ")
    await organizer.press(f"🪑 Table #{meeting_id}", card)
    choice = await organizer.expect("Seat meeting")
    assert [row[0][0] for row in choice.buttons] == ["A2"]  # A1 is its own table
    mallory = api.user(666, "Mallory", language_code="en")
    await mallory.press_data(choice.buttons[0][0][1] or "", choice)
    await api.settle()
    assert REFUSAL in mallory.callback_answers[-1].get("text", "")
    assert (await services.meetings.get(meeting_id)).table == "A1"  # type: ignore[union-attr]
    await organizer.press("A2", choice)
    await organizer.expect("now at table A2")
    assert (await services.meetings.get(meeting_id)).table == "A2"  # type: ignore[union-attr]
    await services.delivery.sender.wait_idle(timeout=10)
    for user, month in ((ivan, "нояб"), (li, "11月")):
        [told] = [m for m in user.messages if "A2" in m.text]
        assert month in told.text and "Delegate 54" in told.text
    [entry] = await services.organizers.audit.recent(1)
    assert (entry.action, entry.subject) == ("swap_table", f"meeting:{meeting_id}")
    assert entry.detail == {"from": "A1", "to": "A2"}
    # Another pair takes A1 in the same slot: no table is left, and a stale choice is refused.
    await seed(api, bot, 543, locale="en")
    await seed(api, bot, 544, locale="en")
    await book_at(bot, await delegate_id(bot, 543), await delegate_id(bot, 544), "A1")
    control = control_of(services)
    assert await control.free_tables(meeting_id) == []
    for table in ("A1", "A2", "Z9"):
        with pytest.raises(ctl.TableNotFree):
            await control.swap_table(ORGANIZER, meeting_id, table)
    assert (await services.meetings.get(meeting_id)).table == "A2"  # type: ignore[union-attr]
    await organizer.press(f"🪑 Table #{meeting_id}", card)
    await organizer.expect("No other table is free")


async def test_organizer_undoes_a_wrong_claim(api: FakeBotApi, bot: BotApplication) -> None:
    services = services_of(bot)
    profile_id = await imported(bot, "EXT-1", "Wang Fang", "en")
    old_token = await services.db.fetchval(
        "SELECT claim_token FROM delegates WHERE id = ?", (profile_id,)
    )
    wrong = api.user(520, "Wrong", language_code="en")
    assert await services.claims.bind(profile_id, 520, 520)
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    await organizer.send_text("/find EXT-1")
    await organizer.press(0, await organizer.expect("1 delegate found"))
    card = await organizer.expect("Profile #")
    await organizer.press("↩️ Undo claim", card)
    confirm = await organizer.expect("Unbind the Telegram account")
    await organizer.press(0, confirm)
    done = await organizer.expect("claim was undone")
    target = await services.claims.target(profile_id)
    assert target is not None and not target.claimed and target.name == "Wang Fang"
    token = done.text.rsplit("?start=", 1)[1].strip()
    assert token != old_token and token.startswith("c_")
    assert await services.claims.by_claim_token(token) == target
    assert await services.delegates.by_telegram_user(520) is None
    await services.delivery.sender.wait_idle(timeout=10)
    assert "linked by mistake" in wrong.messages[-1].text
    [entry] = await services.organizers.audit.recent(1)
    assert (entry.action, entry.subject) == ("undo_claim", f"delegate:{profile_id}")
    assert entry.detail == {"telegram_user_id": 520}
    # Pressed again (or on an unclaimed profile): refused, nothing changes.
    await organizer.press(0, confirm)
    await api.settle()
    assert await services.claims.by_claim_token(token) == target
    with pytest.raises(ctl.NotClaimed):
        await control_of(services).undo_claim(ORGANIZER, profile_id)
    # The right person opens the new link and gets the profile.
    right = api.user(521, "Fang", language_code="en")
    await right.send_text(f"/start {token}")
    await api.settle()
    assert (await delegate_id(bot, 521)) == profile_id


async def test_organizer_merges_two_profiles(api: FakeBotApi, bot: BotApplication) -> None:
    services = services_of(bot)
    into = await imported(bot, "EXT-2", "Wang Fang", "en")
    fang = await seed(api, bot, 530, locale="zh")
    chat = await delegate_id(bot, 530)
    other = await seed(api, bot, 531, locale="en")
    other_id = await delegate_id(bot, 531)
    item = await services.matching.items.add(chat, "offer", "Catalyst for green hydrogen")
    await services.matching.matches.add_mark(chat, other_id, Mark.INTERESTED)
    await services.matching.matches.add_mark(other_id, chat, Mark.HIDDEN)
    meeting_id = await book_at(bot, other_id, chat, "A1")
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    await organizer.send_text(f"/merge {chat} {into}")  # either order
    confirm = await organizer.expect("Merge profile")
    assert f"#{chat}" in confirm.text and f"#{into}" in confirm.text
    await organizer.press("Yes, merge", confirm)
    await organizer.expect("was merged")
    assert await delegate_id(bot, 530) == into
    merged = await services.delegates.get(into)
    assert merged is not None and merged.locale == "zh" and merged.name == "Wang Fang"
    gone = await control_of(services).repo.get(chat)
    assert gone is None  # erased as /delete_me does
    assert [i.id for i in await services.matching.items.for_delegate(into)] == [item.id]
    assert await services.matching.items.for_delegate(chat) == []
    assert await services.matching.matches.marked(into, Mark.INTERESTED) == {other_id}
    assert await services.matching.matches.marked(other_id, Mark.HIDDEN) == {into}
    meeting = await services.meetings.get(meeting_id)
    assert meeting is not None and meeting.participants == (other_id, into)
    assert meeting.state is MeetingState.ACCEPTED
    assert await services.meetings.repo.busy([into]) == {FIRST_SLOT}
    assert await services.meetings.repo.busy([chat]) == set()
    await services.delivery.sender.wait_idle(timeout=10)
    assert len(fang.messages) == 1 and "/profile" in fang.messages[-1].text
    assert other.messages == []
    entries = await services.organizers.audit.recent(2)
    assert [(e.action, e.subject) for e in entries] == [
        ("merged_into", f"delegate:{chat}"),
        ("merge_profiles", f"delegate:{into}"),
    ]
    assert entries[1].detail == {"from": chat, "items": 1, "meetings": 1, "marks": 2}
    # The merged profile is claimed now: merging again is refused.
    await organizer.send_text(f"/merge {into} {chat}")
    await organizer.expect("nothing to merge")


async def test_merge_rolls_back_on_a_conflict(api: FakeBotApi, bot: BotApplication) -> None:
    services = services_of(bot)
    into = await imported(bot, "EXT-3", "Wang Fang", "en")
    await seed(api, bot, 535, locale="zh")
    chat = await delegate_id(bot, 535)
    for user_id in (536, 537):
        await seed(api, bot, user_id, locale="en")
    await services.matching.items.add(chat, "need", "Pilot plant partner")
    await services.matching.matches.add_mark(chat, await delegate_id(bot, 536), Mark.INTERESTED)
    theirs = await book_at(bot, await delegate_id(bot, 536), into, "A1")
    clash = await book_at(bot, chat, await delegate_id(bot, 537), "A2")
    before = len(await services.organizers.audit.recent())
    with pytest.raises(ctl.MergeConflict):
        await control_of(services).merge(ORGANIZER, into, chat)
    # Nothing moved: the chat profile is whole, the imported one still unclaimed.
    assert await delegate_id(bot, 535) == chat
    target = await services.claims.target(into)
    assert target is not None and not target.claimed
    assert len(await services.matching.items.for_delegate(chat)) == 1
    assert await services.matching.matches.marked(chat, Mark.INTERESTED) != set()
    assert (await services.meetings.get(clash)).participants[0] == chat  # type: ignore[union-attr]
    assert (await services.meetings.get(theirs)).participants[1] == into  # type: ignore[union-attr]
    assert len(await services.organizers.audit.recent()) == before
    # Through the bot the organizer is told why.
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    await organizer.send_text(f"/merge {into} {chat}")
    await organizer.press("Yes, merge", await organizer.expect("Merge profile"))
    await api.settle()
    assert "clashes" in organizer.callback_answers[-1].get("text", "")
    assert await delegate_id(bot, 535) == chat
