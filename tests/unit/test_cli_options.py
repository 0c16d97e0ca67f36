"""Every subcommand takes --config and --db, before or after its name, the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import build_parser

DATABASE_COMMANDS = (
    ["run"],
    ["sandbox"],
    ["import-delegates", "people.csv"],
    ["matches"],
    ["invite-organizer"],
    ["stats"],
    ["export", "--what", "delegates"],
    ["schedule"],
    ["export-schedule"],
    ["export-badges", "--out", "badges.zip"],
    ["load-programme", "programme.toml"],
    ["import-wishes", "wishes.csv"],
    ["auto-schedule"],
    ["retry-dead"],
    ["board-link"],
    ["import-exhibits", "exhibits.csv"],
    ["search-exhibits", "membranes"],
    ["export-posters", "--out", "posters.pdf"],
)


@pytest.mark.parametrize("command", DATABASE_COMMANDS, ids=lambda c: c[0])
def test_config_and_db_after_the_subcommand(command: list[str]) -> None:
    args = build_parser().parse_args([*command, "--config", "event.toml", "--db", "e.db"])
    assert args.config == Path("event.toml")
    assert args.db == Path("e.db")


@pytest.mark.parametrize("command", DATABASE_COMMANDS, ids=lambda c: c[0])
def test_config_before_the_subcommand_is_kept(command: list[str]) -> None:
    args = build_parser().parse_args(["--config", "event.toml", *command])
    assert args.config == Path("event.toml")
    assert args.db is None
