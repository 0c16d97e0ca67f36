"""The `matchmaker load-programme` subcommand: load the event programme from TOML or CSV."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TextIO

from bot.cli.common import Commands, database_options, settings_of
from bot.config import Settings
from bot.services import open_services
from bot.services.programme import ParsedProgramme, ProgrammeFileError, parse_file
from storage.programme import LoadSummary


async def _store(settings: Settings, parsed: ParsedProgramme, replace: bool) -> LoadSummary:
    async with open_services(settings) as services:
        return await services.programme.repo.load(parsed.sessions, replace=replace)


def print_summary(
    path: Path, parsed: ParsedProgramme, summary: LoadSummary | None, out: TextIO
) -> None:
    """The summary line and one line per skipped row."""
    for error in parsed.errors:
        out.write(f"{path.name}: {error}\n")
    if summary is None:
        out.write(f"{len(parsed.sessions)} session(s) read, nothing loaded\n")
        return
    out.write(
        f"{len(parsed.sessions)} session(s) read: {summary.added} added, {summary.updated} "
        f"updated, {summary.unchanged} unchanged, {summary.removed} removed; "
        f"{len(parsed.errors)} row(s) skipped\n"
    )


def _load_programme(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    try:
        parsed = parse_file(args.file, settings.timezone)
    except ProgrammeFileError as error:
        sys.stderr.write(f"matchmaker: load-programme failed: {error}\n")
        return 1
    if args.replace and parsed.errors:
        # Removing what the file lacks is only safe when every row of the file was read.
        print_summary(args.file, parsed, None, sys.stdout)
        sys.stderr.write(
            "matchmaker: --replace refused: fix the rows above first (nothing was changed)\n"
        )
        return 1
    summary = asyncio.run(_store(settings, parsed, args.replace))
    print_summary(args.file, parsed, summary, sys.stdout)
    return 0


def add_commands(commands: Commands) -> None:
    """Add the programme subcommand to the `matchmaker` parser."""
    load = commands.add_parser(
        "load-programme",
        parents=[database_options()],
        help="load or update the event programme (roadshows, forums, sessions) from TOML or CSV",
        description="Sessions are inserted or updated by key; times are local to the event's "
        "time zone. Bad rows are skipped and reported with their line; loading the same file "
        "twice changes nothing. See README, 'Event programme', for the file formats.",
    )
    load.add_argument("file", type=Path, metavar="FILE", help="a .toml or .csv file")
    load.add_argument(
        "--replace",
        action="store_true",
        help="also remove sessions (and their reminders) whose key is not in the file",
    )
    load.set_defaults(handler=_load_programme)
