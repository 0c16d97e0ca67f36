"""Reading the programme file (TOML and CSV), storing it by key, and choosing a title."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.domain.clock import ManualClock
from bot.services.programme import ProgrammeFileError, parse_csv, parse_file, parse_toml, title_for
from storage.db import Database
from storage.programme import ProgrammeRepository

ZONE = ZoneInfo("Asia/Shanghai")

TOML = """\
# The programme of the event.
[[sessions]]
key = "opening"
kind = "forum"
starts = 2026-11-24T09:00:00
ends = 2026-11-24T10:00:00
room = "Hall A"
speakers = ["Anna Petrova", "Li Wei"]

[sessions.title]
en = "Opening forum"
ru = "Открытие форума"

[[sessions]]
key = "bad"
starts = "2026-11-24T11:00"
ends = "2026-11-24T10:00"
title = { en = "Backwards" }

[[sessions]]
key = "pitch"
kind = "roadshow"
starts = "2026-11-25 14:00"
ends = "2026-11-25T15:30"
title_zh = "路演"
speakers = "A; B"
"""

CSV = (
    "key,kind,starts,ends,room,speakers,title_en,title_ru\n"
    "s1,session,2026-11-24T09:30,2026-11-24T10:00,Room 1,Anna;  Li,Batteries,Батареи\n"
    "s2,party,2026-11-24T09:30,2026-11-24T10:00,,,Drinks,\n"
    '"s3",session,2026-11-24T11:00,2026-11-24T12:00,"Room\n2",,"Two\nlines",\n'
    "s4,,2026-11-24T13:00,not a time,,,Later,\n"
    "s5,,2026-11-24T13:00,2026-11-24T14:00,,,,\n"
    "s1,session,2026-11-24T15:00,2026-11-24T16:00,,,Again,\n"
)


def test_toml_sessions_times_in_the_event_zone_and_row_errors_with_lines() -> None:
    parsed = parse_toml(TOML, ZONE)
    assert [s.key for s in parsed.sessions] == ["opening", "pitch"]
    opening, pitch = parsed.sessions
    assert opening.starts_at == dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC)
    assert opening.kind == "forum" and opening.room == "Hall A"
    assert opening.speakers == ("Anna Petrova", "Li Wei")
    assert opening.titles == {"en": "Opening forum", "ru": "Открытие форума"}
    assert pitch.starts_at == dt.datetime(2026, 11, 25, 6, 0, tzinfo=dt.UTC)
    assert pitch.speakers == ("A", "B") and pitch.titles == {"zh": "路演"}
    assert [(e.line, e.message) for e in parsed.errors] == [(14, "ends must be after starts")]


def test_csv_rows_with_their_first_line() -> None:
    parsed = parse_csv(CSV, ZONE)
    assert [s.key for s in parsed.sessions] == ["s1", "s3"]
    s1, s3 = parsed.sessions
    assert s1.speakers == ("Anna", "Li") and s1.titles == {"en": "Batteries", "ru": "Батареи"}
    assert s1.kind == "session" and s3.room == "Room 2" and s3.titles == {"en": "Two lines"}
    lines = {e.line: e.message for e in parsed.errors}
    assert sorted(lines) == [3, 7, 8, 9]  # s3 spans lines 4-6
    assert "party" in lines[3]
    assert "not a time" in lines[7]
    assert "title" in lines[8]
    assert "already used on line 2" in lines[9]


def test_unreadable_files() -> None:
    with pytest.raises(ProgrammeFileError):
        parse_toml("[[sessions]\n", ZONE)
    with pytest.raises(ProgrammeFileError):
        parse_toml("title = 'x'\n", ZONE)
    with pytest.raises(ProgrammeFileError, match="key"):
        parse_csv("name,starts,ends,title_en\n", ZONE)
    with pytest.raises(ProgrammeFileError):
        parse_csv("", ZONE)
    with pytest.raises(ProgrammeFileError, match=".toml or .csv"):
        parse_file(Path("programme.xlsx"), ZONE)


def test_aware_times_and_missing_local_times() -> None:
    row = "key,starts,ends,title_en\nk,2026-11-24T09:00+00:00,2026-11-24T10:00+00:00,T\n"
    start = parse_csv(row, ZONE).sessions[0].starts_at
    assert start == dt.datetime(2026, 11, 24, 9, tzinfo=dt.UTC)
    gap = "key,starts,ends,title_en\nk,2026-03-29T02:30,2026-03-29T04:00,T\n"
    errors = parse_csv(gap, ZoneInfo("Europe/Berlin")).errors
    assert errors and "does not exist" in errors[0].message


def test_title_falls_back_to_default_then_english_then_any() -> None:
    titles = {"en": "English", "ru": "Русский", "zh": "中文"}
    assert title_for(titles, "ru", "zh") == "Русский"
    assert title_for(titles, "ko", "zh") == "中文"
    assert title_for(titles, "ko", "ar") == "English"
    assert title_for({"zh": "中文", "ar": "عربي"}, "ko", "ru") == "عربي"


async def test_reload_by_key_is_idempotent_and_replace_removes(db: Database) -> None:
    clock = ManualClock(dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    repo = ProgrammeRepository(db, clock)
    sessions = parse_toml(TOML, ZONE).sessions
    first = await repo.load(sessions)
    assert (first.added, first.updated, first.unchanged) == (2, 0, 0)
    again = await repo.load(sessions)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    moved = parse_toml(TOML.replace("Hall A", "Hall B"), ZONE).sessions
    changed = await repo.load(moved[:1], replace=True)
    assert (changed.updated, changed.removed) == (1, 1)
    stored = await repo.all()
    assert [(s.data.key, s.data.room) for s in stored] == [("opening", "Hall B")]
    assert stored[0].data == moved[0]


def test_cli_loads_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "programme.toml"
    source.write_text(TOML, encoding="utf-8")
    database = tmp_path / "cli.db"
    argv = ["load-programme", str(source), "--db", str(database)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "programme.toml: line 14: ends must be after starts" in out
    assert "2 session(s) read: 2 added, 0 updated, 0 unchanged, 0 removed; 1 row(s) skipped" in out
    assert main(argv) == 0
    assert "0 added, 0 updated, 2 unchanged" in capsys.readouterr().out
    assert main([*argv, "--replace"]) == 1
    assert "--replace refused" in capsys.readouterr().err
    missing = tmp_path / "none.csv"
    assert main(["load-programme", str(missing), "--db", str(database)]) == 1
    assert "cannot read" in capsys.readouterr().err
