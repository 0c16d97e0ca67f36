"""The organizers' commands: `import-delegates` and `matches` (a contract outside tools use).

Both open the database named by --db (or the settings) themselves and may run while the bot
runs: SQLite in WAL mode lets the bot read on, an import commits in short batches (the bot's
writes wait for a batch with busy_timeout), and the bot's due-work job notices the commits
(PRAGMA data_version) and reloads its match index once they stop.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO

from bot import spreadsheet
from bot.config import ConfigError, Settings
from bot.domain.clock import Clock, SystemClock
from bot.domain.importing import RowError, parse_delegate_csv
from bot.domain.matching import Match, Reason
from bot.domain.taxonomy import Taxonomy
from bot.i18n import I18n
from bot.importer import (
    MAX_IMPORT_ROWS,
    ImportReport,
    ImportRunning,
    import_delegates,
    import_lock,
    row_count,
)
from bot.match_text import reason_plain
from bot.matching_service import MatchingService
from storage.db import Database
from storage.importer import ClaimLink, ImportRepository
from storage.outbox import OutboxRepository

MATCHES_CSV_HEADER = ("delegate", "rank", "match", "direction", "score", "reason")
LINKS_CSV_HEADER = ("external_id", "name", "link")


class CommandFailed(Exception):
    """The command could not do its work; the message is one line for the organizer."""


# -- import-delegates ------------------------------------------------------------------------


def claim_link(bot_username: str, token: str) -> str:
    """The deep link that opens the bot with a claim token."""
    return f"https://t.me/{bot_username}?start={token}"


async def resolve_bot_username(settings: Settings) -> str:
    """The bot's username: the setting, else getMe with the token; ConfigError if neither."""
    if settings.bot_username:
        return settings.bot_username
    if not settings.token:
        raise ConfigError(
            "MATCHMAKER_BOT_USERNAME",
            "claim links need the bot's username: set it, or set MATCHMAKER_TOKEN to ask Telegram",
        )
    from telegram import Bot
    from telegram.error import TelegramError

    try:
        async with Bot(settings.token, base_url=settings.api_base_url) as bot:
            username = bot.username
    except TelegramError as error:
        raise ConfigError(
            "MATCHMAKER_BOT_USERNAME", f"not set, and Telegram's getMe failed: {error}"
        ) from None
    return username


def read_input(path: Path) -> bytes:
    """Read the organizers' file, turning OS errors into one line."""
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise CommandFailed(f"{path} is a directory, not a CSV file") from None
    except OSError as error:
        raise CommandFailed(f"cannot read {path}: {error.strerror or error}") from None


def write_links(path: Path, links: Sequence[ClaimLink], bot_username: str) -> int:
    """Write external_id,name,link for every link still alive; return how many rows."""
    rows = [(x.external_id, x.name, claim_link(bot_username, x.token)) for x in links if x.token]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(LINKS_CSV_HEADER)
    writer.writerows(spreadsheet.safe_row(row) for row in rows)
    _write_atomically(path, buffer.getvalue())
    return len(rows)


def _write_atomically(path: Path, text: str) -> None:
    # A half-written links file sent to delegates would be worse than none.
    directory = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=".links-", dir=directory)
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.replace(temporary, path)
    except OSError as error:
        raise CommandFailed(f"cannot write {path}: {error.strerror or error}") from None


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


def check_database(path: Path, *, must_exist: bool) -> None:
    """Refuse a database path that cannot be right, before anything starts."""
    if must_exist and not path.exists():
        raise ConfigError("MATCHMAKER_DB", f"no database at {path}")
    if path.is_dir():
        raise ConfigError("MATCHMAKER_DB", f"{path} is a directory")


async def open_database(path: Path) -> Database:
    """Open and migrate the database, with one-line errors."""
    db = Database(path)
    try:
        await db.connect()
        await db.migrate()
    except sqlite3.Error as error:
        await db.close()
        raise ConfigError("MATCHMAKER_DB", f"{path}: {error}") from None
    return db


@dataclass(frozen=True)
class ImportOutcome:
    """What import-delegates did: the report, how many were told, and the links written."""

    report: ImportReport
    announced: int
    links_written: int | None
    links_dead: int


