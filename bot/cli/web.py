"""The web subcommands of `matchmaker`: board-link."""

from __future__ import annotations

import argparse
import asyncio
import sys
from urllib.parse import quote

from bot.cli.common import Commands, database_options, settings_of
from bot.config import Settings
from bot.services import open_services


async def _board_secret(settings: Settings, *, new: bool) -> str:
    async with open_services(settings) as services:
        return await services.web.board_secret(new=new)


def board_urls(settings: Settings, secret: str, *, tables: bool) -> list[str]:
    """The board's URL, and with `tables` one `NAME URL` line per table."""
    base = f"{settings.web_base_url}/board/{secret}"
    lines = [base]
    if tables:
        lines += [f"{name} {base}/table/{quote(name)}" for name in settings.schedule.tables]
    return lines


def _board_link(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    secret = asyncio.run(_board_secret(settings, new=args.new))
    sys.stdout.write("\n".join(board_urls(settings, secret, tables=args.tables)) + "\n")
    return 0


def add_commands(commands: Commands) -> None:
    """Add `board-link`."""
    link = commands.add_parser(
        "board-link",
        parents=[database_options()],
        help="print the venue board's secret URL (anyone without it gets 404)",
    )
    link.add_argument(
        "--new", action="store_true", help="replace the secret: the old URL stops working"
    )
    link.add_argument("--tables", action="store_true", help="also print each table's URL")
    link.set_defaults(handler=_board_link)
