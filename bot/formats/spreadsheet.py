"""Cells that a spreadsheet program shows as text and never runs: every CSV and XLSX export.

Delegates type their own names, organizations and contacts, and an import copies whatever the
organizers' file says. A cell that begins with `=`, `+`, `-` or `@` (or a tab or carriage
return in front of one) is a formula to Excel, LibreOffice and Google Sheets:
`=HYPERLINK("http://x","y")` becomes a live link, `+cmd|' /C calc'!A0` a DDE call. Following
OWASP's CSV-injection guidance such a cell is prefixed with `'`, and XLSX cells are written as
strings, never as formulas. Only the files change: the chat shows names as they are spelled.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Return a text cell a spreadsheet cannot read as a formula; numbers and None pass."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    """Return a row with every text cell neutralised."""
    return [neutralise(cell) for cell in row]


def csv_text(
    header: Sequence[str] | None, rows: Iterable[Iterable[Any]], *, lineterminator: str = "\n"
) -> str:
    """Return CSV text with every text cell neutralised (None becomes an empty cell)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=lineterminator)
    if header is not None:
        writer.writerow(safe_row(header))
    writer.writerows(safe_row("" if c is None else c for c in row) for row in rows)
    return buffer.getvalue()


def append_row(sheet: Any, row: Iterable[Any]) -> None:
    """Append a row to an openpyxl sheet with text cells stored as strings, never formulas."""
    values = safe_row(row)
    sheet.append(values)
    # openpyxl reads a str beginning with "=" as a formula; neutralising removes that start,
    # and the data type says it outright so no later reader guesses.
    for cell, value in zip(sheet[sheet.max_row], values, strict=False):
        if isinstance(value, str):
            cell.data_type = "s"
