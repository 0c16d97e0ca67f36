"""Meetings against a real SQLite file: booking, races, expiry, reminders, moves and links."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.delivery import DueWorkDispatcher
from bot.domain.clock import ManualClock, from_iso, to_iso
from bot.domain.meetings import (
    InvalidCounterpart,
    MeetingBlocked,
    MeetingClosed,
    MeetingState,
    NotYourMeeting,
    SlotTaken,
    SlotUnavailable,
    UnknownBookingLink,
)
from bot.domain.scheduling import Schedule, parse_schedule
from bot.services.meetings import T_CONFIRMED, T_REMINDER, AlreadyRequested, MeetingService
from storage.db import Database
from storage.outbox import OutboxRepository

SHANGHAI = ZoneInfo("Asia/Shanghai")
MINUTE = dt.timedelta(minutes=1)
# The clock fixture stands at 09:00 Shanghai on 24 Nov 2026; sessions start at 09:30.
SLOT_1 = dt.datetime(2026, 11, 24, 1, 30, tzinfo=dt.UTC)
SLOT_2 = SLOT_1 + 20 * MINUTE
SLOT_3 = SLOT_2 + 20 * MINUTE


def make_schedule(tables: object = "A1..A3") -> Schedule:
    return parse_schedule(
        {
            "days": ["2026-11-24", "2026-11-25"],
            "sessions": ["09:30-12:00", "14:00-17:30"],
            "breaks": ["10:30-10:50"],
            "tables": tables,
        },
        zone=SHANGHAI,
    )


async def add_delegate(
    db: Database,
    n: int,
    *,
    chat: bool = True,
    shown: bool = True,
    languages: str = "en",
    external_id: str | None = None,
    host: str | None = None,
) -> int:
    now = "2026-11-01T00:00:00.000000+00:00"
    return await db.insert(
        "INSERT INTO delegates (telegram_user_id, chat_id, locale, name, organization, country, "
        "role, meeting_languages, contact, consent, step, created_at, updated_at, registered_at, "
        "external_id, host_external_id) "
        "VALUES (?, ?, 'en', ?, ?, 'CN', 'company', ?, ?, ?, 'done', ?, ?, ?, ?, ?)",
        (
            n if chat else None, n if chat else None, f"Delegate {n}", f"Org {n}", languages,
            f"d{n}@example.com", int(shown), now, now, now, external_id, host,
        ),
    )  # fmt: skip


def service(db: Database, clock: ManualClock, schedule: Schedule | None = None) -> MeetingService:
    return MeetingService(db, clock, schedule or make_schedule(), OutboxRepository(db, clock))


@pytest.fixture
def meetings(db: Database, clock: ManualClock) -> MeetingService:
    return service(db, clock)


async def owed(db: Database, template: str | None = None) -> list[tuple[int, str, str]]:
    """(chat, template, dedupe key) of pending outbox items, in order."""
    rows = await db.fetchall(
        "SELECT chat_id, template, dedupe_key FROM outbox WHERE state = 'pending' "
        "AND (? IS NULL OR template = ?) ORDER BY id",
        (template, template),
    )
    return [(row[0], row[1], row[2]) for row in rows]


async def test_request_then_accept_books_a_table_and_confirms_both(
    db: Database, meetings: MeetingService
) -> None:
    a, b = await add_delegate(db, 1), await add_delegate(db, 2)
    free = await meetings.free_slots_for([a, b], limit=2)
    assert [s.start for s in free] == [SLOT_1, SLOT_2]
    request = await meetings.request(a, b, SLOT_1, note="  about  batteries ", reason="Batteries")
    assert request.state is MeetingState.REQUESTED and request.note == "about batteries"
    assert await owed(db) == [(2, "meeting.request", f"meeting:{request.id}:request:{b}")]
    # Pending requests do not hold the slot.
    assert SLOT_1 in [s.start for s in await meetings.free_slots_for([a, b])]

    booked = await meetings.accept(request.id, b)
    assert booked.meeting.state is MeetingState.ACCEPTED and booked.meeting.table == "A1"
    confirmations = await owed(db, T_CONFIRMED)
    assert sorted(chat for chat, _, _ in confirmations) == [1, 2]
    assert SLOT_1 not in [s.start for s in await meetings.free_slots_for([a])]
    assert [m.id for m in await meetings.agenda(a)] == [request.id]


async def test_forged_and_repeated_answers_are_refused(
    db: Database, meetings: MeetingService
) -> None:
    a, b, c = [await add_delegate(db, n) for n in (1, 2, 3)]
    request = await meetings.request(a, b, SLOT_1)
    with pytest.raises(NotYourMeeting):
        await meetings.accept(request.id, a)  # the requester cannot accept their own request
    with pytest.raises(NotYourMeeting):
        await meetings.accept(request.id, c)
    with pytest.raises(NotYourMeeting):
        await meetings.accept(9999, b)
    await meetings.accept(request.id, b)
    with pytest.raises(MeetingClosed):
        await meetings.accept(request.id, b)
    with pytest.raises(NotYourMeeting):
        await meetings.cancel(request.id, c)
    with pytest.raises(AlreadyRequested):
        await meetings.request(a, b, SLOT_2)
        await meetings.request(a, b, SLOT_2)


async def test_unavailable_slots_and_counterparts(
    db: Database, meetings: MeetingService, clock: ManualClock
) -> None:
    a, b = await add_delegate(db, 1), await add_delegate(db, 2)
    hidden = await add_delegate(db, 3, shown=False)
    with pytest.raises(InvalidCounterpart):
        await meetings.request(a, a, SLOT_1)
    with pytest.raises(InvalidCounterpart):
        await meetings.request(a, hidden, SLOT_1)
    with pytest.raises(SlotUnavailable) as error:
        await meetings.request(a, b, SLOT_1 + 5 * MINUTE)  # not a slot of the schedule
    assert error.value.next_free == (SLOT_1, SLOT_2, SLOT_3)
    clock.set(SLOT_1 + MINUTE)
    with pytest.raises(SlotUnavailable):
        await meetings.request(a, b, SLOT_1)  # has begun
    # A hidden profile can still be booked through its own booking link.
    token = await meetings.booking_token(hidden)
    assert (await meetings.request(a, hidden, SLOT_2, booking_token=token)).invitee_id == hidden


async def test_blocked_slots_are_not_offered_and_cannot_be_requested(
    db: Database, meetings: MeetingService
) -> None:
    a, b, c = [await add_delegate(db, n) for n in (1, 2, 3)]
    assert await meetings.toggle_block(b, SLOT_1) is True
    assert SLOT_1 not in [s.start for s in await meetings.free_slots_for([a, b])]
    with pytest.raises(SlotUnavailable):
        await meetings.request(a, b, SLOT_1)
    assert await meetings.toggle_block(b, SLOT_1) is False
    request = await meetings.request(a, b, SLOT_1)
    # Blocking a slot after a request was sent makes the accept lose, cleanly.
    await meetings.toggle_block(b, SLOT_1)
    with pytest.raises(SlotTaken) as error:
        await meetings.accept(request.id, b)
    assert error.value.next_free[0] == SLOT_2
    await meetings.toggle_block(b, SLOT_1)
    await meetings.accept(request.id, b)
    with pytest.raises(MeetingBlocked):
        await meetings.toggle_block(a, SLOT_1)
    assert await meetings.blocked(c) == set()


async def test_accepting_withdraws_overlapping_requests_with_a_notice(
    db: Database, meetings: MeetingService
) -> None:
    a, b, c, d = [await add_delegate(db, n) for n in (1, 2, 3, 4)]
    wanted = await meetings.request(a, b, SLOT_1)
    rival = await meetings.request(c, b, SLOT_1)
    mine = await meetings.request(b, d, SLOT_1)
    later = await meetings.request(c, b, SLOT_2)
    booked = await meetings.accept(wanted.id, b)
    assert {m.id for m in booked.withdrawn} == {rival.id, mine.id}
    assert (await meetings.get(rival.id)).state is MeetingState.WITHDRAWN  # type: ignore[union-attr]
    assert (await meetings.get(later.id)).state is MeetingState.REQUESTED  # type: ignore[union-attr]
    withdrawn = await owed(db, "meeting.withdrawn")
    assert sorted(chat for chat, _, _ in withdrawn) == [3, 4]
    with pytest.raises(SlotTaken):
        await meetings.accept(rival.id, b)


async def _race(
    path: Path, clock: ManualClock, schedule: Schedule, accepts: Sequence[tuple[int, int]]
) -> tuple[list[int], int]:
    """Accept (meeting, actor) pairs at once from tasks spread over five connections."""
    connections = [Database(path) for _ in range(5)]
    for connection in connections:
        await connection.connect()
    services = [service(connection, clock, schedule) for connection in connections]
    start = asyncio.Event()

    async def attempt(n: int, meeting_id: int, actor: int) -> int | None:
        await start.wait()
        try:
            await services[n % len(services)].accept(meeting_id, actor)
        except SlotTaken:
            return None
        return meeting_id

    tasks = [
        asyncio.create_task(attempt(n, meeting_id, actor))
        for n, (meeting_id, actor) in enumerate(accepts)
    ]
    start.set()
    results = await asyncio.gather(*tasks)
    for connection in connections:
        await connection.close()
    winners = [r for r in results if r is not None]
    return winners, len(results) - len(winners)


@pytest.fixture
async def file_db(tmp_path: Path) -> AsyncIterator[tuple[Path, Database]]:
    path = tmp_path / "race.db"
    database = Database(path)
    await database.connect()
    await database.migrate()
    yield path, database
    await database.close()


async def audit(db: Database) -> None:
    """Nobody and no table in two accepted meetings at once; busy rows match meetings."""
    people = await db.fetchval(
        "SELECT count(*) FROM (SELECT p, slot_start FROM ("
        " SELECT requester_id AS p, slot_start FROM meetings WHERE state = 'accepted'"
        " UNION ALL SELECT invitee_id, slot_start FROM meetings WHERE state = 'accepted')"
        " GROUP BY p, slot_start HAVING count(*) > 1)"
    )
    tables = await db.fetchval(
        "SELECT count(*) FROM (SELECT 1 FROM meetings WHERE state = 'accepted' "
        "GROUP BY slot_start, table_name HAVING count(*) > 1)"
    )
    busy = await db.fetchval("SELECT count(*) FROM busy_slots WHERE meeting_id IS NOT NULL")
    accepted = await db.fetchval("SELECT count(*) FROM meetings WHERE state = 'accepted'")
    assert (people, tables, busy) == (0, 0, 2 * accepted)


async def test_fifty_accepts_for_one_persons_slot_exactly_one_wins(
    file_db: tuple[Path, Database], clock: ManualClock
) -> None:
    path, db = file_db
    schedule = make_schedule(tables=100)
    busy_person = await add_delegate(db, 1)
    others = [await add_delegate(db, 100 + n) for n in range(50)]
    meetings = service(db, clock, schedule)
    # The busy person asked fifty people for the same slot; all fifty accept at once.
    requests = [await meetings.request(busy_person, o, SLOT_1) for o in others]
    winners, losers = await _race(path, clock, schedule, [(r.id, r.invitee_id) for r in requests])
    assert len(winners) == 1 and losers == 49
    won = await meetings.get(winners[0])
    assert won is not None and won.state is MeetingState.ACCEPTED
    assert await db.fetchval("SELECT count(*) FROM meetings WHERE state = 'accepted'") == 1
    await audit(db)


async def test_fifty_accepts_for_the_last_table_exactly_one_wins(
    file_db: tuple[Path, Database], clock: ManualClock
) -> None:
    path, db = file_db
    schedule = make_schedule(tables=["Last"])
    meetings = service(db, clock, schedule)
    requests = []
    for n in range(50):
        a, b = await add_delegate(db, 1000 + 2 * n), await add_delegate(db, 1001 + 2 * n)
        requests.append(await meetings.request(a, b, SLOT_2))
    winners, losers = await _race(path, clock, schedule, [(r.id, r.invitee_id) for r in requests])
    assert len(winners) == 1 and losers == 49
    rows = await db.fetchall("SELECT id, table_name FROM meetings WHERE state = 'accepted'")
    assert [(row[0], row[1]) for row in rows] == [(winners[0], "Last")]
    await audit(db)
    # The full slot is offered to nobody any more.
    a, b = await add_delegate(db, 5000), await add_delegate(db, 5001)
    assert SLOT_2 not in [s.start for s in await meetings.free_slots_for([a, b])]


async def test_requests_expire_by_the_clock_and_both_sides_are_told(
    db: Database, meetings: MeetingService, clock: ManualClock
) -> None:
    a, b = await add_delegate(db, 1), await add_delegate(db, 2)
    dispatcher = DueWorkDispatcher(clock)
    dispatcher.add_hook("meetings.expire", meetings.expire_due)
    tomorrow = SLOT_1 + dt.timedelta(days=1)
    far = await meetings.request(a, b, tomorrow)
    soon = await meetings.request(a, b, SLOT_2)
    assert soon.expires_at == SLOT_2  # never after the slot starts
    assert far.expires_at == clock.now() + dt.timedelta(hours=12)
    assert (await dispatcher.run_due(SLOT_2 - MINUTE))["meetings.expire"] == 0
    assert (await dispatcher.run_due(SLOT_2))["meetings.expire"] == 1
    assert (await dispatcher.run_due(SLOT_2))["meetings.expire"] == 0
    assert (await meetings.get(soon.id)).state is MeetingState.EXPIRED  # type: ignore[union-attr]
    assert sorted(c for c, _, _ in await owed(db, "meeting.expired")) == [1, 2]
    # An answer after the deadline is refused even before the job ran.
    clock.set(far.expires_at)
    with pytest.raises(MeetingClosed):
        await meetings.accept(far.id, b)


async def test_reminders_once_each_from_the_database_across_a_restart(
    tmp_path: Path, clock: ManualClock
) -> None:
    path = tmp_path / "remind.db"
    db = Database(path)
    await db.connect()
    await db.migrate()
    meetings = service(db, clock)
    a, b, c = [await add_delegate(db, n) for n in (1, 2, 3)]
    await meetings.set_reminder_minutes(b, 5)
    await meetings.set_reminder_minutes(c, 0)
    first = await meetings.request(a, b, SLOT_3)
    await meetings.accept(first.id, b)
    second = await meetings.request(c, a, SLOT_1 + dt.timedelta(days=1))
    await meetings.accept(second.id, a)
    dispatcher = DueWorkDispatcher(clock)
    dispatcher.add_hook("meetings.remind", meetings.remind_due)
    assert (await dispatcher.run_due(SLOT_3 - 16 * MINUTE))["meetings.remind"] == 0
    assert (await dispatcher.run_due(SLOT_3 - 15 * MINUTE))["meetings.remind"] == 1  # a: 15
    assert (await dispatcher.run_due(SLOT_3 - 14 * MINUTE))["meetings.remind"] == 0
    await db.close()

    # Restart: a fresh connection and service find what is owed from the database alone.
    db = Database(path)
    await db.connect()
    meetings = service(db, clock)
    dispatcher = DueWorkDispatcher(clock)
    dispatcher.add_hook("meetings.remind", meetings.remind_due)
    # Down from -14 to -3 minutes: b's 5-minute reminder fell due meanwhile and is sent now.
    assert (await dispatcher.run_due(SLOT_3 - 3 * MINUTE))["meetings.remind"] == 1
    assert (await dispatcher.run_due(SLOT_3 - 2 * MINUTE))["meetings.remind"] == 0
    reminders = await owed(db, T_REMINDER)
    assert sorted(chat for chat, _, _ in reminders) == [1, 2]
    # c turned reminders off; a's reminder for tomorrow is sent only when due.
    tomorrow = SLOT_1 + dt.timedelta(days=1)
    assert (await dispatcher.run_due(tomorrow - 15 * MINUTE))["meetings.remind"] == 1
    # A reminder that fell due while down is skipped once the meeting has begun.
    third = await meetings.request(b, c, SLOT_3 + dt.timedelta(days=1))
    await meetings.accept(third.id, c)
    assert (await dispatcher.run_due(SLOT_3 + dt.timedelta(days=1) + MINUTE))[
        "meetings.remind"
    ] == 0
    await db.close()


async def test_cancel_frees_the_slot_and_drops_owed_reminders(
    db: Database, meetings: MeetingService, clock: ManualClock
) -> None:
    a, b = await add_delegate(db, 1), await add_delegate(db, 2)
    request = await meetings.request(a, b, SLOT_3)
    await meetings.accept(request.id, b)
    await meetings.remind_due(SLOT_3 - 10 * MINUTE)
    assert len(await owed(db, T_REMINDER)) == 2
    await meetings.cancel(request.id, a)
    assert await owed(db, T_REMINDER) == []
    assert [c for c, _, _ in await owed(db, "meeting.cancelled")] == [2]
    assert SLOT_3 in [s.start for s in await meetings.free_slots_for([a, b])]
    assert await meetings.remind_due(SLOT_3 - 5 * MINUTE) == 0


async def test_propose_and_reschedule_move_the_meeting_only_when_accepted(
    db: Database, meetings: MeetingService
) -> None:
    a, b = await add_delegate(db, 1), await add_delegate(db, 2)
    request = await meetings.request(a, b, SLOT_1)
    proposal = await meetings.propose(request.id, b, SLOT_2)
    assert (proposal.requester_id, proposal.invitee_id) == (b, a)
    assert (await meetings.get(request.id)).state is MeetingState.RESCHEDULED  # type: ignore[union-attr]
    with pytest.raises(NotYourMeeting):
        await meetings.accept(proposal.id, b)  # now a must answer
    booked = (await meetings.accept(proposal.id, a)).meeting
    assert booked.slot_start == SLOT_2

    move = await meetings.reschedule(booked.id, a, SLOT_3)
    # Until b accepts, the meeting holds SLOT_2.
    assert (await meetings.get(booked.id)).state is MeetingState.ACCEPTED  # type: ignore[union-attr]
    assert SLOT_2 not in [s.start for s in await meetings.free_slots_for([a])]
    await meetings.accept(move.id, b)
    assert (await meetings.get(booked.id)).state is MeetingState.RESCHEDULED  # type: ignore[union-attr]
    free = [s.start for s in await meetings.free_slots_for([a, b])]
    assert SLOT_2 in free and SLOT_3 not in free
    await audit(db)


async def test_booking_links_are_revocable_and_never_sequential(
    db: Database, meetings: MeetingService
) -> None:
    a, b = await add_delegate(db, 1), await add_delegate(db, 2)
    token = await meetings.booking_token(b)
    assert token.startswith("b_") and token == await meetings.booking_token(b)
    assert (await meetings.booking_target(token)).id == b
    fresh = await meetings.renew_booking_token(b)
    assert fresh != token
    with pytest.raises(UnknownBookingLink):
        await meetings.booking_target(token)
    with pytest.raises(UnknownBookingLink):
        await meetings.request(a, b, SLOT_1, booking_token=token)
    with pytest.raises(UnknownBookingLink):
        await meetings.booking_target("c_" + fresh[2:])
    assert (await meetings.request(a, b, SLOT_1, booking_token=fresh)).invitee_id == b


async def test_a_host_answers_for_a_delegate_without_telegram(
    db: Database, meetings: MeetingService
) -> None:
    a = await add_delegate(db, 1)
    host = await add_delegate(db, 2, external_id="H-1")
    guest = await add_delegate(db, 3, chat=False, external_id="G-1", host="H-1")
    request = await meetings.request(a, guest, SLOT_1)
    # The request reaches the host's chat, on the guest's behalf.
    assert await owed(db) == [(2, "meeting.request", f"meeting:{request.id}:request:{guest}")]
    booked = await meetings.accept(request.id, host)
    assert booked.meeting.invitee_id == guest
    with pytest.raises(NotYourMeeting):
        await meetings.cancel(request.id, 4)


async def test_follow_up_and_outcomes(
    db: Database, meetings: MeetingService, clock: ManualClock
) -> None:
    from bot.domain.meetings import Outcome

    a, b = await add_delegate(db, 1), await add_delegate(db, 2)
    request = await meetings.request(a, b, SLOT_1)
    await meetings.accept(request.id, b)
    end = SLOT_1 + 20 * MINUTE
    assert await meetings.follow_up_due(end) == 0
    assert await meetings.follow_up_due(end + 5 * MINUTE) == 2
    assert await meetings.follow_up_due(end + 6 * MINUTE) == 0
    await meetings.record_outcome(request.id, a, Outcome.HELD)
    await meetings.rate(request.id, a, 5)
    await meetings.record_outcome(request.id, b, Outcome.NO_SHOW)
    stats = await meetings.repo.stats()
    assert (stats.accepted, stats.held, stats.no_show) == (1, 1, 1)
    assert to_iso(end)  # slot times are stored as UTC text


async def test_a_reminder_expires_when_its_meeting_starts(
    db: Database, meetings: MeetingService
) -> None:
    a, b = await add_delegate(db, 1), await add_delegate(db, 2)
    request = await meetings.request(a, b, SLOT_3)
    await meetings.accept(request.id, b)
    await meetings.remind_due(SLOT_3 - 10 * MINUTE)
    rows = await db.fetchall(
        "SELECT template, expires_at FROM outbox WHERE dedupe_key LIKE 'meeting:%' ORDER BY id"
    )
    expiries = {row[0]: row[1] for row in rows}
    # Retried while Telegram fails, but not once the meeting has begun; a confirmation has
    # no expiry of its own (its kind's horizon applies).
    assert from_iso(expiries[T_REMINDER]) == SLOT_3
    assert expiries["meeting.confirmed"] is None
