"""The exhibits file (README, "Exhibits"): rows of a CSV or of a sheet's cells into exhibits.

Pure: a CSV's bytes, or a table of cells already read from an XLSX sheet, in; exhibits, row
errors and notes out. A problem with the file as a whole (encoding, header, missing columns)
imports nothing; a problem with a row skips that row only and says why, with the row's number
as a spreadsheet shows it (the header is row 1). Also here: which title a reader sees.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.domain.importing import CELL_MAX, ID_MAX, RowError, _clean, _column_key, _decode
from bot.domain.languages import INTERFACE_LANGUAGES
from bot.domain.matching import KINDS

REQUIRED_COLUMNS = ("key", "organization")
TEXT_COLUMNS = tuple(
    f"{kind}_{lang}" for kind in ("title", "description") for lang in INTERFACE_LANGUAGES
)
OPTIONAL_COLUMNS = (
    "owner_external_id",
    "booth",
    "hall",
    *TEXT_COLUMNS,
    "trl",
    "ip_status",
    "deal_kinds",
    "roadshow",
    "image_url",
)
IP_STATUSES = ("granted", "pending", "none")
TITLE_MAX = 200
DESCRIPTION_MAX = 2000
URL_MAX = 500


@dataclass(frozen=True)
class ExhibitData:
    """One exhibit as the file describes it."""

    key: str
    organization: str
    titles: Mapping[str, str]  # language -> title, in the file's column order
    descriptions: Mapping[str, str] = field(default_factory=dict)
    owner_external_id: str | None = None
    booth: str | None = None
    hall: str | None = None
    trl: int | None = None
    ip_status: str | None = None
    deal_kinds: tuple[str, ...] = ()
    roadshow: str | None = None
    image_url: str | None = None

    @property
    def original_language(self) -> str:
        """The language of the first title the file gives."""
        return next(iter(self.titles))

    def texts(self) -> dict[str, str]:
        """Per language: the title and description as one text, what search compares."""
        langs = list(dict.fromkeys([*self.titles, *self.descriptions]))
        out: dict[str, str] = {}
        for lang in langs:
            parts = [self.titles.get(lang, ""), self.descriptions.get(lang, "")]
            text = ". ".join(p for p in parts if p)
            if text:
                out[lang] = text
        return out


@dataclass(frozen=True)
class ExhibitParse:
    """Outcome of reading an exhibits file."""

    exhibits: tuple[tuple[int, ExhibitData], ...] = ()  # (line, exhibit)
    errors: tuple[RowError, ...] = ()
    file_error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the file as a whole was readable (rows may still have errors)."""
        return self.file_error is None


def pick(texts: Mapping[str, str], language: str) -> tuple[str, str] | None:
    """(language, text) in the reader's language where present, else the first (original)."""
    if texts.get(language):
        return language, texts[language]
    for lang, text in texts.items():
        if text:
            return lang, text
    return None


def _row(line: int, cells: Mapping[str, str], seen: dict[str, int]) -> ExhibitData | RowError:
    def text(column: str, limit: int = ID_MAX) -> str | RowError:
        value = _clean(cells.get(column, ""))
        if len(value) > limit:
            return RowError(line, f"{column} is longer than {limit} characters", column)
        return value

    values: dict[str, str] = {}
    limits = {"organization": TITLE_MAX, "image_url": URL_MAX, "deal_kinds": TITLE_MAX}
    for column in REQUIRED_COLUMNS + OPTIONAL_COLUMNS:
        limit = limits.get(column, ID_MAX)
        if column.startswith("title_"):
            limit = TITLE_MAX
        elif column.startswith("description_"):
            limit = DESCRIPTION_MAX
        got = text(column, limit)
        if isinstance(got, RowError):
            return got
        values[column] = got
    for column in REQUIRED_COLUMNS:
        if not values[column]:
            return RowError(line, f"{column} is required", column)
    key = values["key"]
    if key in seen:
        return RowError(line, f"key {key} already appears in row {seen[key]}", "key")
    titles = {lang: values[f"title_{lang}"] for lang in cells.get("__title_order__", "").split()}
    titles = {lang: t for lang, t in titles.items() if t}
    if not titles:
        return RowError(line, "at least one title_<lang> is required", "title_en")
    descriptions = {
        lang: values[f"description_{lang}"]
        for lang in INTERFACE_LANGUAGES
        if values[f"description_{lang}"]
    }
    trl: int | None = None
    if values["trl"]:
        if not values["trl"].isdigit() or not 1 <= int(values["trl"]) <= 9:
            return RowError(line, "trl must be a whole number from 1 to 9", "trl")
        trl = int(values["trl"])
    ip = values["ip_status"].lower() or None
    if ip is not None and ip not in IP_STATUSES:
        return RowError(line, f"ip_status must be one of {', '.join(IP_STATUSES)}", "ip_status")
    kinds = tuple(dict.fromkeys(values["deal_kinds"].lower().replace(",", " ").split()))
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        return RowError(
            line,
            f"unknown deal kind {unknown[0]} (one of {', '.join(KINDS)})",
            "deal_kinds",
        )
    url = values["image_url"] or None
    if url is not None and not url.startswith(("https://", "http://")):
        return RowError(line, "image_url must start with https://", "image_url")
    return ExhibitData(
        key=key,
        organization=values["organization"],
        titles=titles,
        descriptions=descriptions,
        owner_external_id=values["owner_external_id"] or None,
        booth=values["booth"] or None,
        hall=values["hall"] or None,
        trl=trl,
        ip_status=ip,
        deal_kinds=kinds,
        roadshow=values["roadshow"] or None,
        image_url=url,
    )


