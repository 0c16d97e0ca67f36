"""The catalogue's subcommands: `import-exhibits` and `search-exhibits` (README, "Exhibits")."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from bot.cli.common import Commands, database_options, positive, say, settings_of
from bot.domain.languages import INTERFACE_LANGUAGES
from bot.formats.match_reasons import reason_plain
from bot.services import open_services
from bot.services.exhibits import ExhibitFileError, ImportReport, read_file, title_of


async def _import(args: argparse.Namespace) -> ImportReport:
    parse = read_file(args.file.name, args.file.read_bytes())
    async with open_services(settings_of(args)) as services:
        return await services.exhibits.import_parsed(parse)


def _import_exhibits(args: argparse.Namespace) -> int:
    try:
        report = asyncio.run(_import(args))
    except (ExhibitFileError, OSError) as error:
        say(f"matchmaker: import-exhibits failed: {error}")
        return 1
    name = args.file.name
    if report.summary is None:
        say(f"matchmaker: import-exhibits failed: {name}: {report.parse.file_error}")
        return 1
    for row_error in report.parse.errors:
        column = f" ({row_error.column})" if row_error.column else ""
        sys.stdout.write(f"{name}: row {row_error.line}{column}: {row_error.reason}\n")
    for note in report.notes:
        sys.stdout.write(f"{name}: note: {note}\n")
    s = report.summary
    sys.stdout.write(
        f"{len(report.parse.exhibits)} exhibit(s) read: {s.added} added, {s.updated} updated, "
        f"{s.unchanged} unchanged; {len(report.parse.errors)} row(s) skipped, "
        f"{len(report.notes)} note(s)\n"
    )
    return 0


async def _search(args: argparse.Namespace) -> list[dict[str, object]]:
    async with open_services(settings_of(args)) as services:
        hits = await services.exhibits.search(args.text, limit=args.top)
        tr = services.i18n.translator(args.lang)
        taxonomy = services.matching.taxonomy
        out: list[dict[str, object]] = []
        for hit in hits:
            out.append(
                {
                    "key": hit.exhibit.data.key,
                    "score": hit.score,
                    "title": title_of(hit.exhibit, args.lang)[1],
                    "booth": hit.exhibit.data.booth,
                    "reason": reason_plain(hit.reasons[0], tr, taxonomy) if hit.reasons else "",
                }
            )
        return out


def _search_exhibits(args: argparse.Namespace) -> int:
    found = asyncio.run(_search(args))
    if args.format == "json":
        sys.stdout.write(json.dumps(found, ensure_ascii=False) + "\n")
        return 0
    for hit in found:
        booth = f" [{hit['booth']}]" if hit["booth"] else ""
        sys.stdout.write(f"{hit['score']:.2f}  {hit['key']}{booth}  {hit['title']}\n")
        sys.stdout.write(f"      {hit['reason']}\n")
    if not found:
        say("no exhibit matches")
    return 0


def add_commands(commands: Commands) -> None:
    """Add the catalogue's subcommands to the `matchmaker` parser."""
    imp = commands.add_parser(
        "import-exhibits",
        parents=[database_options()],
        help="load or update the exhibits catalogue from CSV or XLSX",
        description="Exhibits are inserted or updated by key; bad rows are skipped and reported "
        "with their row; importing the same file twice changes nothing. See README, 'Exhibits'.",
    )
    imp.add_argument("file", type=Path, metavar="FILE", help="a .csv or .xlsx file")
    imp.set_defaults(handler=_import_exhibits)
    search = commands.add_parser(
        "search-exhibits",
        parents=[database_options()],
        help="search the exhibits for a need, in any language",
    )
    search.add_argument("text", metavar="TEXT", help="what the visitor looks for")
    search.add_argument("--top", type=positive, default=10, help="how many (default 10)")
    search.add_argument(
        "--lang", choices=INTERFACE_LANGUAGES, default="en", help="language of titles"
    )
    search.add_argument("--format", choices=("text", "json"), default="text")
    search.set_defaults(handler=_search_exhibits)
