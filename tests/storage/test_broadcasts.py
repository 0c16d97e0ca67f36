"""Broadcast storage: drafts, audiences, launch in one transaction, progress and cancel."""

from __future__ import annotations

import pytest

from bot.config import Settings, load_settings
from bot.domain.clock import ManualClock
from bot.domain.models import Role, Step
from bot.domain.outbox import State
from bot.services.broadcasts import BroadcastService, NoRecipients, NotADraft
from bot.services.organizers import OrganizerService
from storage.broadcasts import Audience, dedupe_key
from storage.db import Database
from storage.delegates import DelegateRepository
from storage.outbox import OutboxRepository
from storage.stats import gather_stats

ORGANIZER = 900


def event_settings() -> Settings:
    return load_settings(
        {},
        overrides={"MATCHMAKER_ORGANIZERS": "900", "MATCHMAKER_TIMEZONE": "Asia/Shanghai"},
        require_token=False,
    )


@pytest.fixture
def service(db: Database, clock: ManualClock) -> BroadcastService:
    return BroadcastService(db, clock, event_settings(), OutboxRepository(db, clock))


async def add(
    db: Database,
    clock: ManualClock,
    user_id: int,
    *,
    locale: str | None = "en",
    country: str = "CN",
    role: Role = Role.COMPANY,
    reachable: bool = True,
) -> int:
    delegates = DelegateRepository(db, clock)
    draft = await delegates.start_draft(user_id, user_id)
    await delegates.update(
        draft.id, locale=locale, name=f"D{user_id}", country=country, role=role,
        step=Step.DONE, reachable=reachable, registered_at=clock.now(),
    )  # fmt: skip
    return draft.id


async def ready(service: BroadcastService, audience: Audience) -> int:
    draft = await service.start(ORGANIZER, ORGANIZER, "en")
    draft = await service.add_text(draft, "Hello <b>all</b>")
    await service.choose_audience(ORGANIZER, draft.id, audience)
    return draft.id


async def test_audiences_filter_and_leave_out_the_unreachable(
    db: Database, clock: ManualClock, service: BroadcastService
) -> None:
    a = await add(db, clock, 1, locale="ru", country="RU", role=Role.INVESTOR)
    b = await add(db, clock, 2, locale=None, country="CN")
    await add(db, clock, 3, locale="ru", reachable=False)
    everyone, excluded = await service.recipients(Audience("all"))
    assert [r.delegate_id for r in everyone] == [a, b] and excluded == 1
    assert [r.locale for r in everyone] == ["ru", "en"]  # no choice: the event's default
    russian, excluded = await service.recipients(Audience("language", "ru"))
    assert [r.delegate_id for r in russian] == [a] and excluded == 1
    english, _ = await service.recipients(Audience("language", "en"))
    assert [r.delegate_id for r in english] == [b]
    assert [r.delegate_id for r in (await service.recipients(Audience("country", "CN")))[0]] == [b]
    investors, _ = await service.recipients(Audience("role", "investor"))
    assert [r.delegate_id for r in investors] == [a]
    assert (await service.recipients(Audience("today")))[0] == []
    await db.execute(
        "INSERT INTO items (delegate_id, side, text, fields, created_at, updated_at) "
        "VALUES (?, 'need', 'x', 'energy.wind ai.vision', '', '')",
        (b,),
    )
    wind, _ = await service.recipients(Audience("field", "energy.wind"))
    assert [r.delegate_id for r in wind] == [b]
    assert (await service.recipients(Audience("field", "energy")))[0] == []


