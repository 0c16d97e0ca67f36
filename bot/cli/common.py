"""What every subcommand shares: --config and --db, settings, output, one-line errors."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from bot.config import Settings, load_settings
from bot.sandbox.clock import sandbox_config_for

# argparse's private _SubParsersAction: what `add_subparsers()` returns.
Commands = Any


def database_options() -> argparse.ArgumentParser:
    """The parent parser of every subcommand that opens the database: --config and --db."""
    parent = argparse.ArgumentParser(add_help=False)
    # SUPPRESS keeps a --config given before the subcommand when this one is not given.
    parent.add_argument(
        "--config", type=Path, default=argparse.SUPPRESS, help="TOML configuration file"
    )
    parent.add_argument("--db", type=Path, help="SQLite database file")
    return parent


def settings_of(args: argparse.Namespace, *, require_token: bool = False) -> Settings:
    """The settings, with --db (if given) over the configuration and the environment.

    A sandbox database (`matchmaker sandbox` keeps its clock beside it) opened without any
    configuration is read with the sandbox's own event, so its zone is the one the bot uses.
    """
    overrides = {"MATCHMAKER_DB": str(args.db)} if getattr(args, "db", None) else {}
    config_file = getattr(args, "config", None)
    if config_file is None and getattr(args, "db", None) and not _configured():
        config_file = sandbox_config_for(Path(args.db))
        if config_file is not None:
            say(f"matchmaker: {args.db} is a sandbox database: using the sandbox's event "
                f"({config_file.name}) for its time zone and schedule")  # fmt: skip
    return load_settings(
        config_file=config_file,
        require_token=require_token,
        overrides=overrides,
    )


def _configured() -> bool:
    return any(name in os.environ for name in ("MATCHMAKER_CONFIG", "MATCHMAKER_TIMEZONE"))


def say(text: str) -> None:
    """One line for the organizer on standard error (results go to standard output)."""
    sys.stderr.write(text + "\n")


def write_out(content: bytes | str, out: Path | None) -> None:
    """Write a result to --out, or as UTF-8 bytes to standard output (tools and pipes)."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    if out is not None:
        out.write_bytes(data)
        return
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def positive(text: str) -> int:
    """An argparse type: a whole number from 1 to 1000."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"{value} is not between 1 and 1000")
    return value
