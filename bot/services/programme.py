"""The event programme: reading the organizers' TOML or CSV file, and session reminders.

A file lists roadshows, forums and sessions, each with a key of its own (a reload updates by
it), a kind, start and end in the event's local time, a room, speakers and a title per language.

TOML::

    [[sessions]]
    key = "opening"
    kind = "forum"                      # roadshow, forum, session (default) or other
    starts = 2026-11-24T09:00:00        # local time in the event's zone (or a quoted ISO text)
    ends = 2026-11-24T10:00:00
    room = "Hall A"
    speakers = ["Anna Petrova", "Li Wei"]
    title = { en = "Opening forum", ru = "Открытие форума" }

CSV (UTF-8, header row): key,kind,starts,ends,room,speakers,title_en,title_ru,... with the
speakers separated by ";".
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.clock import Clock
from bot.domain.outbox import Priority, TemplateRef
from storage.db import Database
from storage.outbox import OutboxRepository
from storage.programme import KINDS, ProgrammeRepository, SessionData

# The records handlers show (handlers reach storage only through services).
from storage.programme import ProgrammeSession as ProgrammeSession

log = logging.getLogger(__name__)

T_REMINDER = "programme.reminder"
REMIND_BEFORE = dt.timedelta(minutes=10)
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}$")
TITLE_LIMIT = 200
ROOM_LIMIT = 100
SPEAKERS_LIMIT = 300
_TOML_SESSION = re.compile(r"^\s*\[\[\s*sessions\s*\]\]")


class ProgrammeFileError(Exception):
    """The file cannot be read at all (not UTF-8, not TOML, no header, unknown format)."""


@dataclass(frozen=True)
class RowError:
    """A session the file describes badly; it is skipped."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class ParsedProgramme:
    """The sessions read from a file, and the rows that were skipped."""

    sessions: list[SessionData] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class _Bad(Exception):
    pass


def _text(raw: Mapping[str, Any], name: str, *, required: bool, limit: int = 0) -> str | None:
    value = raw.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _Bad(f"{name} is missing")
        return None
    if not isinstance(value, str):
        raise _Bad(f"{name} must be text")
    text = " ".join(value.split())
    if limit and len(text) > limit:
        raise _Bad(f"{name} is longer than {limit} characters")
    return text


def _moment(raw: Mapping[str, Any], name: str, zone: ZoneInfo) -> dt.datetime:
    value = raw.get(name)
    if isinstance(value, str) and value.strip():
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise _Bad(
                f"{name} {value!r} is not a date and time such as 2026-11-24T09:30"
            ) from None
    if value is None or value == "":
        raise _Bad(f"{name} is missing")
    if not isinstance(value, dt.datetime):
        raise _Bad(f"{name} must be a date and time such as 2026-11-24T09:30")
    if value.tzinfo is not None:
        return value.astimezone(dt.UTC)
    local = value.replace(tzinfo=zone)
    # A wall time skipped by a daylight-saving change does not survive the round trip.
    if local.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) != value:
        raise _Bad(f"{name} {value.isoformat()} does not exist in {zone.key}")
    return local.astimezone(dt.UTC)


