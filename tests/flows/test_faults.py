"""Faults: Telegram failing or timing out, the database locked by another process, kills."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

from bot.app import BotApplication
from bot.config import load_settings
from bot.domain.clock import ManualClock, SystemClock, to_iso
from bot.domain.crash import EXIT_CODE
from bot.domain.scheduling import parse_schedule
from bot.sandbox.fake_api import BotMessage, FakeBotApi, FakeUser
from bot.services.meetings import MeetingService
from storage.db import Database, migration_files
from storage.outbox import OutboxRepository
from tests.flows.conftest import flow_settings, start_bot, stop_bot
from tests.flows.processes import ROOT, FaultProxy, bot_environment, run_bot
from tests.flows.test_meetings import SCHEDULE, registered, services_of

LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


def step_of(database: Path, user_id: int) -> str | None:
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as conn:
        row = conn.execute(
            "SELECT step FROM delegates WHERE telegram_user_id = ?", (user_id,)
        ).fetchone()
    return None if row is None else str(row[0])


async def test_a_registration_step_waits_for_a_lock_held_by_another_process(
    api: FakeBotApi, bot: BotApplication, tmp_path: Path
) -> None:
    user = api.user(1201, "Anna", language_code="en")
    await user.send_text("/start")
    await user.press("English", await user.expect("Welcome"))
    await user.expect("What is your name")
    database = bot.bot_data["services"].settings.database
    locker = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LOCKER, str(database), "2", stdout=asyncio.subprocess.PIPE
    )
    assert locker.stdout is not None
    assert (await locker.stdout.readline()).strip() == b"locked"
    loop = asyncio.get_running_loop()
    started = loop.time()
    await user.send_text("Anna Lockwood")
    await user.expect("Which organization", timeout=15)
    # The answer waited for the lock (busy_timeout) instead of failing.
    assert loop.time() - started >= 1.5
    assert await locker.wait() == 0
    assert step_of(database, 1201) == "organization"
    assert not [c for c in api.calls if c.method == "sendMessage" and "wrong" in str(c.params)]


async def test_replies_lost_to_5xx_or_dropped_connections_do_not_stop_the_user(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    async with FaultProxy(api.base_url) as proxy:
        settings = flow_settings(api, tmp_path / "proxy.db", MATCHMAKER_API_BASE_URL=proxy.url)
        app = await start_bot(settings, clock)
        try:
            user = api.user(1202, "Omar", language_code="en")
            # Telegram answers 502 for a while: the question is lost, the bot carries on.
            api.fail_next("sendMessage", status=502, count=2)
            for _ in range(2):
                await user.send_text("/start")
                await api.settle()
            assert user.messages == []
            await user.send_text("/start")
            await user.press("English", await user.expect("What is your name|Welcome"))
            await user.expect("What is your name")
            # Connections carrying replies are cut: the answer is saved, the next question lost.
            proxy.drop = {"sendMessage"}
            await user.send_text("Omar Haddad")
            await api.settle()
            assert proxy.dropped >= 1
            proxy.drop = set()
            await user.send_text("/start")
            resumed = await user.expect("Let us continue where you stopped")
            assert "Which organization" in resumed.text
        finally:
            await stop_bot(app)


async def test_a_kill_right_after_a_registration_answer_is_saved_then_the_user_goes_on(
    api: FakeBotApi, tmp_path: Path
) -> None:
    database = tmp_path / "killed.db"
    env = bot_environment(api, database)
    user = api.user(1203, "Li", language_code="en")
    crashed = await run_bot(
        env | {"MATCHMAKER_CRASH_AT": "registration.after_save"}, tmp_path / "first.log"
    )
    try:
        await user.send_text("/start")
        await user.press("English", await user.expect("Welcome", timeout=20))
        assert await asyncio.wait_for(crashed.wait(), 20) == EXIT_CODE
    finally:
        if crashed.returncode is None:
            crashed.kill()
            await crashed.wait()
    # The language was saved with the next step; the question for it was never sent.
    assert step_of(database, 1203) == "name"
    restarted = await run_bot(env, tmp_path / "second.log")
    try:
        await user.send_text("/start")
        await user.expect("What is your name", timeout=20)
        await user.send_text("Li Na")
        await user.expect("Which organization", timeout=10)
    finally:
        restarted.terminate()
        await restarted.wait()
    assert step_of(database, 1203) == "organization"


# --- a booking killed half-way --------------------------------------------------------------

ACCEPT = "✅ Accept"
CONFIRMED = "Meeting confirmed"


def meeting_environment(api: FakeBotApi, database: Path, folder: Path) -> dict[str, str]:
    """A bot process with a meeting schedule tomorrow (by the real clock the process reads)."""
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    config = folder / "event.toml"
    config.write_text(
        f'[schedule]\ndays = ["{tomorrow.isoformat()}"]\nsessions = ["09:00-12:00"]\n'
        'tables = "A1..A2"\nroom = "Hall 3"\n',
        encoding="utf-8",
    )
    return bot_environment(api, database) | {
        "MATCHMAKER_CONFIG": str(config),
        "MATCHMAKER_TIMEZONE": "UTC",
    }


async def seed_request(env: dict[str, str], requester: FakeUser, invitee: FakeUser) -> int:
    """Two registered delegates and a request between them, written before the bot starts.

    The request goes through the real MeetingService, so the invitee's notice waits in the
    outbox and the bot process delivers it once it runs, Accept button and all.
    """
    settings = load_settings(env)
    clock = SystemClock()
    db = Database(settings.database)
    await db.connect()
    try:
        await db.migrate()
        now = to_iso(clock.now())
        ids = []
        for user in (requester, invitee):
            contact = f"{user.user_id}@example.com"
            ids.append(
                await db.insert(
                    "INSERT INTO delegates (telegram_user_id, chat_id, locale, name, "
                    "organization, country, role, meeting_languages, contact, contact_kind, "
                    "consent, step, created_at, updated_at, registered_at) VALUES (?, ?, 'en', "
                    "?, 'Lab', 'CN', 'company', 'en', ?, 'email', 1, 'done', ?, ?, ?)",
                    (user.user_id, user.chat_id, user.first_name, contact, now, now, now),
                )
            )
        meetings = MeetingService(db, clock, settings.schedule, OutboxRepository(db, clock))
        first = (await meetings.free_slots_for(ids, limit=1))[0]
        meeting = await meetings.request(ids[0], ids[1], first.start, note="Batteries")
    finally:
        await db.close()
    return meeting.id


@dataclasses.dataclass(frozen=True)
class Booking:
    """What the database says about one meeting, read by another connection."""

    state: str
    table: str | None
    busy_rows: int
    confirmations: tuple[str, ...]  # the outbox states of its confirmations


def booking_of(database: Path, meeting_id: int) -> Booking:
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as conn:
        state, table = conn.execute(
            "SELECT state, table_name FROM meetings WHERE id = ?", (meeting_id,)
        ).fetchone()
        busy = conn.execute(
            "SELECT count(*) FROM busy_slots WHERE meeting_id = ?", (meeting_id,)
        ).fetchone()[0]
        owed = conn.execute(
            "SELECT state FROM outbox WHERE dedupe_key LIKE ? ORDER BY id",
            (f"meeting:{meeting_id}:confirmed:%",),
        ).fetchall()
    booking = Booking(str(state), table, int(busy), tuple(str(row[0]) for row in owed))
    # Never half a booking: a table and both people's slots exactly while it is accepted.
    accepted = booking.state == "accepted"
    assert (booking.table is not None) == accepted, booking
    assert booking.busy_rows == (2 if accepted else 0), booking
    assert len(booking.confirmations) == (2 if accepted else 0), booking
    return booking


async def until(check: Callable[[], bool], timeout: float, what: str) -> None:  # noqa: ASYNC109
    """Wait for another process (or the bot's sender) to get somewhere."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.05)


async def crash_on_accept(
    api: FakeBotApi, tmp_path: Path, point: str
) -> tuple[dict[str, str], FakeUser, FakeUser, BotMessage, int]:
    """Seed a request, start the bot with a crash point, let the invitee press Accept."""
    database = tmp_path / "booking.db"
    env = meeting_environment(api, database, tmp_path)
    anna = api.user(1211, "Anna", language_code="en")
    ivan = api.user(1212, "Ivan", language_code="en")
    meeting_id = await seed_request(env, anna, ivan)
    crashed = await run_bot(env | {"MATCHMAKER_CRASH_AT": point}, tmp_path / "first.log")
    try:
        request = await ivan.expect("Anna", timeout=20)
        assert ACCEPT in request.button_texts() and "Batteries" in request.text
        await ivan.press(ACCEPT, request)
        assert await asyncio.wait_for(crashed.wait(), 20) == EXIT_CODE
    finally:
        if crashed.returncode is None:
            crashed.kill()
            await crashed.wait()
    return env, anna, ivan, request, meeting_id


def confirmations(user: FakeUser) -> list[BotMessage]:
    return [m for m in user.messages if CONFIRMED in m.text]


async def test_a_kill_inside_the_accept_transaction_books_nothing_and_ivan_accepts_again(
    api: FakeBotApi, tmp_path: Path
) -> None:
    env, anna, ivan, request, meeting_id = await crash_on_accept(
        api, tmp_path, "meetings.accept.in_transaction"
    )
    database = Path(env["MATCHMAKER_DB"])
    # The table, both busy slots and both confirmations were written, none committed.
    assert booking_of(database, meeting_id) == Booking("requested", None, 0, ())
    await api.settle()
    assert confirmations(anna) == confirmations(ivan) == []
    restarted = await run_bot(env, tmp_path / "second.log")
    try:
        await ivan.press(ACCEPT, request)  # the same, still open request
        await ivan.expect(CONFIRMED, timeout=20)
        await anna.expect(CONFIRMED, timeout=10)
        await until(
            lambda: booking_of(database, meeting_id).confirmations == ("sent", "sent"),
            10, "both confirmations are sent",
        )  # fmt: skip
        await api.settle()
    finally:
        restarted.terminate()
        await restarted.wait()
    booking = booking_of(database, meeting_id)
    assert (booking.state, booking.table) == ("accepted", "A1")
    assert len(confirmations(anna)) == len(confirmations(ivan)) == 1
    assert "Table A1, Hall 3" in confirmations(anna)[0].text


async def test_a_kill_right_after_a_booking_commits_sends_each_confirmation_once(
    api: FakeBotApi, tmp_path: Path
) -> None:
    env, anna, ivan, request, meeting_id = await crash_on_accept(
        api, tmp_path, "meetings.accept.after_commit"
    )
    database = Path(env["MATCHMAKER_DB"])
    # Booked and committed; both confirmations are owed and none has gone out.
    assert booking_of(database, meeting_id) == Booking("accepted", "A1", 2, ("pending",) * 2)
    await api.settle()
    assert confirmations(anna) == confirmations(ivan) == []
    restarted = await run_bot(env, tmp_path / "second.log")
    try:
        # Nobody presses anything: the outbox owes the confirmations and delivers them.
        await ivan.expect(CONFIRMED, timeout=20)
        await anna.expect(CONFIRMED, timeout=10)
        await until(
            lambda: booking_of(database, meeting_id).confirmations == ("sent", "sent"),
            10, "both confirmations are sent",
        )  # fmt: skip
        # Ivan, who never saw his press answered, presses Accept again: nothing is booked twice.
        await ivan.press(ACCEPT, request)
        await api.settle()
        assert ivan.callback_answers[-1].get("show_alert") is True
    finally:
        restarted.terminate()
        await restarted.wait()
    assert booking_of(database, meeting_id) == Booking("accepted", "A1", 2, ("sent",) * 2)
    assert len(confirmations(anna)) == len(confirmations(ivan)) == 1


# --- an import killed half-way --------------------------------------------------------------

DELEGATE_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "delegates_small.csv"
CLEAN_REPORT = "delegates_small.csv: 6 inserted, 0 updated, 0 unchanged, 0 skipped (6 changed)"


async def import_file(database: Path, *, crash_at: str | None = None) -> tuple[int, str]:
    """`python -m bot import-delegates FILE --db DB`, the organizer's command, as a process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHMAKER_")}
    if crash_at is not None:
        env["MATCHMAKER_CRASH_AT"] = crash_at
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "import-delegates", str(DELEGATE_FILE), "--db",
        str(database), env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode()


def contents(database: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, without the columns that differ between two runs (times, tokens)."""
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == migration_files()[-1][0]
        tables = [
            str(row[0])
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        found: dict[str, list[tuple[object, ...]]] = {}
        for table in tables:
            columns = [
                str(row[1])
                for row in conn.execute(f"PRAGMA table_info({table})")
                if not str(row[1]).endswith("_at") and row[1] != "claim_token"
            ]
            rows = conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1")
            found[table] = [tuple(row) for row in rows]
    return found


async def test_a_kill_mid_import_leaves_nothing_and_the_rerun_imports_the_whole_file(
    tmp_path: Path,
) -> None:
    killed, clean = tmp_path / "killed.db", tmp_path / "clean.db"
    # Killed after the third of six rows was written, before the commit.
    code, out = await import_file(killed, crash_at="import.in_transaction:3")
    assert code == EXIT_CODE, out
    assert "crash point import.in_transaction reached (hit 3)" in out
    after_kill = contents(killed)
    # All or nothing: the schema is whole and not one row of the file is there.
    assert all(rows == [] for rows in after_kill.values()), after_kill
    code, out = await import_file(killed)
    assert (code, out.splitlines()) == (0, [CLEAN_REPORT])
    code, out = await import_file(clean)
    assert (code, out.splitlines()) == (0, [CLEAN_REPORT])
    imported = contents(killed)
    assert len(imported["delegates"]) == 6 and imported["items"]
    assert imported == contents(clean)


# --- Telegram timing out --------------------------------------------------------------------

# The bot's HTTP client gives up on an answer after 5 s, PTB's default read timeout.
HOLD = 6.0


def request_notice(database: Path) -> tuple[str, int, str | None]:
    """The outbox item telling the invitee about the request: state, attempts, last error."""
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as conn:
        row = conn.execute(
            "SELECT state, attempts, last_error FROM outbox WHERE dedupe_key LIKE ?",
            ("meeting:%:request:%",),
        ).fetchone()
    assert row is not None, "the request's notice was never owed"
    return str(row[0]), int(row[1]), row[2]


async def test_telegram_timing_out_keeps_the_request_and_its_notice_arrives_later(
    api: FakeBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    database = tmp_path / "timeout.db"
    async with FaultProxy(api.base_url, delay=HOLD) as proxy:
        settings = flow_settings(api, database, MATCHMAKER_API_BASE_URL=proxy.url)
        settings = dataclasses.replace(
            settings, schedule=parse_schedule(SCHEDULE, zone=settings.timezone)
        )
        app = await start_bot(settings, clock)
        try:
            services = services_of(app)
            anna = api.user(1221, "Anna", language_code="en")
            ivan = api.user(1222, "Ivan", language_code="en")
            await registered(app, anna, "en", "Anna", "en", "anna@example.com")
            ivan_id = await registered(app, ivan, "en", "Ivan", "en", "ivan@example.com")
            await anna.open_link(await services.meetings.booking_token(ivan_id))
            await anna.press(0, await anna.expect("Book a meeting with"))
            confirm = await anna.expect("Request a meeting with")

            # Telegram takes every sendMessage but answers none in time.
            proxy.slow = {"sendMessage"}
            await anna.press("📨 Send request", confirm)
            # Anna's "Request sent" and Ivan's notice are both stuck in the proxy.
            await until(lambda: proxy.held >= 2, 5, "both messages are held")
            proxy.slow = set()
            # Anna's answer is saved although its reply has not come back.
            assert [m.state.value for m in await services.meetings.agenda(ivan_id)] == [
                "requested"
            ]
            # The sender gave up waiting: the notice is owed again, not lost, not dead.
            await until(lambda: request_notice(database)[1] == 1, HOLD + 2, "a timeout")
            state, _, error = request_notice(database)
            assert state == "pending" and error is not None and "TimedOut" in error

            # The fault clears: Telegram acts on the held requests, though nobody waits for them.
            await until(lambda: proxy.holding == 0, HOLD, "the held requests are passed on")
            await anna.expect("Request sent")
            # Her request went through, so she is not told that something went wrong.
            assert not [m for m in anna.messages if "went wrong" in m.text]
            # Later the retry is due and goes out.
            clock.set(clock.now() + dt.timedelta(minutes=1))
            await services.delivery.dispatcher.run_due(clock.now())
            await until(lambda: request_notice(database)[0] == "sent", 10, "the notice is sent")
            await api.settle()
            # At least once: the copy Telegram took while timing out, then the retry.
            notices = [m for m in ivan.messages if ACCEPT in m.button_texts()]
            assert len(notices) == 2 and all("Anna" in m.text for m in notices)
            # And Ivan can answer it.
            await ivan.press(ACCEPT, notices[-1])
            await ivan.expect(CONFIRMED)
            await anna.expect(CONFIRMED)
            assert await services.outbox.count_dead() == 0
        finally:
            await stop_bot(app)
