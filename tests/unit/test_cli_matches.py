"""`matchmaker matches`: the JSON and CSV contract outside tools rely on."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.domain.clock import ManualClock
from locales.taxonomy import load_taxonomy
from storage.db import Database
from storage.delegates import DelegateRepository
from storage.items import ItemRepository
from tests.conftest import EVENT_START

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "delegates_small.csv"
DIRECTIONS = {"they_offer", "they_need", "both"}
CHAT_USER = 555


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("MATCHMAKER_"):
            monkeypatch.delenv(name)


async def _register_in_chat(database: Path) -> None:
    """A delegate who registered by talking to the bot and needs an electrolyzer."""
    clock = ManualClock(EVENT_START)
    db = Database(database)
    await db.connect()
    try:
        delegates = DelegateRepository(db, clock)
        draft = await delegates.start_draft(CHAT_USER, CHAT_USER)
        await delegates.update(
            draft.id, locale="en", name="Chat Person", organization="Chat Org", country="NL",
            role="company", meeting_languages=("en",), consent=True, registered_at=clock.now(),
        )  # fmt: skip
        await ItemRepository(db, clock).add(
            draft.id, "need", "PEM electrolyzer stack for hydrogen", fields=("energy.hydrogen",)
        )
    finally:
        await db.close()


@pytest.fixture
def event_db(tmp_path: Path) -> Path:
    database = tmp_path / "event.db"
    assert main(["import-delegates", str(FIXTURE), "--db", str(database)]) == 0
    asyncio.run(_register_in_chat(database))
    return database


def run_matches(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["matches", *args]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out


def test_json_lists_every_delegate_with_their_best_counterparts(
    event_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    payload: list[dict[str, Any]] = json.loads(run_matches(capsys, "--db", str(event_db)))
    assert [entry["delegate"] for entry in payload] == [
        "A1", "A2", "A3", "A4", "A5", "A6", f"tg:{CHAT_USER}",
    ]  # fmt: skip
    for entry in payload:
        assert set(entry) == {"delegate", "matches"}
        others = [m["delegate"] for m in entry["matches"]]
        assert entry["delegate"] not in others and len(others) == len(set(others))
        scores = [m["score"] for m in entry["matches"]]
        assert scores == sorted(scores, reverse=True)
        for match in entry["matches"]:
            assert set(match) == {"delegate", "direction", "score", "reason"}
            assert match["direction"] in DIRECTIONS
            assert isinstance(match["score"], float) and 0.0 <= match["score"] <= 1.0
            assert isinstance(match["reason"], str) and match["reason"]
            assert match["delegate"] != "A5"  # no consent: never shown to anyone
    by_id = {entry["delegate"]: entry["matches"] for entry in payload}
    korean_top = by_id["A3"][0]
    assert (korean_top["delegate"], korean_top["direction"]) == ("A4", "they_offer")
    assert "Hydrogen" in korean_top["reason"]
    assert {(m["delegate"], m["direction"]) for m in by_id["A4"]} >= {
        ("A3", "they_need"),
        (f"tg:{CHAT_USER}", "they_need"),
    }
    assert by_id["A2"][0]["delegate"] == "A1"  # Russian offer for a Chinese need
    assert by_id["A5"][0]["delegate"] == "A6"  # hidden herself, she still sees her matches


def test_csv_is_the_same_table_one_row_per_counterpart(
    event_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    payload = json.loads(run_matches(capsys, "--db", str(event_db), "--top", "2"))
    text = run_matches(capsys, "--db", str(event_db), "--top", "2", "--format", "csv")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["delegate", "rank", "match", "direction", "score", "reason"]
    expected = [
        [entry["delegate"], str(rank), m["delegate"], m["direction"], f"{m['score']:.4f}",
         m["reason"]]
        for entry in payload
        for rank, m in enumerate(entry["matches"], start=1)
    ]  # fmt: skip
    assert rows[1:] == expected
    assert all(len(entry["matches"]) <= 2 for entry in payload)


def test_top_limits_the_counterparts(event_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    payload = json.loads(run_matches(capsys, "--db", str(event_db), "--top", "1"))
    assert max(len(entry["matches"]) for entry in payload) == 1


def test_reasons_in_another_language_name_the_fields_in_it(
    event_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    payload = json.loads(run_matches(capsys, "--db", str(event_db), "--lang", "zh"))
    reason = {e["delegate"]: e["matches"] for e in payload}["A3"][0]["reason"]
    assert load_taxonomy().name("energy.hydrogen", "zh") in reason
    assert "Hydrogen" not in reason


@pytest.mark.parametrize(
    "args",
    [["--top", "0"], ["--top", "many"], ["--lang", "de"], ["--format", "xml"]],
    ids=["zero", "words", "language", "format"],
)
def test_usage_errors_exit_2(
    args: list[str], event_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    with pytest.raises(SystemExit) as stopped:
        main(["matches", "--db", str(event_db), *args])
    assert stopped.value.code == 2
    assert capsys.readouterr().out == ""


def test_a_missing_database_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["matches", "--db", str(tmp_path / "typo.db")]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert (
        line
        == f"matchmaker: configuration error: MATCHMAKER_DB: no database at {tmp_path}/typo.db"
    )
    assert not (tmp_path / "typo.db").exists()
