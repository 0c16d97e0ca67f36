"""The meetings subcommands of `matchmaker`: schedule, export-schedule, export-badges."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bot.cli.common import Commands, database_options, say, settings_of
from bot.config import Settings
from bot.services import open_services


def _schedule(args: argparse.Namespace) -> int:
    from bot.formats.schedules import schedule_summary

    settings = settings_of(args)
    sys.stdout.write(schedule_summary(settings.schedule, settings.event_name))
    return 0


def _missing(settings: Settings) -> bool:
    if settings.database.exists():
        return False
    say(f"matchmaker: database {settings.database} does not exist")
    return True


async def _schedule_rows(settings: Settings) -> list[Any]:
    from bot.formats.schedules import schedule_rows

    async with open_services(settings) as services:
        repo = services.meetings.repo
        # Published proposals hold their table too: they are listed, marked "proposed".
        meetings = await repo.scheduled()
        parties: dict[int, Any] = dict(await repo.parties_of(meetings))
        guests = await services.talk.guests([m.id for m in meetings])
        for guest in guests:
            if guest.guest_id not in parties:
                parties[guest.guest_id] = await repo.party(guest.guest_id)
    return schedule_rows(meetings, parties, settings.schedule, guests)


def _export_schedule(args: argparse.Namespace) -> int:
    from bot.formats.schedules import to_csv, to_xlsx

    settings = settings_of(args)
    if _missing(settings):
        return 1
    rows = asyncio.run(_schedule_rows(settings))
    if args.format == "xlsx":
        if args.out is None:
            say("matchmaker: --format xlsx needs --out FILE.xlsx")
            return 2
        args.out.write_bytes(to_xlsx(rows))
    else:
        text = to_csv(rows)
        if args.out is None:
            sys.stdout.flush()
            sys.stdout.buffer.write(text.encode("utf-8"))
            sys.stdout.buffer.flush()
        else:
            # A byte-order mark lets spreadsheet programs read the UTF-8 names correctly.
            args.out.write_text("\ufeff" + text, encoding="utf-8")
    say(f"{sum(1 for r in rows if r.view == 'table')} meeting(s) exported")
    return 0


async def _badges(settings: Settings, bot_username: str) -> list[Any]:
    from bot.domain.links import start_link
    from bot.formats.badges import Badge

    async with open_services(settings) as services:
        service = services.meetings
        badges = []
        for party in await service.repo.all_parties():
            token = await service.booking_token(party.id)
            badges.append(
                Badge(
                    party.id,
                    party.name or "",
                    party.organization or "",
                    start_link(bot_username, token),
                )
            )
    return badges


def _export_badges(args: argparse.Namespace) -> int:
    from bot.cli.organizers import resolve_bot_username
    from bot.formats.badges import badges_pdf, badges_zip

    settings = settings_of(args)
    if _missing(settings):
        return 1
    suffix = args.out.suffix.lower()
    if suffix not in {".pdf", ".zip"}:
        say("matchmaker: --out must end in .pdf or .zip")
        return 2
    username = asyncio.run(resolve_bot_username(settings))
    badges = asyncio.run(_badges(settings, username))
    data = badges_zip(badges) if suffix == ".zip" else badges_pdf(badges, font=args.font)
    args.out.write_bytes(data)
    say(f"{len(badges)} badge(s) written to {args.out}")
    return 0


def add_commands(commands: Commands) -> None:
    """Add the meetings subcommands to the `matchmaker` parser."""
    schedule = commands.add_parser(
        "schedule",
        parents=[database_options()],
        help="show the meeting schedule (days, sessions, slots, tables)",
    )
    schedule.set_defaults(handler=_schedule)

    export = commands.add_parser(
        "export-schedule",
        parents=[database_options()],
        help="print every booked meeting per table and per delegate (CSV or XLSX)",
    )
    export.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    export.add_argument("--out", type=Path, help="output file (CSV default: standard output)")
    export.set_defaults(handler=_export_schedule)

    badges = commands.add_parser(
        "export-badges",
        parents=[database_options()],
        help="every delegate's name, organization and booking QR code (PDF, or ZIP of PNGs)",
        description="A .pdf sets every name with the fonts installed with the package (Chinese, "
        "Korean, Arabic, Cyrillic); a .zip holds one PNG per delegate and manifest.csv.",
    )
    badges.add_argument("--out", type=Path, required=True, metavar="FILE.pdf|FILE.zip")
    badges.add_argument(
        "--font", type=Path, help="another TTF for the names (the bundled fonts fill its gaps)"
    )
    badges.set_defaults(handler=_export_badges)
