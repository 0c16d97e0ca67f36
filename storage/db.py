"""One aiosqlite connection, numbered migrations, and the single path for transactions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

Params = Sequence[Any] | dict[str, Any]
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migration_files() -> list[tuple[int, str, str]]:
    """Return (version, name, sql) for every shipped migration, in order."""
    found: list[tuple[int, str, str]] = []
    for entry in resources.files("storage.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [version for version, _, _ in found]
    # 1..n without gaps: a database at version k has applied exactly the first k files, so a
    # migration can never land below a version some database already passed.
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {versions}")
    return found


class DatabaseUnusable(Exception):
    """The database file cannot be opened, read or written; the message is one line."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


_LOW_SPACE = 1 << 20  # below 1 MiB free, a failed write is a full disk, whatever SQLite says


def _explain(path: Path, error: sqlite3.Error) -> str:
    text = str(error)
    name = getattr(error, "sqlite_errorname", "")
    if name.startswith("SQLITE_READONLY") or "readonly" in text:
        return f"cannot write to it (read-only file or file system): {text}"
    if name == "SQLITE_FULL" or "is full" in text:
        return f"the disk is full: {text}"
    if name in {"SQLITE_NOTADB", "SQLITE_CORRUPT"} or "not a database" in text:
        return f"not a SQLite database, or damaged: {text}"
    if name == "SQLITE_CANTOPEN" or "unable to open" in text:
        return f"cannot open it (check the directory's permissions): {text}"
    if name.startswith("SQLITE_IOERR"):
        with contextlib.suppress(OSError):
            if shutil.disk_usage(path.parent).free < _LOW_SPACE:
                return f"the disk is full: {text}"
        return f"the disk refused a read or a write (full or failing?): {text}"
    return text


def check_usable(path: Path) -> None:
    """Open, read, check and write the database once, or raise DatabaseUnusable in one line.

    Run before the bot starts, so that a read-only, full, damaged or unreachable file stops
    it with the path and the reason instead of a traceback from deep inside its start.
    """
    parent = path.parent if str(path.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatabaseUnusable(
            path, f"cannot create its directory {parent}: {error.strerror or error}"
        ) from None
    if path.is_dir():
        raise DatabaseUnusable(path, "is a directory, not a database file")
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=5, isolation_level=None)) as conn:
            conn.execute("PRAGMA busy_timeout = 5000")
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            problems = [str(row[0]) for row in conn.execute("PRAGMA quick_check(3)")]
            if problems != ["ok"]:
                raise DatabaseUnusable(path, "damaged: " + "; ".join(problems))
            # A write that changes nothing, to learn now whether writes work at all.
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
    except sqlite3.Error as error:
        raise DatabaseUnusable(path, _explain(path, error)) from None
    except OSError as error:
        raise DatabaseUnusable(path, error.strerror or str(error)) from None


