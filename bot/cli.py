"""The `matchmaker` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import logging
import os
import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit

from bot.config import ConfigError, Settings, load_settings
from bot.domain.clock import Clock, SystemClock
from bot.i18n import SUPPORTED_LOCALES
from bot.meetings_cli import add_commands as add_meeting_commands
from bot.programme_cli import add_commands as add_programme_commands
from bot.sandbox.clock import ENV_VAR as SANDBOX_CLOCK
from bot.sandbox.clock import SandboxClock


class _Redacting(logging.Formatter):
    """Masks secrets in every formatted line, tracebacks included."""

    def __init__(self, fmt: str, hidden: tuple[str, ...]) -> None:
        super().__init__(fmt)
        # Longest first, so a token is masked whole before its secret half is looked for.
        self._hidden = sorted((h for h in hidden if h), key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self._hidden:
            text = text.replace(secret, "<hidden>")
        return text


def _configure_logging(level: str, token: str = "") -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # PTB logs its API URLs (with the token) at DEBUG; mask it wherever it appears.
    formatter = _Redacting(
        "%(asctime)s %(levelname)s %(name)s: %(message)s", (token, token.partition(":")[2])
    )
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
    cap_library_loggers()


# At DEBUG these libraries log what passes through them: PTB whole updates and API parameters,
# aiosqlite every statement with its parameters (claim and booking tokens, names, contacts,
# meeting notes), httpx/httpcore/aiohttp requests. Personal data stays out of the logs at every
# level, so they never log below INFO; the bot's own DEBUG lines carry ids and counts only.
LIBRARY_LOGGERS = (
    "aiosqlite", "telegram", "httpcore", "aiohttp", "apscheduler", "tornado", "asyncio",
)  # fmt: skip


def cap_library_loggers() -> None:
    """Keep third-party loggers at INFO or above (httpx at WARNING), whatever the root level."""
    floor = max(logging.INFO, logging.getLogger().level)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(floor)
    # httpx logs every request URL at INFO, and the URL contains the bot token; APScheduler
    # logs each run of the due-work job (every 2 s) at INFO.
    for noisy in ("httpx", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, floor))


def _run(args: argparse.Namespace) -> int:
    from telegram import Update

    from bot.app import build_application
    from storage.db import DatabaseUnusable, check_usable

    settings = load_settings(config_file=args.config, overrides=_db_override(args))
    _configure_logging(settings.log_level, settings.token)
    try:
        check_usable(settings.database)
    except DatabaseUnusable as error:
        raise ConfigError("MATCHMAKER_DB", str(error)) from None
    clock: Clock = SystemClock()
    if os.environ.get(SANDBOX_CLOCK):
        # Only the sandbox sets this: it moves time forward with /clock.
        clock = SandboxClock(Path(os.environ[SANDBOX_CLOCK]))
    webhook = getattr(args, "webhook", None)
    if webhook and importlib.util.find_spec("tornado") is None:
        print(
            "matchmaker: --webhook needs tornado: pip install 'python-telegram-bot[webhooks]'",
            file=sys.stderr,
        )
        return 2
    app = build_application(settings, clock=clock, own_stop_signals=True)
    # Both stop gracefully on SIGTERM/SIGINT: the outbox stops claiming at once (our handler,
    # hence stop_signals=()), updates stop, post_stop lets sends in flight finish.
    if webhook:
        app.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            # The proxy forwards the public URL's path unchanged.
            url_path=urlsplit(webhook).path.lstrip("/"),
            webhook_url=webhook,
            secret_token=settings.webhook_secret or secrets.token_urlsafe(32),
            allowed_updates=Update.ALL_TYPES,
            stop_signals=(),
        )
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES, stop_signals=())
    return 0


def _webhook_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme != "https" or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{text!r} is not an https:// URL (Telegram needs one)")
    return text


def _sandbox(args: argparse.Namespace) -> int:
    from bot.sandbox.chat import run_sandbox

    return run_sandbox(
        database=args.db or Path("sandbox.db"), script=args.script, config_file=args.config
    )


IMPORT_NICENESS = 10


def _yield_cpu_to_the_bot() -> None:
    # An import is a batch job next to a bot people are waiting on: on a busy machine the bot's
    # replies get the CPU first (as `nice -n 10` would do), the import takes a little longer.
    with contextlib.suppress(OSError, AttributeError):
        current = os.getpriority(os.PRIO_PROCESS, 0)
        if current < IMPORT_NICENESS:
            os.setpriority(os.PRIO_PROCESS, 0, IMPORT_NICENESS)


def _import_delegates(args: argparse.Namespace) -> int:
    from bot.organizer_cli import (
        CommandFailed,
        check_database,
        print_import,
        read_input,
        run_import,
    )

    settings = load_settings(
        config_file=args.config, require_token=False, overrides=_db_override(args)
    )
    check_database(settings.database, must_exist=False)
    _yield_cpu_to_the_bot()
    try:
        data = read_input(args.file)
        outcome = asyncio.run(
            run_import(settings, args.file, data, links=args.links, notify=args.notify)
        )
    except CommandFailed as error:
        print(f"matchmaker: import failed: {error}", file=sys.stderr)
        return 1
    print_import(args.file, outcome, sys.stdout, args.links)
    return 0


def _matches(args: argparse.Namespace) -> int:
    from bot.organizer_cli import check_database, reasons_in, run_matches

    settings = load_settings(
        config_file=args.config, require_token=False, overrides=_db_override(args)
    )
    check_database(settings.database, must_exist=True)
    render = reasons_in(args.lang or "en")
    text = asyncio.run(run_matches(settings, top=args.top, fmt=args.format, render=render))
    # Bytes, not the console's encoding: the output goes to tools and files as UTF-8.
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.buffer.flush()
    return 0


async def _new_invite(settings: Settings) -> str:
    from bot.broadcasts import BroadcastService
    from storage.db import Database
    from storage.outbox import OutboxRepository

    db = Database(settings.database)
    await db.connect()
    try:
        await db.migrate()
        clock = SystemClock()
        service = BroadcastService(db, clock, settings, OutboxRepository(db, clock))
        return await service.create_invite()
    finally:
        await db.close()


def _invite_organizer(args: argparse.Namespace) -> int:
    settings = load_settings(
        config_file=args.config, require_token=False, overrides=_db_override(args)
    )
    code = asyncio.run(_new_invite(settings))
    print(code)
    print(f"Send the bot: /organizer {code}  (works once)", file=sys.stderr)
    return 0


def _stats(args: argparse.Namespace) -> int:
    from bot.organizer_cli import check_database
    from bot.stats import gather_from_file, stats_lines

    settings = load_settings(
        config_file=args.config, require_token=False, overrides=_db_override(args)
    )
    check_database(settings.database, must_exist=True)
    stats, matches = asyncio.run(gather_from_file(settings))
    sys.stdout.write("\n".join(stats_lines(stats, matches)) + "\n")
    return 0


async def _export_data(settings: Settings, what: str, fmt: str) -> tuple[bytes, str, int]:
    from bot import data_exports
    from storage.db import Database

    db = Database(settings.database)
    await db.connect()
    try:
        await db.migrate()
        table = await data_exports.export_table(
            db, SystemClock(), settings.schedule, settings.timezone, what
        )
    finally:
        await db.close()
    content, name = data_exports.render(table, fmt)
    return content, name, len(table.rows)


def _export(args: argparse.Namespace) -> int:
    from bot.organizer_cli import check_database

    settings = load_settings(
        config_file=args.config, require_token=False, overrides=_db_override(args)
    )
    check_database(settings.database, must_exist=True)
    if args.format == "xlsx" and args.out is None:
        print("matchmaker: --format xlsx needs --out FILE.xlsx", file=sys.stderr)
        return 2
    content, _, rows = asyncio.run(_export_data(settings, args.what, args.format))
    if args.out is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
    else:
        args.out.write_bytes(content)
    print(f"{rows} row(s) of {args.what} exported", file=sys.stderr)
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"{value} is not between 1 and 1000")
    return value


def _db_override(args: argparse.Namespace) -> dict[str, object]:
    return {"MATCHMAKER_DB": str(args.db)} if getattr(args, "db", None) else {}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="matchmaker", description=__doc__)
    parser.add_argument("--config", type=Path, help="TOML configuration file")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run", help="run the bot against Telegram (long polling, or a webhook with --webhook)"
    )
    run.add_argument("--db", type=Path, help="SQLite database file")
    run.add_argument(
        "--webhook",
        type=_webhook_url,
        metavar="URL",
        help="receive updates at this public https URL (behind a reverse proxy, see README)",
    )
    run.set_defaults(handler=_run)

    sandbox = commands.add_parser(
        "sandbox", help="chat with the real bot in the terminal, through a fake Telegram"
    )
    sandbox.add_argument("--db", type=Path, help="SQLite file (default ./sandbox.db)")
    sandbox.add_argument("--script", type=Path, help="replay a session file and check it")
    sandbox.set_defaults(handler=_sandbox)

    importing = commands.add_parser(
        "import-delegates",
        help="import or update delegates from the organizers' CSV file (by external_id)",
        description="Insert or update delegates by external_id from a UTF-8 CSV file with a "
        "header row. Bad rows are skipped and reported; a file that cannot be read imports "
        "nothing and exits 1. Running the same file twice changes nothing.",
    )
    importing.add_argument("file", type=Path, metavar="FILE.csv", help="the delegates file")
    importing.add_argument("--db", type=Path, help="SQLite database file")
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
        help="print every delegate's top counterparts as JSON or CSV",
        description="For every registered delegate, the top K counterparts, best first. "
        "Delegates are named by external_id, or tg:<telegram user id> if they registered in "
        "chat.",
    )
    matches.add_argument("--db", type=Path, help="SQLite database file")
    matches.add_argument(
        "--top", type=_positive, default=10, metavar="K", help="counterparts per delegate (10)"
    )
    matches.add_argument("--format", choices=("json", "csv"), default="json")
    matches.add_argument(
        "--lang",
        choices=SUPPORTED_LOCALES,
        help="language of the reasons (default English)",
    )
    matches.set_defaults(handler=_matches)
    invite = commands.add_parser(
        "invite-organizer",
        help="print a one-time code that makes whoever sends /organizer CODE an organizer",
    )
    invite.add_argument("--db", type=Path, help="SQLite database file")
    invite.set_defaults(handler=_invite_organizer)

    stats = commands.add_parser("stats", help="print the event's figures")
    stats.add_argument("--db", type=Path, help="SQLite database file")
    stats.set_defaults(handler=_stats)
    export = commands.add_parser(
        "export",
        help="export delegates, offers, needs, meetings or the schedule as CSV or XLSX",
        description="CSV is UTF-8 with a byte-order mark (spreadsheets open it right).",
    )
    export.add_argument("--db", type=Path, help="SQLite database file")
    export.add_argument(
        "--what",
        required=True,
        choices=("delegates", "offers", "needs", "meetings", "schedule"),
    )
    export.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    export.add_argument("--out", type=Path, help="output file (CSV default: standard output)")
    export.set_defaults(handler=_export)
    # Meetings: schedule, export-schedule, export-badges.
    add_meeting_commands(commands)
    # The event programme: load-programme.
    add_programme_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except ConfigError as error:
        print(f"matchmaker: configuration error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    sys.exit(main())
