"""The `matchmaker` command line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from bot.config import ConfigError, load_settings
from bot.domain.clock import Clock, SystemClock
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
