"""Imports write in short batches: the bot's writes get the lock between them, a failure mid-file
leaves whole batches, and running the file again completes it; one import runs at a time."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import pytest

from bot.domain.clock import ManualClock
from bot.domain.importing import parse_delegate_csv
from bot.services.importing import ImportRunning, import_delegates, import_lock
from storage.db import Database
from storage.importer import ImportRepository
from storage.items import ItemRepository
from tests.storage.test_import import FIXTURE, count, fake_classify


class FailingItems(ItemRepository):
    """Items that fail on the n-th write, like a disk that fills up mid-import."""

    def __init__(self, db: Database, clock: ManualClock, fail_at: int) -> None:
        super().__init__(db, clock)
        self.calls = 0
        self.fail_at = fail_at

    async def replace_imported(
        self, delegate_id: int, side: str, text: str | None, fields: tuple[str, ...]
    ) -> bool:
        self.calls += 1
        if self.calls == self.fail_at:
            raise sqlite3.OperationalError("database or disk is full")
        return await super().replace_imported(delegate_id, side, text, fields)


def table(path: Path) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute(
            "SELECT external_id, name, organization, contact, consent FROM delegates "
            "ORDER BY external_id"
        ).fetchall()


async def test_rows_commit_in_batches_and_progress_is_reported_per_batch(
    db: Database, clock: ManualClock
) -> None:
    seen: list[tuple[int, int]] = []

    async def progress(done: int, total: int) -> None:
        # Each batch is committed when progress is reported: another connection sees it.
        with contextlib.closing(sqlite3.connect(db.path)) as other:
            visible = other.execute("SELECT count(*) FROM delegates").fetchone()[0]
        seen.append((done, visible))
        assert total == 6

    report = await import_delegates(
        db, ImportRepository(db, clock), ItemRepository(db, clock), fake_classify,
        parse_delegate_csv(FIXTURE.read_bytes()), progress=progress, batch_rows=4,
    )  # fmt: skip
    assert report.inserted == 6
    assert seen == [(4, 4), (6, 6)]


async def test_a_failure_mid_file_leaves_whole_batches_and_a_rerun_completes_it(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    parsed = parse_delegate_csv(FIXTURE.read_bytes())
    # Each row writes its offer and its need: the 7th write is the 4th row, in the 2nd batch.
    failing = FailingItems(db, clock, fail_at=7)
    with pytest.raises(sqlite3.OperationalError):
        await import_delegates(
            db, ImportRepository(db, clock), failing, fake_classify, parsed, batch_rows=3
        )
    assert await count(db) == 3, "the first batch stays, the second left nothing"
    again = await import_delegates(
        db, ImportRepository(db, clock), ItemRepository(db, clock), fake_classify, parsed,
        batch_rows=3,
    )  # fmt: skip
    assert (again.inserted, again.unchanged) == (3, 3)

    clean = Database(tmp_path / "clean.db")
    await clean.connect()
    await clean.migrate()
    try:
        await import_delegates(
            clean, ImportRepository(clean, clock), ItemRepository(clean, clock), fake_classify,
            parsed,
        )  # fmt: skip
    finally:
        await clean.close()
    assert table(db.path) == table(tmp_path / "clean.db")


async def test_the_bots_writes_wait_for_a_batch_instead_of_failing(
    db: Database, tmp_path: Path
) -> None:
    # Another process (the CLI import) holds the write lock; the bot's write waits for it
    # (busy_timeout) and lands once it is released, instead of "database is locked".
    other = sqlite3.connect(db.path, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO audit_log (actor_id, action, subject, detail, created_at) "
                      "VALUES (1, 'import', 'x', '{}', '2026-11-24T00:00:00+00:00')")  # fmt: skip
        write = asyncio.create_task(db.execute("PRAGMA user_version = 99"))
        await asyncio.sleep(0.5)
        assert not write.done(), "the write waits for the other transaction"
        other.execute("COMMIT")
        await asyncio.wait_for(write, 30)
    finally:
        other.close()
    assert await db.fetchval("PRAGMA user_version") == 99
    assert await db.fetchval("SELECT count(*) FROM audit_log") == 1


def test_one_import_at_a_time_and_a_finished_one_lets_the_next_run(tmp_path: Path) -> None:
    database = tmp_path / "event.db"
    with import_lock(database, "organizer 900 in chat", "big.csv", "2026-11-24 08:00:00 UTC"):
        with (
            pytest.raises(ImportRunning) as refused,
            import_lock(database, "matchmaker import-delegates", "b.csv", "now"),
        ):
            pass
        assert refused.value.running.file_name == "big.csv"
        assert refused.value.running.holder == "organizer 900 in chat"
    with import_lock(database, "matchmaker import-delegates", "b.csv", "now"):
        pass
