"""Parse the organizers' delegate CSV (see the import format) into validated records.

Pure: bytes in, records and errors out. A problem with the file as a whole (encoding, header,
missing columns) imports nothing; a problem with a row skips that row only and says why, with
the row's number as a spreadsheet shows it (the header is row 1).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from bot.domain.countries import country_codes
from bot.domain.languages import INTERFACE_LANGUAGES
from bot.domain.models import ContactKind, Role
from bot.domain.registration import (
    InvalidAnswer,
    clean_text,
    validate_contact,
    validate_name,
    validate_organization,
)

REQUIRED_COLUMNS = ("external_id", "name", "organization", "country", "language", "role")
OPTIONAL_COLUMNS = (
    "offer",
    "need",
    "meeting_languages",
    "email",
    "phone",
    "telegram_username",
    "host_external_id",
    "consent",
)
ID_MAX = 64
TEXT_MAX = 1000  # offer and need: the items table holds at most this much
CELL_MAX = 10_000  # any cell; longer means a broken file, not a long description

_BCP47 = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
_YES = {"yes", "y"}
_NO = {"no", "n", ""}


@dataclass(frozen=True)
class ImportedDelegate:
    """One valid row of the import file."""

    line: int
    external_id: str
    name: str
    organization: str
    country: str  # ISO 3166-1 alpha-2, upper case
    language: str  # primary subtag: en, zh, ru, ko or ar
    language_tag: str  # as given, normalised in case (zh-CN)
    role: Role
    offer: str
    need: str
    meeting_languages: tuple[str, ...]  # primary subtags; the delegate's language when absent
    email: str | None
    phone: str | None
    telegram_username: str | None  # without the @
    host_external_id: str | None
    consent: bool


@dataclass(frozen=True)
class RowError:
    """Why one row was not imported."""

    line: int
    reason: str
    column: str | None = None


@dataclass(frozen=True)
class ImportResult:
    """Outcome of parsing a file: delegates to import and problems to report."""

    delegates: tuple[ImportedDelegate, ...] = ()
    errors: tuple[RowError, ...] = ()
    file_error: str | None = None

    @property
    def ok(self) -> bool:
        """Tell whether the file as a whole was readable (rows may still have errors)."""
        return self.file_error is None


def _file_error(reason: str) -> ImportResult:
    return ImportResult(file_error=reason)


def _decode(data: bytes) -> str | ImportResult:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _file_error("The file is UTF-16; save it as UTF-8 (CSV UTF-8) and try again.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _file_error(
            f"The file is not UTF-8 text (undecodable byte at position {exc.start}); "
            "save it as UTF-8 (CSV UTF-8) and try again."
        )


def _column_key(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").split())


def _tag(value: str) -> str | None:
    """Return a BCP 47 tag with conventional case (zh-cn -> zh-CN), or None if malformed."""
    if not _BCP47.match(value):
        return None
    parts = value.split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 2 and part.isalpha():
            out.append(part.upper())
        elif len(part) == 4 and part.isalpha():
            out.append(part.title())
        else:
            out.append(part.lower())
    return "-".join(out)


_BREAKS = re.compile(r"[\r\n\t\v\f\u2028\u2029]+")


def _clean(value: str) -> str:
    # Line breaks inside a cell separate words; clean_text would glue them together.
    return clean_text(_BREAKS.sub(" ", value))


class _Row:
    """Validation of one row, collecting every problem rather than stopping at the first."""

    def __init__(self, line: int, cells: dict[str, str]) -> None:
        self.line = line
        self.cells = cells
        self.errors: list[RowError] = []

    def fail(self, column: str | None, reason: str) -> None:
        self.errors.append(RowError(self.line, reason, column))

    def text(self, column: str, *, required: bool = False, limit: int = ID_MAX) -> str:
        value = _clean(self.cells.get(column, ""))
        if required and not value:
            self.fail(column, f"{column} is required")
        elif len(value) > limit:
            self.fail(column, f"{column} is longer than {limit} characters")
            return ""
        return value


def _validate(row: _Row, seen_ids: dict[str, int]) -> ImportedDelegate | None:
    external_id = row.text("external_id", required=True)
    if external_id and external_id in seen_ids:
        row.fail(
            "external_id", f"duplicate external_id (first used on row {seen_ids[external_id]})"
        )

    name = organization = ""
    raw_name = row.cells.get("name", "")
    try:
        name = validate_name(_clean(raw_name))
    except InvalidAnswer as exc:
        row.fail("name", _problem("name", exc))
    try:
        organization = validate_organization(_clean(row.cells.get("organization", "")))
    except InvalidAnswer as exc:
        row.fail("organization", _problem("organization", exc))

    country = row.text("country", required=True).upper()
    if country and country not in country_codes():
        row.fail("country", f"unknown country code {country!r} (expected ISO 3166-1 alpha-2)")

    language_tag = row.text("language", required=True)
    language = ""
    if language_tag:
        tag = _tag(language_tag)
        language = tag.split("-")[0] if tag else ""
        if tag is None:
            row.fail("language", f"malformed language tag {language_tag!r}")
        elif language not in INTERFACE_LANGUAGES:
            row.fail(
                "language", f"unsupported language {language_tag!r} (use en, zh, ru, ko or ar)"
            )
        else:
            language_tag = tag

    role_text = row.text("role", required=True).lower()
    role: Role | None = None
    if role_text:
        try:
            role = Role(role_text)
        except ValueError:
            allowed = ", ".join(r.value for r in Role)
            row.fail("role", f"unknown role {role_text!r} (use {allowed})")

    offer = row.text("offer", limit=TEXT_MAX)
    need = row.text("need", limit=TEXT_MAX)

    meeting: list[str] = []
    for raw in re.split(r"[\s,;]+", row.text("meeting_languages", limit=200)):
        if not raw:
            continue
        tag = _tag(raw)
        if tag is None:
            row.fail("meeting_languages", f"malformed language tag {raw!r}")
        elif tag.split("-")[0] not in meeting:
            meeting.append(tag.split("-")[0])
    if not meeting and language:
        meeting = [language]

    email = _contact(row, "email", ContactKind.EMAIL)
    phone = _contact(row, "phone", ContactKind.PHONE)

    username = row.text("telegram_username").lstrip("@") or None
    if username is not None and not _USERNAME.match(username):
        row.fail("telegram_username", f"malformed Telegram username {username!r}")

    host = row.text("host_external_id") or None
    if host is not None and host == external_id:
        row.fail("host_external_id", "host_external_id names the delegate themself")

    consent_text = row.text("consent").lower()
    if consent_text not in _YES | _NO:
        row.fail("consent", f"consent must be yes or no, not {consent_text!r}")

    if row.errors or role is None:
        return None
    return ImportedDelegate(
        line=row.line,
        external_id=external_id,
        name=name,
        organization=organization,
        country=country,
        language=language,
        language_tag=language_tag,
        role=role,
        offer=offer,
        need=need,
        meeting_languages=tuple(meeting),
        email=email,
        phone=phone,
        telegram_username=username,
        host_external_id=host,
        consent=consent_text in _YES,
    )


def _problem(column: str, exc: InvalidAnswer) -> str:
    if exc.limit:
        return f"{column} is longer than {exc.limit} characters"
    if exc.problem.value == "empty":
        return f"{column} is required"
    return f"{column} is not valid ({exc.problem.value.replace('_', ' ')})"


def _contact(row: _Row, column: str, kind: ContactKind) -> str | None:
    value = row.text(column, limit=200)
    if not value:
        return None
    try:
        contact = validate_contact(value)
    except InvalidAnswer:
        contact = None
    if contact is None or contact.kind != kind:
        row.fail(column, f"malformed {'e-mail address' if column == 'email' else 'phone number'}")
        return None
    return contact.value


def parse_delegate_csv(data: bytes) -> ImportResult:
    """Parse and validate an organizer's delegate file (UTF-8 CSV with a header row)."""
    decoded = _decode(data)
    if isinstance(decoded, ImportResult):
        return decoded
    if not decoded.strip():
        return _file_error("The file is empty.")
    if "\x00" in decoded:
        return _file_error("The file contains NUL bytes; it is not a CSV text file.")

    reader = csv.reader(io.StringIO(decoded, newline=""))
    try:
        header = next(reader)
    except (csv.Error, StopIteration) as exc:
        return _file_error(f"The header row cannot be read ({exc}).")
    columns = [_column_key(h) for h in header]
    if len(columns) == 1 and ";" in header[0]:
        return _file_error("Columns are separated by semicolons; use commas (CSV UTF-8).")
    duplicated = sorted({c for c in columns if c and columns.count(c) > 1})
    if duplicated:
        return _file_error(f"Columns appear twice: {', '.join(duplicated)}.")
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        return _file_error(
            f"Required columns are missing: {', '.join(missing)}. "
            "The first row must name the columns."
        )
    known = {i: c for i, c in enumerate(columns) if c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}

    delegates: list[ImportedDelegate] = []
    errors: list[RowError] = []
    seen_ids: dict[str, int] = {}
    line = 1
    while True:
        line += 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # The csv module stops at 128 KiB per cell; the reader resumes on the next line.
            reason = "a cell is too long" if "field larger" in str(exc) else f"unreadable ({exc})"
            errors.append(RowError(line, reason))
            continue
        if not any(c.strip() for c in cells):
            continue  # blank lines are common at the end of exported sheets
        if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
            errors.append(
                RowError(line, "more cells than columns (quote texts that contain commas)")
            )
            continue
        long_cells = [columns[i] for i, c in enumerate(cells[: len(columns)]) if len(c) > CELL_MAX]
        if long_cells:
            errors.append(RowError(line, "a cell is too long", long_cells[0] or None))
            continue
        row = _Row(line, {c: cells[i] for i, c in known.items() if i < len(cells)})
        delegate = _validate(row, seen_ids)
        errors.extend(row.errors)
        ext = _clean(row.cells.get("external_id", ""))
        if ext and ext not in seen_ids:
            seen_ids[ext] = line
        if delegate is not None:
            delegates.append(delegate)
    return ImportResult(tuple(delegates), tuple(errors))