def parse_table(header: Sequence[str], rows: Iterable[tuple[int, Sequence[str]]]) -> ExhibitParse:
    """Validate a header and numbered rows of cells (from a CSV or a sheet)."""
    columns = [_column_key(h) for h in header]
    duplicated = sorted({c for c in columns if c and columns.count(c) > 1})
    if duplicated:
        return ExhibitParse(file_error=f"Columns appear twice: {', '.join(duplicated)}.")
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        return ExhibitParse(
            file_error=f"Required columns are missing: {', '.join(missing)}. "
            "The first row must name the columns."
        )
    if not any(c.startswith("title_") and c in TEXT_COLUMNS for c in columns):
        return ExhibitParse(
            file_error="No title column: name at least one title_<lang> "
            f"({', '.join('title_' + lang for lang in INTERFACE_LANGUAGES)})."
        )
    known = {i: c for i, c in enumerate(columns) if c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}
    order = " ".join(c.removeprefix("title_") for c in columns if c.startswith("title_"))
    exhibits: list[tuple[int, ExhibitData]] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for line, cells in rows:
        if not any(str(c).strip() for c in cells):
            continue
        long_cells = [columns[i] for i, c in enumerate(cells[: len(columns)]) if len(c) > CELL_MAX]
        if long_cells:
            errors.append(RowError(line, "a cell is too long", long_cells[0] or None))
            continue
        named = {c: cells[i] for i, c in known.items() if i < len(cells)}
        named["__title_order__"] = order
        got = _row(line, named, seen)
        if isinstance(got, RowError):
            errors.append(got)
            continue
        seen[got.key] = line
        exhibits.append((line, got))
    return ExhibitParse(tuple(exhibits), tuple(errors))


def parse_csv(data: bytes) -> ExhibitParse:
    """Read an exhibits CSV (UTF-8 with or without BOM, a header row, columns in any order)."""
    decoded = _decode(data)
    if not isinstance(decoded, str):
        return ExhibitParse(file_error=decoded.file_error)
    if not decoded.strip():
        return ExhibitParse(file_error="The file is empty.")
    if "\x00" in decoded:
        return ExhibitParse(file_error="The file contains NUL bytes; it is not a CSV text file.")
    reader = csv.reader(io.StringIO(decoded, newline=""))
    try:
        header = next(reader)
        rows = [(line, cells) for line, cells in enumerate(reader, start=2)]
    except csv.Error as exc:
        return ExhibitParse(file_error=f"The file cannot be read as CSV ({exc}).")
    if len(header) == 1 and ";" in header[0]:
        return ExhibitParse(file_error="Columns are separated by semicolons; use commas.")
    return parse_table(header, rows)


def cell_text(value: object) -> str:
    """A spreadsheet cell as text (whole numbers without ".0", empty cells empty)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def is_exhibits_header(data: bytes) -> bool:
    """Whether a CSV header names an exhibits file (key and a title_<lang>), not delegates."""
    first = data[:4096].decode("utf-8-sig", errors="replace").splitlines()[:1]
    try:
        header = next(csv.reader(first)) if first else []
    except csv.Error:
        return False
    columns = {_column_key(c) for c in header}
    return "key" in columns and any(c.startswith("title_") for c in columns)