async def test_launch_enqueues_once_and_cancel_drops_the_rest(
    db: Database, clock: ManualClock, service: BroadcastService
) -> None:
    ids = [await add(db, clock, n) for n in range(1, 5)]
    draft_id = await ready(service, Audience("all"))
    launched = await service.launch(ORGANIZER, draft_id)
    assert launched.queued == 4 and launched.broadcast.state == "sending"
    with pytest.raises(NotADraft):
        await service.launch(ORGANIZER, draft_id)
    keys = await db.fetchall("SELECT dedupe_key FROM outbox ORDER BY id")
    assert [k[0] for k in keys] == [dedupe_key(draft_id, i) for i in ids]
    await db.execute("UPDATE outbox SET state = 'sent', sent_at = 'x' WHERE id = 1")
    progress = await service.progress(draft_id)
    assert (progress.sent, progress.left) == (1, 3)
    assert await service.cancel(ORGANIZER, draft_id) == 3
    progress = await service.progress(draft_id)
    assert (progress.sent, progress.cancelled, progress.left) == (1, 3, 0)
    assert (await service.repo.get(draft_id)).state == "cancelled"  # type: ignore[union-attr]
    assert await service.cancel(ORGANIZER, draft_id) == 0
    stats = await gather_stats(db, service.repo)
    assert stats.broadcasts == 1 and stats.broadcast_delivery.cancelled == 3
    assert stats.registered == 4


async def test_nobody_in_the_audience_sends_nothing(
    db: Database, clock: ManualClock, service: BroadcastService
) -> None:
    await add(db, clock, 1, country="RU")
    draft_id = await ready(service, Audience("country", "KR"))
    with pytest.raises(NoRecipients):
        await service.launch(ORGANIZER, draft_id)
    assert (await service.repo.get(draft_id)).state == "draft"  # type: ignore[union-attr]
    assert await db.fetchval("SELECT count(*) FROM outbox") == 0


async def test_finished_broadcasts_settle_and_the_draft_survives_a_reopen(
    db: Database, clock: ManualClock, service: BroadcastService
) -> None:
    await add(db, clock, 1)
    draft = await service.start(ORGANIZER, ORGANIZER, "ru")
    assert service.awaited_locale(draft) == "ru"
    draft = await service.add_text(draft, "Привет")
    again = await service.draft(ORGANIZER)
    assert again is not None and again.versions == {"ru": "Привет"} and again.step == "versions"
    await service.choose_audience(ORGANIZER, draft.id, Audience("all"))
    await service.launch(ORGANIZER, draft.id)
    await db.execute("UPDATE outbox SET state = 'sent', sent_at = 'x'")
    [(broadcast, progress, finished)] = await service.settle()
    assert finished and progress.sent == 1
    assert await service.settle() == []
    counts = await OutboxRepository(db, clock).counts()
    assert counts[State.SENT] == 1


async def test_invites_are_hashed_and_single_use(db: Database, clock: ManualClock) -> None:
    service = OrganizerService(db, clock, event_settings())
    code = await service.create_invite()
    assert (
        await db.fetchval("SELECT count(*) FROM organizer_invites WHERE code_hash = ?", (code,))
        == 0
    )
    assert not await service.is_organizer(5)
    assert await service.redeem(code, 5)
    assert await service.is_organizer(5)
    assert not await service.redeem(code, 6)
    assert not await service.redeem("nonsense", 6)
    assert await service.is_organizer(ORGANIZER)  # configured


async def test_today_means_a_booked_meeting_on_the_event_day(
    db: Database, clock: ManualClock, service: BroadcastService
) -> None:
    a = await add(db, clock, 1)
    b = await add(db, clock, 2)
    c = await add(db, clock, 3)
    d = await add(db, clock, 4)
    # The clock stands at 09:00 in Shanghai on the 24th; the day ends at 16:00 UTC.
    for requester, invitee, start, state in (
        (a, b, "2026-11-24T15:40:00.000000+00:00", "accepted"),  # 23:40 local: today
        (c, d, "2026-11-24T16:00:00.000000+00:00", "accepted"),  # midnight local: tomorrow
        (c, b, "2026-11-24T03:00:00.000000+00:00", "requested"),  # not booked
    ):
        await db.execute(
            "INSERT INTO meetings (requester_id, invitee_id, slot_start, slot_end, state, "
            "table_name, expires_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, '', '')",
            (requester, invitee, start, start.replace(":00.", ":01."), state,
             "A1" if state == "accepted" else None, start),
        )  # fmt: skip
    today, _ = await service.recipients(Audience("today"))
    assert [r.delegate_id for r in today] == [a, b]
