"""Import the organizers' delegate file into the database: idempotent, in short batches.

Each valid row inserts or updates the delegate with its external_id; running the same file
twice changes nothing. A re-import changes a profile column only while it still holds what the
previous import wrote, so what a delegate changed in chat after claiming their profile wins.
Offer and need texts become the delegate's imported items, classified when their text is new.

The bot shares the database while an import runs (in its own process for the CLI, in the bot's
for a file sent in chat), so the import never holds the write lock for long: rows are written
in batches of at most BATCH_ROWS rows or BATCH_SECONDS, one short transaction each, with a pause
between them, and the slow part (classifying texts) runs in a worker thread before any lock is
taken. A kill mid-import leaves whole batches, never
half a row; since an import is idempotent, running the file again completes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from bot.domain.crash import crash_point
from bot.domain.importing import ImportedDelegate, ImportResult, RowError
from bot.domain.items import TEXT_MAX
from storage.db import Database
from storage.importer import TEXT_KEYS, ImportRepository, StoredImport, import_values, merge


class ItemWriter(Protocol):
    """Where imported offers and needs go (storage.items.ItemRepository)."""

    async def replace_imported(
        self, delegate_id: int, side: str, text: str | None, fields: tuple[str, ...]
    ) -> bool: ...


Classify = Callable[[str], Sequence[str]]
# Called after each batch with (rows written, rows to write), e.g. to edit a progress message.
Progress = Callable[[int, int], Awaitable[None]]

# A batch is at most BATCH_ROWS rows or BATCH_SECONDS of writing, whichever comes first; then
# the import pauses BATCH_PAUSE before the next. The pause is what lets the bot write while a CLI
# import runs: a writer waiting on SQLite's lock (busy_timeout) retries at most every 100 ms, so
# without a gap longer than that the importer's next BEGIN always wins and the bot starves.
BATCH_ROWS = 200
BATCH_SECONDS = 0.05
# However slow the machine, a batch holds at least this many rows: a small file (and the
# first rows of any) commits whole, as one transaction.
MIN_BATCH_ROWS = 10
BATCH_PAUSE = 0.12
# The largest file an import takes, in data rows (documented in the README): 100,000 rows are
# about 10 MB of CSV and a few minutes of import; larger events split the file.
MAX_IMPORT_ROWS = 100_000


@dataclass(frozen=True)
class RunningImport:
    """The import that holds the lock, as it described itself."""

    holder: str
    file_name: str
    started_at: str


class ImportRunning(Exception):
    """Another import holds the lock; one import runs at a time."""

    def __init__(self, running: RunningImport) -> None:
        super().__init__(f"another import is running: {running.file_name} ({running.holder})")
        self.running = running


LOCK_TRIES = 5


def lock_path(database: Path) -> Path:
    """The lock file of a database's imports, next to it."""
    return database.with_name(database.name + ".import-lock")


def _lock_exclusively(handle: IO[str]) -> None:
    # A few tries: import_running() holds a shared lock for an instant when it looks.
    for _ in range(LOCK_TRIES - 1):
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            time.sleep(0.02)
        else:
            return
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


def import_running(database: Path) -> bool:
    """Tell whether an import (of any process, this one included) holds the database's lock."""
    path = lock_path(database)
    try:
        handle = path.open("r", encoding="utf-8")
    except OSError:
        return False  # never imported into, or unreadable: nothing to wait for
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


@contextlib.contextmanager
def import_lock(database: Path, holder: str, file_name: str, started_at: str) -> Iterator[None]:
    """Hold the database's import lock for the block; ImportRunning if another import has it.

    An exclusive flock on a file next to the database: it excludes a chat import in the bot and
    `matchmaker import-delegates` alike, and the kernel releases it when its process ends, so a
    killed import never blocks the next one.
    """
    path = lock_path(database)
    handle = path.open("a+", encoding="utf-8")
    try:
        try:
            _lock_exclusively(handle)
        except BlockingIOError:
            handle.seek(0)
            try:
                found = json.loads(handle.read() or "{}")
            except ValueError:  # being written this very moment
                found = {}
            raise ImportRunning(
                RunningImport(
                    str(found.get("holder", "another process")),
                    str(found.get("file", "?")),
                    str(found.get("started_at", "?")),
                )
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"holder": holder, "file": file_name, "started_at": started_at}))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
    finally:
        handle.close()  # releases the lock


