"""The catalogue's subcommands: `import-exhibits`, `search-exhibits` and `export-posters`
(README, "Exhibits")."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path

from bot.cli.common import Commands, database_options, positive, say, settings_of
from bot.domain.languages import INTERFACE_LANGUAGES
from bot.domain.links import start_link
from bot.formats.match_reasons import reason_plain
from bot.formats.posters import SIZES, Poster, posters_pdf, posters_zip
from bot.i18n import Translator, without_bidi_marks
from bot.services import open_services
from bot.services.exhibits import Exhibit, ExhibitFileError, ImportReport, read_file, title_of


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
    sys.stdout.write("".join(line + "\n" for line in report.lines(name)))
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


def _where(exhibit: Exhibit, tr: Translator) -> str:
    d = exhibit.data
    if d.booth and d.hall:
        return tr.label("Booth {booth}, hall {hall}", booth=d.booth, hall=d.hall)
    if d.booth:
        return tr.label("Booth {booth}", booth=d.booth)
    if d.hall:
        return tr.label("Hall {hall}", hall=d.hall)
    return ""


def _poster(exhibit: Exhibit, link: str, translators: list[Translator]) -> Poster:
    def each(line: Callable[[Translator], str]) -> tuple[str, ...]:
        lines = (without_bidi_marks(line(tr)) for tr in translators)
        return tuple(dict.fromkeys(t for t in lines if t))

    d = exhibit.data
    return Poster(
        key=d.key,
        titles=d.titles,
        organization=d.organization,
        booth=d.booth or d.hall or "",
        where=each(lambda tr: _where(exhibit, tr)),
        # Translators: under the QR code of an exhibit's booth poster.
        scan=each(lambda tr: tr.label("Scan to open this exhibit in Telegram")),
        link=link,
    )


async def _posters(args: argparse.Namespace) -> list[Poster]:
    from bot.cli.organizers import resolve_bot_username

    settings = settings_of(args)
    username = await resolve_bot_username(settings)
    async with open_services(settings) as services:
        posters = []
        for exhibit in await services.exhibits.repo.all():
            # The poster's languages: its titles', then English for everyone else.
            languages = [lang for lang in exhibit.data.titles if lang in INTERFACE_LANGUAGES]
            translators = [services.i18n.translator(lang) for lang in [*languages, "en"]]
            link = start_link(username, exhibit.token)
            posters.append(_poster(exhibit, link, list(dict.fromkeys(translators))))
    return posters


def _export_posters(args: argparse.Namespace) -> int:
    suffix = args.out.suffix.lower()
    if suffix not in {".pdf", ".zip"}:
        say("matchmaker: --out must end in .pdf or .zip")
        return 2
    settings = settings_of(args)
    if not settings.database.exists():
        say(f"matchmaker: database {settings.database} does not exist")
        return 1
    posters = asyncio.run(_posters(args))
    if not posters:
        say("matchmaker: no exhibits to print: import them first (import-exhibits)")
        return 1
    if suffix == ".zip":
        data = posters_zip(posters, page_format=args.size)
    else:
        data = posters_pdf(posters, page_format=args.size)
    args.out.write_bytes(data)
    say(f"{len(posters)} poster(s) written to {args.out}")
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
    posters = commands.add_parser(
        "export-posters",
        parents=[database_options()],
        help="print a booth poster per exhibit: titles, booth, organization, QR (PDF or ZIP)",
        description="A .pdf has a page per exhibit; a .zip holds one PDF per exhibit, named "
        "after its key. The fonts (Chinese, Korean, Arabic, Cyrillic) come with the package.",
    )
    posters.add_argument("--out", type=Path, required=True, metavar="FILE.pdf|FILE.zip")
    posters.add_argument("--size", choices=tuple(SIZES), default="A4", help="page size")
    posters.set_defaults(handler=_export_posters)
