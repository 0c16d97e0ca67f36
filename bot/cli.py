"""The `matchmaker` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from bot.config import ConfigError, load_settings
from bot.domain.clock import Clock, SystemClock
from bot.i18n import SUPPORTED_LOCALES
from bot.meetings_cli import add_commands as add_meeting_commands
from bot.sandbox.clock import ENV_VAR as SANDBOX_CLOCK
from bot.sandbox.clock import SandboxClock


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request URL, and the URL contains the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _run(args: argparse.Namespace) -> int:
    from telegram import Update

    from bot.app import build_application

    settings = load_settings(config_file=args.config, overrides=_db_override(args))
    _configure_logging(settings.log_level)
    clock: Clock = SystemClock()
    if os.environ.get(SANDBOX_CLOCK):
        # Only the sandbox sets this: it moves time forward with /clock.
        clock = SandboxClock(Path(os.environ[SANDBOX_CLOCK]))
    app = build_application(settings, clock=clock)
    app.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    from bot.sandbox.chat import run_sandbox

    return run_sandbox(
        database=args.db or Path("sandbox.db"), script=args.script, config_file=args.config
    )


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

    run = commands.add_parser("run", help="run the bot against Telegram (long polling)")
    run.add_argument("--db", type=Path, help="SQLite database file")
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
    # Meetings: schedule, export-schedule, export-badges.
    add_meeting_commands(commands)
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
