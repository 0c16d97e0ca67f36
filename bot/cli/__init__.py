"""The command line: `main` builds the parser from the command groups (see bot/cli/main.py)."""

from __future__ import annotations

from bot.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