def _speakers(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        names = value.split(";")
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        names = value
    else:
        raise _Bad("speakers must be text (names separated by ;) or a list of names")
    found = tuple(" ".join(n.split()) for n in names if n.strip())
    if len("; ".join(found)) > SPEAKERS_LIMIT:
        raise _Bad(f"speakers are longer than {SPEAKERS_LIMIT} characters")
    return found


def _titles(raw: Mapping[str, Any]) -> dict[str, str]:
    given: dict[str, object] = {}
    table = raw.get("title")
    if isinstance(table, Mapping):
        given.update(table)
    elif table is not None:
        raise _Bad('title must be a table of languages, such as title = { en = "..." }')
    for name, value in raw.items():
        if name.startswith("title_"):
            given[name.removeprefix("title_")] = value
    titles: dict[str, str] = {}
    for language, value in given.items():
        code = str(language).strip().lower()
        if not LANGUAGE_PATTERN.match(code):
            raise _Bad(f"{language!r} is not a language code such as en or ru")
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if not isinstance(value, str):
            raise _Bad(f"the {code} title must be text")
        title = " ".join(value.split())
        if len(title) > TITLE_LIMIT:
            raise _Bad(f"the {code} title is longer than {TITLE_LIMIT} characters")
        titles[code] = title
    if not titles:
        raise _Bad("a title in at least one language is needed (title_en, title_ru, ...)")
    return titles


def parse_session(raw: Mapping[str, Any], zone: ZoneInfo) -> SessionData:
    """One session from a row or table; raise ValueError with the problem."""
    try:
        key = _text(raw, "key", required=True) or ""
        if not KEY_PATTERN.match(key):
            raise _Bad(f"key {key!r} may only hold letters, digits, '.', '_' and '-' (max 64)")
        kind = (_text(raw, "kind", required=False) or "session").lower()
        if kind not in KINDS:
            raise _Bad(f"kind {kind!r} is not one of {', '.join(KINDS)}")
        starts = _moment(raw, "starts", zone)
        ends = _moment(raw, "ends", zone)
        if ends <= starts:
            raise _Bad("ends must be after starts")
        return SessionData(
            key=key,
            kind=kind,
            starts_at=starts,
            ends_at=ends,
            room=_text(raw, "room", required=False, limit=ROOM_LIMIT),
            speakers=_speakers(raw.get("speakers")),
            titles=_titles(raw),
        )
    except _Bad as problem:
        raise ValueError(str(problem)) from None


def _collect(rows: list[tuple[int, Mapping[str, Any]]], zone: ZoneInfo) -> ParsedProgramme:
    parsed = ParsedProgramme()
    lines: dict[str, int] = {}
    for line, raw in rows:
        try:
            session = parse_session(raw, zone)
        except ValueError as problem:
            parsed.errors.append(RowError(line, str(problem)))
            continue
        if session.key in lines:
            parsed.errors.append(
                RowError(line, f"key {session.key!r} is already used on line {lines[session.key]}")
            )
            continue
        lines[session.key] = line
        parsed.sessions.append(session)
    return parsed


def parse_toml(text: str, zone: ZoneInfo) -> ParsedProgramme:
    """Read [[sessions]] tables; a row's line is the line of its [[sessions]] header."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ProgrammeFileError(f"not valid TOML: {error}") from None
    sessions = data.get("sessions")
    if not isinstance(sessions, list):
        raise ProgrammeFileError("no [[sessions]] tables found")
    headers = [n for n, line in enumerate(text.splitlines(), 1) if _TOML_SESSION.match(line)]
    rows: list[tuple[int, Mapping[str, Any]]] = []
    for index, table in enumerate(sessions):
        line = headers[index] if index < len(headers) else 0
        rows.append((line, table if isinstance(table, Mapping) else {}))
    return _collect(rows, zone)


def parse_csv(text: str, zone: ZoneInfo) -> ParsedProgramme:
    """Read a CSV file with a header row; a row's line is where it starts in the file."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    if not header:
        raise ProgrammeFileError("the file is empty (a header row is needed)")
    missing = [name for name in ("key", "starts", "ends") if name not in header]
    if missing or not any(name.startswith("title_") for name in header):
        needed = [*missing, *([] if any(h.startswith("title_") for h in header) else ["title_en"])]
        raise ProgrammeFileError(f"the header lacks {', '.join(needed)}")
    reader.fieldnames = header
    rows: list[tuple[int, Mapping[str, Any]]] = []
    start = reader.line_num + 1
    for row in reader:
        if any((value or "").strip() for key, value in row.items() if key is not None):
            rows.append((start, {k: v for k, v in row.items() if k is not None}))
        start = reader.line_num + 1
    return _collect(rows, zone)


def parse_file(path: Path, zone: ZoneInfo) -> ParsedProgramme:
    """Read a .toml or .csv programme file."""
    suffix = path.suffix.lower()
    if suffix not in {".toml", ".csv"}:
        raise ProgrammeFileError(f"{path.name}: the file must end in .toml or .csv")
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise ProgrammeFileError(f"cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ProgrammeFileError(f"{path.name} is not UTF-8 text") from None
    return parse_toml(text, zone) if suffix == ".toml" else parse_csv(text, zone)


def title_for(titles: Mapping[str, str], locale: str, default_language: str) -> str:
    """The title in the reader's language, else the event's default, else English, else any."""
    for language in (locale, default_language, "en"):
        if titles.get(language):
            return titles[language]
    return next((titles[k] for k in sorted(titles) if titles[k]), "")


class ProgrammeService:
    """The programme and its reminders."""

    def __init__(self, db: Database, clock: Clock, outbox: OutboxRepository) -> None:
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.repo = ProgrammeRepository(db, clock)

    async def remind_due(self, now: dt.datetime) -> int:
        """Owe a reminder to everyone who asked, once a session starts within REMIND_BEFORE.

        The dedupe key per delegate and session makes this idempotent: every tick, twice, after
        a restart. A session that already started is not announced late.
        """
        owed = 0
        for session in await self.repo.starting_between(now, now + REMIND_BEFORE):
            # Subscribers are read in the transaction that owes them the reminder: a /delete_me
            # committing in between would otherwise get a message queued to its old chat.
            async with self.db.transaction():
                for person in await self.repo.subscribers(session.id):
                    item = await self.outbox.enqueue(
                        person.chat_id,
                        TemplateRef(T_REMINDER, {"session": session.id, "as": person.delegate_id}),
                        priority=Priority.REMINDER,
                        dedupe_key=f"programme:{session.id}:remind:{person.delegate_id}",
                        delegate_id=person.delegate_id,
                        # Retried while Telegram fails, but not once the session has begun.
                        expires_at=session.data.starts_at,
                    )
                    owed += 0 if item is None else 1
        if owed:
            log.info("%d programme reminder(s) owed", owed)
        return owed