class Database:
    """A shared connection whose writes go through one lock.

    A SQLite transaction belongs to the connection, not to a coroutine: if two tasks interleave
    BEGIN/COMMIT on one connection, one commits or rolls back the other's writes. So every
    statement takes the lock unless its task already holds a transaction, which it then joins.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None

    @property
    def conn(self) -> aiosqlite.Connection:
        """The open connection."""
        if self._conn is None:
            raise RuntimeError("the database is not open")
        return self._conn

    @property
    def writes(self) -> int:
        """Rows this connection has changed since it opened: a cheap "has anything changed" for
        short-lived caches (read in memory, no query)."""
        return self._conn.total_changes if self._conn is not None else 0

    @property
    def is_open(self) -> bool:
        """Whether connect() has run and close() has not."""
        return self._conn is not None

    async def connect(self) -> None:
        """Open the file with WAL, foreign keys and a busy timeout."""
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN ourselves, so Python's sqlite3 never opens
        # a transaction behind our back.
        self._conn = await aiosqlite.connect(self.path, isolation_level=None, timeout=30)
        self._conn.row_factory = aiosqlite.Row
        await self._conn.execute("PRAGMA journal_mode=WAL")
        await self._conn.execute("PRAGMA foreign_keys=ON")
        await self._conn.execute("PRAGMA synchronous=NORMAL")
        await self._conn.execute("PRAGMA busy_timeout=30000")
        # What /delete_me erases is overwritten with zeros, not merely marked free.
        await self._conn.execute("PRAGMA secure_delete=ON")

    async def close(self) -> None:
        """Close the connection if open."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()

    async def user_version(self) -> int:
        """Return the schema version stored in PRAGMA user_version."""
        row = await self.fetchone("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def migrate(self) -> int:
        """Apply the shipped migrations not yet applied; return the resulting version."""
        current = await self.user_version()
        for version, name, sql in migration_files():
            if version <= current:
                continue
            async with self._lock:
                try:
                    # executescript runs the whole file; the version moves in the same transaction.
                    await self.conn.executescript(
                        f"BEGIN IMMEDIATE;\n{sql}\n;PRAGMA user_version = {version};\nCOMMIT;"
                    )
                except BaseException:
                    if self.conn.in_transaction:
                        await self.conn.execute("ROLLBACK")
                    raise
            log.info("applied migration %s", name)
            current = version
        return current

    async def checkpoint(self) -> bool:
        """Copy the WAL into the database file and truncate it; False if a reader held it.

        After an erasure: the WAL still holds the pages as they were before, personal data
        included, until a checkpoint moves the new pages into the file and empties it.
        """
        async with (
            self._statement() as conn,
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cursor,
        ):
            row = await cursor.fetchone()
        busy = row is not None and int(row[0]) != 0
        if busy:
            log.warning("WAL checkpoint incomplete: another connection is reading")
        return not busy

    def _in_own_transaction(self) -> bool:
        return self._owner is not None and self._owner is asyncio.current_task()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        """Run the block's statements as one transaction; a nested block joins the outer one."""
        if self._in_own_transaction():
            yield self
            return
        async with self._lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            self._owner = asyncio.current_task()
            try:
                yield self
            except BaseException:
                self._owner = None
                await self.conn.execute("ROLLBACK")
                raise
            else:
                self._owner = None
                await self.conn.execute("COMMIT")

    def reader(self) -> Database:
        """A second connection to the same file, read-only, for small reads that should not
        queue behind this one's statements (the web face's); connect and close it yourself."""
        return Reader(self.path)

    @asynccontextmanager
    async def _statement(self) -> AsyncIterator[aiosqlite.Connection]:
        if self._in_own_transaction():
            yield self.conn
        else:
            async with self._lock:
                yield self.conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement and return how many rows it changed."""
        async with self._statement() as conn:
            cursor = await conn.execute(sql, params)
            changed = cursor.rowcount
            await cursor.close()
        return int(changed)

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run one INSERT and return the new row id."""
        async with self._statement() as conn:
            cursor = await conn.execute(sql, params)
            last_id = cursor.lastrowid
            await cursor.close()
        if last_id is None:
            raise RuntimeError("the statement inserted no row")
        return int(last_id)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement for many parameter rows."""
        async with self._statement() as conn:
            await conn.executemany(sql, rows)

    # Reads are one trip to the connection's thread (execute and fetch together), not three
    # (execute, fetch, close a cursor): each trip costs the event loop a wake-up, and every
    # statement of the process waits for the one before it.

    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        """Return the first row or None (for statements that select a row or a few)."""
        async with self._statement() as conn:
            rows = await conn.execute_fetchall(sql, params)
        for row in rows:
            return row  # type: ignore[no-any-return]
        return None

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        """Return every row."""
        async with self._statement() as conn:
            return list(await conn.execute_fetchall(sql, params))  # type: ignore[arg-type]

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        """Return the first column of the first row, or None."""
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


class Reader(Database):
    """A read-only connection beside the main one (WAL lets both work at once), for small
    indexed reads, run inline on the event loop: for a lookup of a few rows, the trip to a
    worker thread and back (a queue, a wake-up, the GIL handed over twice) costs more than the
    lookup itself, and it waits behind no statement of the main connection. Not for scans of
    big tables, and nothing that writes (the connection refuses to)."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(path)
        self._sync: sqlite3.Connection | None = None

    @property
    def is_open(self) -> bool:
        """Whether connect() has run and close() has not."""
        return self._sync is not None

    @property
    def writes(self) -> int:
        """A reader writes nothing."""
        return 0

    async def connect(self) -> None:
        """Open the file read-only (query_only); a lock held by a writer is waited for briefly."""
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA query_only=ON")
        conn.execute("PRAGMA busy_timeout=2000")
        self._sync = conn

    async def close(self) -> None:
        """Close the connection."""
        if self._sync is not None:
            conn, self._sync = self._sync, None
            conn.close()

    def _reading(self) -> sqlite3.Connection:
        if self._sync is None:
            raise RuntimeError("the reader is not open")
        return self._sync

    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        """Return the first row or None."""
        cursor = self._reading().execute(sql, params)
        try:
            row: aiosqlite.Row | None = cursor.fetchone()
            return row
        finally:
            cursor.close()

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        """Return every row."""
        cursor = self._reading().execute(sql, params)
        try:
            return list(cursor.fetchall())
        finally:
            cursor.close()

    async def execute(self, sql: str, params: Params = ()) -> int:
        """A reader does not write."""
        raise sqlite3.OperationalError("a reader does not write")
