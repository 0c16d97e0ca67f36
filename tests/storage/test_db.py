"""The database: migrations, pragmas, and transactions that concurrent tasks cannot break."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from storage.db import Database, migration_files


async def test_migrations_set_user_version_and_are_idempotent(tmp_path: Path) -> None:
    database = Database(tmp_path / "m.db")
    await database.connect()
    version = await database.migrate()
    assert version == migration_files()[-1][0] >= 1
    assert await database.migrate() == version
    assert await database.fetchval("PRAGMA journal_mode") == "wal"
    assert await database.fetchval("PRAGMA foreign_keys") == 1
    await database.close()


async def test_concurrent_transactions_keep_every_write(db: Database) -> None:
    await db.execute("CREATE TABLE counter (task INTEGER, n INTEGER)")

    async def writer(task: int) -> None:
        for n in range(20):
            async with db.transaction():
                await db.execute("INSERT INTO counter VALUES (?, ?)", (task, n))
                await asyncio.sleep(0)  # let other tasks try to interleave
                await db.execute("INSERT INTO counter VALUES (?, ?)", (task, -n))

    await asyncio.gather(*(writer(task) for task in range(10)))
    assert await db.fetchval("SELECT count(*) FROM counter") == 400


async def test_a_failed_transaction_rolls_back_only_its_own_writes(db: Database) -> None:
    await db.execute("CREATE TABLE t (v TEXT)")
    started = asyncio.Event()

    async def failing() -> None:
        async with db.transaction():
            await db.execute("INSERT INTO t VALUES ('lost')")
            started.set()
            await asyncio.sleep(0.01)
            raise RuntimeError("boom")

    async def other() -> None:
        await started.wait()
        # Waits for the failing transaction instead of joining it.
        await db.execute("INSERT INTO t VALUES ('kept')")

    results = await asyncio.gather(failing(), other(), return_exceptions=True)
    assert isinstance(results[0], RuntimeError)
    assert [row[0] for row in await db.fetchall("SELECT v FROM t")] == ["kept"]


async def test_nested_transaction_joins_the_outer_one(db: Database) -> None:
    await db.execute("CREATE TABLE t (v INTEGER)")
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await db.execute("INSERT INTO t VALUES (1)")
            async with db.transaction():
                await db.execute("INSERT INTO t VALUES (2)")
            raise RuntimeError("outer fails")
    assert await db.fetchval("SELECT count(*) FROM t") == 0


async def test_a_reader_sees_each_commit_and_writes_nothing(db: Database) -> None:
    import sqlite3

    await db.execute("CREATE TABLE r (v INTEGER)")
    reader = db.reader()
    await reader.connect()
    try:
        await db.execute("INSERT INTO r VALUES (1)")
        assert await reader.fetchval("SELECT count(*) FROM r") == 1
        async with db.transaction():
            await db.execute("INSERT INTO r VALUES (2)")
            # Not committed yet: the reader still sees the last commit, and is not held up.
            assert [row[0] for row in await reader.fetchall("SELECT v FROM r")] == [1]
        assert await reader.fetchval("SELECT count(*) FROM r") == 2
        with pytest.raises(sqlite3.OperationalError):
            await reader.execute("INSERT INTO r VALUES (3)")
        with pytest.raises(sqlite3.OperationalError):
            await reader.fetchall("INSERT INTO r VALUES (3) RETURNING v")
        assert await db.fetchval("SELECT count(*) FROM r") == 2
    finally:
        await reader.close()
    assert not reader.is_open
