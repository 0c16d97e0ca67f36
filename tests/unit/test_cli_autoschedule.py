"""`matchmaker import-wishes` and `matchmaker auto-schedule` from the command line."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bot.cli import main
from bot.domain.scheduling import ScheduleError, parse_schedule

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "delegates_small.csv"
CONFIG = """
[event]
timezone = "Asia/Shanghai"
dates = "2099-11-24..2099-11-25"

[schedule]
sessions = ["09:30-10:30"]
breaks = ["09:50-10:10"]
tables = 1
interpreters = {ru = 1}
"""


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("MATCHMAKER_"):
            monkeypatch.delenv(name)


def test_interpreters_are_read_from_the_schedule_and_checked() -> None:
    zone = ZoneInfo("UTC")
    schedule = parse_schedule({"interpreters": {"RU": 2, "ar": 1}}, zone=zone)
    assert schedule.interpreters == (("ar", 1), ("ru", 2))
    for bad in ({"interpreters": ["ru"]}, {"interpreters": {"russian!": 1}},
                {"interpreters": {"ru": 1.5}}, {"interpreters": {"ru": -1}}):  # fmt: skip
        with pytest.raises(ScheduleError):
            parse_schedule(bad, zone=zone)


def test_import_wishes_then_plan_a_draft_then_publish(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database, config = tmp_path / "event.db", tmp_path / "event.toml"
    config.write_text(CONFIG, encoding="utf-8")
    assert main(["import-delegates", str(FIXTURE), "--db", str(database)]) == 0
    wishes = tmp_path / "wishes.csv"
    wishes.write_text(
        "delegate,counterpart,priority\nA1,A2,must\nA2,A1,maybe\nA3,A4,must\nA3,A9,must\n"
        "A6,A6,no\nA1,A4,sometimes\nA4,A1,maybe\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["import-wishes", str(wishes), "--db", str(database)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "line 5: unknown counterpart 'A9'",
        "line 6: a delegate cannot wish to meet themselves",
        "line 7: priority 'sometimes' is not must, maybe or no",
        "wishes.csv: 4 inserted, 0 updated, 0 unchanged, 3 skipped",
    ]
    assert main(["import-wishes", str(wishes), "--db", str(database)]) == 0
    assert "0 inserted, 0 updated, 4 unchanged, 3 skipped" in capsys.readouterr().out

    # Two slots a day (the break takes the middle one), one table: a draft, nothing published.
    draft = tmp_path / "draft.xlsx"
    argv = ["auto-schedule", "--db", str(database), "--config", str(config), "--seconds", "2"]
    assert main([*argv, "--out", str(draft), "--format", "json", "--day", "2099-11-24"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary) == {
        "wishes_must", "must_scheduled", "wishes_maybe", "maybe_scheduled", "meetings",
        "delegates_with_none", "objective", "bound", "gap", "seconds",
    }  # fmt: skip
    assert summary["wishes_must"] == 2 and summary["must_scheduled"] == 2
    assert summary["meetings"] == 2 and summary["gap"] == 0.0
    book = load_workbook(draft)
    header, *rows = book["By table"].iter_rows(values_only=True)
    status = header.index("status")
    assert len(rows) == 2 and {row[status] for row in rows} == {"proposed"}
    assert {row[2] for row in rows} == {"10:10", "09:30"}  # never in the break
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM meetings").fetchone()[0] == 0

    assert main([*argv, "--publish"]) == 0
    out = capsys.readouterr()
    assert "gap 0.00%" in out.out and "published: 3 proposal(s)" in out.err
    with sqlite3.connect(database) as conn:
        held = conn.execute(
            "SELECT count(*) FROM meetings WHERE proposed = 1 AND state = 'requested' "
            "AND table_name IS NOT NULL"
        ).fetchone()[0]
        busy = conn.execute("SELECT count(*) FROM busy_slots").fetchone()[0]
    assert held == 3 and busy == 6
    assert main(["--config", str(config), "export-schedule", "--db", str(database)]) == 0
    exported = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert exported and all(row["status"] == "proposed" for row in exported)
    # Planned again: everybody who wished already has a proposal; nothing new.
    assert main([*argv, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["meetings"] == 0
