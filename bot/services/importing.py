"""Import the organizers' delegate file into the database: idempotent, row by row, one commit.

Each valid row inserts or updates the delegate with its external_id; running the same file
twice changes nothing. A re-import changes a profile column only while it still holds what the
previous import wrote, so what a delegate changed in chat after claiming their profile wins.
Offer and need texts become the delegate's imported items, classified when their text is new.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

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
) -> ImportReport:
    """Write the valid rows of a parsed file in one transaction and report what happened."""
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
    # Classifying is the slow part: do it before the write lock, which the bot shares.
    fields.prepare(rows, await repo.stored(d.external_id for d in rows))

    async with db.transaction():
        stored = await repo.stored(d.external_id for d in rows)
        hosts = {d.host_external_id for d in rows if d.host_external_id}
        report.notes = _notes(rows, await repo.known_external_ids(hosts))
        for d in rows:
            values = import_values(d)
            existing = stored.get(d.external_id)
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
                continue
            elif existing.previous == values:
                report.unchanged += 1
            else:
                columns = merge(existing.current, existing.previous, values)
                await repo.update(existing.delegate_id, columns, values)
                await _write_items(items, fields, existing.delegate_id, existing.previous, values)
                report.updated += 1
                report.changed_ids.append(existing.delegate_id)
            report.external_ids.append(d.external_id)
            # A kill after some rows must leave none of them: the file imports whole or not.
            crash_point("import.in_transaction")
    report.skipped.sort(key=lambda e: e.line)
    report.notes.sort(key=lambda e: e.line)
    return report


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
