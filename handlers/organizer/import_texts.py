"""What the chat imports (delegates, exhibits) tell the organizer alike: numbers and progress."""

from __future__ import annotations

from babel.numbers import format_decimal

from bot.i18n import Translator

REPORT_LIMIT = 3500  # characters of report shown in a message; longer ones go as a file


def number(tr: Translator, n: int) -> str:
    """A count in the organizer's locale (1,234 / 1 234)."""
    return format_decimal(n, locale=tr.babel_locale)


def progress_text(tr: Translator, name: str, done: int, total: int) -> str:
    """The progress message of an import of a file sent in chat."""
    return tr.ngettext(
        "Importing {file}: {done} of {total} row written…",
        "Importing {file}: {done} of {total} rows written…",
        total,
        file=name,
        done=number(tr, done),
        total=number(tr, total),
    )
