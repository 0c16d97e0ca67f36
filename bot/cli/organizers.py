"""The organizers' commands: `import-delegates`, `matches` (a contract outside tools use),
`invite-organizer` and `export`.

Both open the database named by --db (or the settings) themselves and may run while the bot
runs: SQLite in WAL mode lets the bot read on, an import commits in short batches (the bot's
writes wait for a batch with busy_timeout), and the bot's due-work job notices the commits
(PRAGMA data_version) and reloads its match index once they stop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import json
import os
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO

from bot.cli.common import Commands, database_options, positive, say, settings_of, write_out
from bot.config import ConfigError, Settings
from bot.domain.clock import Clock, SystemClock
from bot.domain.importing import parse_delegate_csv
from bot.domain.languages import INTERFACE_LANGUAGES
from bot.domain.links import start_link
from bot.domain.matching import Match, Reason
from bot.domain.taxonomy import Taxonomy
from bot.encoders import make_encoder
from bot.formats import spreadsheet
from bot.formats.match_reasons import reason_plain
from bot.i18n import I18n
from bot.services import exports, open_services
from bot.services.importing import (
    MAX_IMPORT_ROWS,
    ImportReport,
    ImportRunning,
    format_report,
    import_delegates,
    import_lock,
    row_count,
)
from bot.services.matching import MatchingService, Progress
from storage.claims import ClaimLink, ClaimRepository
from storage.db import Database
from storage.importer import ImportRepository
from storage.outbox import OutboxRepository

MATCHES_CSV_HEADER = ("delegate", "rank", "match", "direction", "score", "reason")
LINKS_CSV_HEADER = ("external_id", "name", "link")


class CommandFailed(Exception):
    """The command could not do its work; the message is one line for the organizer."""


# -- import-delegates ------------------------------------------------------------------------


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
    rows = [(x.external_id, x.name, start_link(bot_username, x.token)) for x in links if x.token]
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
        matching = MatchingService(
            db, clock, outbox=OutboxRepository(db, clock), encoder=make_encoder(settings.encoder)
        )
        repo = ImportRepository(db, clock)
        holder = f"matchmaker import-delegates (pid {os.getpid()})"
        started = f"{clock.now():%Y-%m-%d %H:%M:%S} UTC"
        try:
            with import_lock(settings.database, holder, file.name, started):
                report = await import_delegates(
                    db, repo, matching.items, matching.classify, parsed
                )
                # Vectors are computed here, once, so the running bot only reads them.
                await matching.embed_all(progress=terminal_progress(sys.stderr))
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
            claim_links = await ClaimRepository(db, clock).links(report.external_ids)
            written = write_links(links, claim_links, bot_username)
            dead = sum(1 for x in claim_links if x.token is None)
    finally:
        await db.close()
    return ImportOutcome(report, announced, written, dead)


def terminal_progress(stream: TextIO, label: str = "embedding item texts") -> Progress | None:
    """A progress bar on a terminal (nothing when the stream is a file or a pipe)."""
    if not stream.isatty():
        return None

    def show(done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        bar = "#" * filled + "-" * (width - filled)
        stream.write(f"\r{label}: [{bar}] {done}/{total}")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return show


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
    async with open_services(settings, clock, load_matching=True) as services:
        table = await services.matching.table(limit=top)
        public_ids = await services.imports.public_ids()
    renderer = (render or reasons_in("en"))(services.matching.taxonomy)
    payload = matches_payload(table, public_ids, renderer, top=top)
    return render_matches(payload, fmt)


# -- the subcommands ---------------------------------------------------------------------


IMPORT_NICENESS = 10


def _yield_cpu_to_the_bot() -> None:
    # An import is a batch job next to a bot people are waiting on: on a busy machine the bot's
    # replies get the CPU first (as `nice -n 10` would do), the import takes a little longer.
    with contextlib.suppress(OSError, AttributeError):
        if os.getpriority(os.PRIO_PROCESS, 0) < IMPORT_NICENESS:
            os.setpriority(os.PRIO_PROCESS, 0, IMPORT_NICENESS)


def _import_delegates(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    check_database(settings.database, must_exist=False)
    _yield_cpu_to_the_bot()
    try:
        data = read_input(args.file)
        outcome = asyncio.run(
            run_import(settings, args.file, data, links=args.links, notify=args.notify)
        )
    except CommandFailed as error:
        say(f"matchmaker: import failed: {error}")
        return 1
    print_import(args.file, outcome, sys.stdout, args.links)
    return 0


def _matches(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    check_database(settings.database, must_exist=True)
    render = reasons_in(args.lang or "en")
    text = asyncio.run(run_matches(settings, top=args.top, fmt=args.format, render=render))
    # Bytes, not the console's encoding: the output goes to tools and files as UTF-8.
    write_out(text, None)
    return 0


async def _new_invite(settings: Settings) -> str:
    async with open_services(settings) as services:
        return await services.organizers.create_invite()


def _invite_organizer(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    code = asyncio.run(_new_invite(settings))
    sys.stdout.write(code + "\n")
    say(f"Send the bot: /organizer {code}  (works once)")
    return 0


async def _export_data(settings: Settings, what: str, fmt: str) -> tuple[bytes, str, int]:
    async with open_services(settings) as services:
        table = await exports.export_table(
            services.db, services.clock, settings.schedule, settings.timezone, what
        )
    content, name = exports.render(table, fmt)
    return content, name, len(table.rows)


def _export(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    check_database(settings.database, must_exist=True)
    if args.format == "xlsx" and args.out is None:
        say("matchmaker: --format xlsx needs --out FILE.xlsx")
        return 2
    content, _, rows = asyncio.run(_export_data(settings, args.what, args.format))
    write_out(content, args.out)
    say(f"{rows} row(s) of {args.what} exported")
    return 0


def add_commands(commands: Commands) -> None:
    """Add import-delegates, matches, invite-organizer and export."""
    importing = commands.add_parser(
        "import-delegates",
        parents=[database_options()],
        help="import or update delegates from the organizers' CSV file (by external_id)",
        description="Insert or update delegates by external_id from a UTF-8 CSV file with a "
        "header row. Bad rows are skipped and reported; a file that cannot be read imports "
        "nothing and exits 1. Running the same file twice changes nothing.",
    )
    importing.add_argument("file", type=Path, metavar="FILE.csv", help="the delegates file")
    importing.add_argument(
        "--links",
        type=Path,
        metavar="OUT.csv",
        help="write external_id,name,link: each imported delegate's private claim link",
    )
    importing.add_argument(
        "--notify",
        action="store_true",
        help="announce new strong matches to delegates (by default an import announces nothing)",
    )
    importing.set_defaults(handler=_import_delegates)

    matches = commands.add_parser(
        "matches",
        parents=[database_options()],
        help="print every delegate's top counterparts as JSON or CSV",
        description="For every registered delegate, the top K counterparts, best first. "
        "Delegates are named by external_id, or tg:<telegram user id> if they registered in "
        "chat.",
    )
    matches.add_argument(
        "--top", type=positive, default=10, metavar="K", help="counterparts per delegate (10)"
    )
    matches.add_argument("--format", choices=("json", "csv"), default="json")
    matches.add_argument(
        "--lang",
        choices=INTERFACE_LANGUAGES,
        help="language of the reasons (default English)",
    )
    matches.set_defaults(handler=_matches)

    invite = commands.add_parser(
        "invite-organizer",
        parents=[database_options()],
        help="print a one-time code that makes whoever sends /organizer CODE an organizer",
    )
    invite.set_defaults(handler=_invite_organizer)

    export = commands.add_parser(
        "export",
        parents=[database_options()],
        help="export delegates, offers, needs, meetings, the schedule, exhibit lead counts or "
        "the follow-up results",
        description="CSV is UTF-8 with a byte-order mark (spreadsheets open it right).",
    )
    export.add_argument(
        "--what",
        required=True,
        choices=(
            "delegates",
            "offers",
            "needs",
            "meetings",
            "schedule",
            "exhibit_leads",
            "results",
        ),
    )
    export.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    export.add_argument("--out", type=Path, help="output file (CSV default: standard output)")
    export.set_defaults(handler=_export)