async def run_import(
    settings: Settings,
    file: Path,
    data: bytes,
    *,
    links: Path | None,
    notify: bool,
    clock: Clock | None = None,
) -> ImportOutcome:
    """Import a delegate file; raises CommandFailed for a file that imports nothing."""
    # A missing username is a configuration problem: find it before anything is written.
    bot_username = await resolve_bot_username(settings) if links else None
    parsed = parse_delegate_csv(data)
    if parsed.file_error is not None:
        raise CommandFailed(f"{file}: {parsed.file_error} Nothing was imported.")
    rows = row_count(parsed)
    if rows > MAX_IMPORT_ROWS:
        raise CommandFailed(
            f"{file}: {rows} rows; an import takes at most {MAX_IMPORT_ROWS}. "
            "Split the file and import the parts one after the other. Nothing was imported."
        )
    clock = clock or SystemClock()
    db = await open_database(settings.database)
    try:
        matching = MatchingService(db, clock, outbox=OutboxRepository(db, clock))
        repo = ImportRepository(db, clock)
        holder = f"matchmaker import-delegates (pid {os.getpid()})"
        started = f"{clock.now():%Y-%m-%d %H:%M:%S} UTC"
        try:
            with import_lock(settings.database, holder, file.name, started):
                report = await import_delegates(
                    db, repo, matching.items, matching.classify, parsed
                )
        except ImportRunning as error:
            running = error.running
            raise CommandFailed(
                f"{file}: another import is running ({running.file_name}, started "
                f"{running.started_at} by {running.holder}). "
                "Nothing was imported; try again when it has finished."
            ) from None
        announced = 0
        if notify and report.changed_ids:
            # Announcements go through the outbox; the bot sends them (now, or when it starts).
            await matching.load()
            for delegate_id in report.changed_ids:
                announced += await matching.refresh_delegate(delegate_id, announce=True)
        written, dead = None, 0
        if links is not None and bot_username is not None:
            claim_links = await repo.links(report.external_ids)
            written = write_links(links, claim_links, bot_username)
            dead = sum(1 for x in claim_links if x.token is None)
    finally:
        await db.close()
    return ImportOutcome(report, announced, written, dead)


def print_import(file: Path, outcome: ImportOutcome, out: TextIO, links: Path | None) -> None:
    """Print the import's report."""
    for line in format_report(file.name, outcome.report):
        print(line, file=out)
    if outcome.announced:
        print(f"announced: {outcome.announced} new matches queued for delegates", file=out)
    if links is not None and outcome.links_written is not None:
        extra = f" ({outcome.links_dead} already claimed, left out)" if outcome.links_dead else ""
        print(f"links: {outcome.links_written} written to {links}{extra}", file=out)


# -- matches ---------------------------------------------------------------------------------

Format = Literal["json", "csv"]
ReasonRenderer = Callable[[Reason], str]


def reasons_in(locale: str) -> Callable[[Taxonomy], ReasonRenderer]:
    """Render reasons as the bot's /matches does, in a shipped language, as plain text."""

    # The bot's own wording, so the organizer reads what delegates read.
    def build(taxonomy: Taxonomy) -> ReasonRenderer:
        tr = I18n(locale).translator(locale)
        return lambda reason: reason_plain(reason, tr, taxonomy)

    return build


def match_reason(match: Match, render: ReasonRenderer) -> str:
    """One string: the reasons that explain the match, strongest first."""
    return "; ".join(render(r) for r in match.reasons)


def matches_payload(
    table: Mapping[int, Sequence[Match]],
    public_ids: Mapping[int, str],
    render: ReasonRenderer,
    *,
    top: int,
) -> list[dict[str, Any]]:
    """Every delegate with their top counterparts, in the documented JSON shape."""
    payload: list[dict[str, Any]] = []
    for delegate_id, public_id in public_ids.items():
        entries: list[dict[str, Any]] = []
        seen: set[str] = set()
        for match in table.get(delegate_id, ()):
            other = public_ids.get(int(match.key))
            if other is None or other in seen:
                continue
            seen.add(other)
            entries.append(
                {
                    "delegate": other,
                    "direction": match.direction,
                    "score": round(min(max(match.score, 0.0), 1.0), 4),
                    "reason": match_reason(match, render),
                }
            )
            if len(entries) == top:
                break
        payload.append({"delegate": public_id, "matches": entries})
    return payload


def render_matches(payload: Sequence[Mapping[str, Any]], fmt: Format) -> str:
    """The payload as JSON, or as CSV with one row per (delegate, counterpart)."""
    if fmt == "json":
        return json.dumps(list(payload), ensure_ascii=False, indent=2) + "\n"
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(MATCHES_CSV_HEADER)
    for entry in payload:
        for rank, match in enumerate(entry["matches"], start=1):
            writer.writerow(
                spreadsheet.safe_row(
                    (
                        entry["delegate"],
                        rank,
                        match["delegate"],
                        match["direction"],
                        f"{match['score']:.4f}",
                        match["reason"],
                    )
                )
            )
    return buffer.getvalue()


async def run_matches(
    settings: Settings,
    *,
    top: int,
    fmt: Format,
    render: Callable[[Taxonomy], ReasonRenderer] | None = None,
    clock: Clock | None = None,
) -> str:
    """Compute every delegate's top counterparts and render them."""
    db = await open_database(settings.database)
    try:
        matching = MatchingService(db, clock or SystemClock())
        await matching.load()
        table = await matching.table(limit=top)
        public_ids = await ImportRepository(db, clock or SystemClock()).public_ids()
    finally:
        await db.close()
    renderer = (render or reasons_in("en"))(matching.taxonomy)
    payload = matches_payload(table, public_ids, renderer, top=top)
    return render_matches(payload, fmt)
