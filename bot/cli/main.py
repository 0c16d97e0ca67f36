"""The `matchmaker` command line: one parser, each command group adding its own subcommands."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bot.cli import (
    exhibits,
    meetings,
    organizers,
    outbox,
    programme,
    running,
    scheduling,
    stats,
    web,
)
from bot.cli.common import say
from bot.config import ConfigError

# The command groups, in the order `matchmaker --help` lists them.
COMMAND_GROUPS = (
    running,
    organizers,
    stats,
    meetings,
    scheduling,
    programme,
    exhibits,
    outbox,
    web,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="matchmaker", description=__doc__)
    parser.add_argument("--config", type=Path, help="TOML configuration file")
    commands = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except ConfigError as error:
        say(f"matchmaker: configuration error: {error}")
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    sys.exit(main())