# While an import's worker thread parses and classifies, the event loop must win the GIL back
# quickly after each await: Python hands it over every 5 ms by default, so a reply that passes
# fifty await points would wait a quarter of a second behind the thread.
LOOP_SWITCH_INTERVAL = 0.0005


@contextlib.contextmanager
def loop_first() -> Iterator[None]:
    """Shorten the interpreter's thread switch interval for the block (a chat import)."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(min(previous, LOOP_SWITCH_INTERVAL))
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def row_count(parsed: ImportResult) -> int:
    """How many data rows the file had, valid or not."""
    return len(parsed.delegates) + len({error.line for error in parsed.errors})


@dataclass
class ImportReport:
    """What an import did, for the organizer."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[RowError] = field(default_factory=list)  # one or more per skipped line
    notes: list[RowError] = field(default_factory=list)  # imported, but worth a look
    changed_ids: list[int] = field(default_factory=list)  # delegates inserted or updated
    external_ids: list[str] = field(default_factory=list)  # imported rows, in file order

    @property
    def skipped_rows(self) -> int:
        """How many rows were not imported."""
        return len({error.line for error in self.skipped})

    @property
    def changed(self) -> int:
        """How many delegates were inserted or updated."""
        return self.inserted + self.updated


def _too_long(d: ImportedDelegate) -> list[RowError]:
    # The items table holds 1000 characters: a match card must fit in one Telegram message.
    return [
        RowError(d.line, f"{side} is longer than {TEXT_MAX} characters", side)
        for side in TEXT_KEYS
        if len(getattr(d, side)) > TEXT_MAX
    ]


def _notes(rows: Sequence[ImportedDelegate], known_hosts: set[str]) -> list[RowError]:
    notes: list[RowError] = []
    in_file = {d.external_id for d in rows}
    first_by_username: dict[str, int] = {}
    for d in rows:
        if d.host_external_id and d.host_external_id not in in_file | known_hosts:
            notes.append(
                RowError(
                    d.line,
                    f"host_external_id {d.host_external_id!r} is not a known delegate yet",
                    "host_external_id",
                )
            )
        if d.telegram_username:
            key = d.telegram_username.lower()
            if key in first_by_username:
                notes.append(
                    RowError(
                        d.line,
                        f"telegram_username also on row {first_by_username[key]}: "
                        "the bot will not guess which one a /start is",
                        "telegram_username",
                    )
                )
            else:
                first_by_username[key] = d.line
    return notes


class _Fields:
    """Classification of offer and need texts, each text once."""

    def __init__(self, classify: Classify) -> None:
        self._classify = classify
        self._cache: dict[str, tuple[str, ...]] = {}

    def __call__(self, text: str) -> tuple[str, ...]:
        if not text:
            return ()
        found = self._cache.get(text)
        if found is None:
            found = self._cache[text] = tuple(self._classify(text))
        return found

    def prepare(self, rows: Sequence[ImportedDelegate], stored: dict[str, StoredImport]) -> None:
        """Classify every text that differs from what is stored (before taking the write lock)."""
        for d in rows:
            previous = stored[d.external_id].previous if d.external_id in stored else {}
            for side in TEXT_KEYS:
                text = getattr(d, side)
                if text and previous.get(side) != text:
                    self(text)


async def _write_items(
    items: ItemWriter,
    fields: _Fields,
    delegate_id: int,
    previous: dict[str, Any],
    values: dict[str, Any],
) -> None:
    for side in TEXT_KEYS:
        text = values[side]
        if side in previous and previous[side] == text:
            continue  # the delegate may have corrected fields in chat since: keep theirs
        await items.replace_imported(delegate_id, side, text or None, fields(text))


async def import_delegates(
    db: Database,
    repo: ImportRepository,
    items: ItemWriter,
    classify: Classify,
    parsed: ImportResult,
    *,
    progress: Progress | None = None,
    batch_rows: int = BATCH_ROWS,
    pause: float = BATCH_PAUSE,
) -> ImportReport:
    """Write the valid rows of a parsed file in short transactions and report what happened."""
    if parsed.file_error is not None:
        raise ValueError("a file that could not be read imports nothing")
    report = ImportReport(skipped=list(parsed.errors))
    rows: list[ImportedDelegate] = []
    for d in parsed.delegates:
        problems = _too_long(d)
        report.skipped.extend(problems)
        if not problems:
            rows.append(d)

    fields = _Fields(classify)
    # Classifying is the slow part: in a worker thread, before any write lock is taken, so the
    # event loop (the bot's, for an import sent in chat) goes on answering.
    before = await repo.stored(d.external_id for d in rows)
    await asyncio.to_thread(fields.prepare, rows, before)
    hosts = {d.host_external_id for d in rows if d.host_external_id}
    report.notes = _notes(rows, await repo.known_external_ids(hosts))

    written = 0
    while written < len(rows):
        batch = rows[written : written + batch_rows]
        first = written
        deadline = time.monotonic() + BATCH_SECONDS
        async with db.transaction():
            # Read again inside the transaction: what is stored now is what the merge must see.
            stored = await repo.stored(d.external_id for d in batch)
            for d in batch:
                await _write_row(d, stored.get(d.external_id), repo, items, fields, report)
                written += 1
                # A kill after some rows must leave none of this batch's: it commits whole.
                crash_point("import.in_transaction")
                if written - first >= MIN_BATCH_ROWS and time.monotonic() > deadline:
                    break
        if progress is not None:
            await progress(written, len(rows))
        if written < len(rows):
            # Between batches, whoever waits for the lock (a reply, the outbox) goes first.
            await asyncio.sleep(pause)
    report.skipped.sort(key=lambda e: e.line)
    report.notes.sort(key=lambda e: e.line)
    return report


async def _write_row(
    d: ImportedDelegate,
    existing: StoredImport | None,
    repo: ImportRepository,
    items: ItemWriter,
    fields: _Fields,
    report: ImportReport,
) -> None:
    values = import_values(d)
    if existing is None:
        delegate_id = await repo.insert(d.external_id, values)
        await _write_items(items, fields, delegate_id, {}, values)
        report.inserted += 1
        report.changed_ids.append(delegate_id)
    elif existing.deleted:
        report.skipped.append(
            RowError(
                d.line,
                "this delegate deleted their data in the bot; it is not imported again",
                "external_id",
            )
        )
        return
    elif existing.previous == values:
        report.unchanged += 1
    else:
        columns = merge(existing.current, existing.previous, values)
        await repo.update(existing.delegate_id, columns, values)
        await _write_items(items, fields, existing.delegate_id, existing.previous, values)
        report.updated += 1
        report.changed_ids.append(existing.delegate_id)
    report.external_ids.append(d.external_id)


def _row_line(error: RowError, *, note: bool = False) -> str:
    prefix = "note: " if note else ""
    return f"line {error.line}: {prefix}{error.reason}"


def format_report(file_name: str, report: ImportReport) -> list[str]:
    """The organizer's report: each skipped row and note, then one summary line."""
    lines = [_row_line(e) for e in report.skipped]
    lines += [_row_line(e, note=True) for e in report.notes]
    lines.append(
        f"{file_name}: {report.inserted} inserted, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.skipped_rows} skipped "
        f"({report.changed} changed)"
    )
    return lines
