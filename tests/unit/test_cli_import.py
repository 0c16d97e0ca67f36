"""`matchmaker import-delegates`: the summary, the links file, and files that import nothing."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from bot.cli.organizers import run_import
from bot.config import load_settings
from bot.domain.clock import ManualClock
from bot.sandbox.fake_api import FakeBotApi
from storage.claims import ClaimRepository
from storage.db import Database
from storage.importer import ImportRepository

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "delegates_small.csv"
HEADER = "external_id,name,organization,country,language,role,offer,need,consent\n"
LINK = re.compile(r"^https://t\.me/event_bot\?start=c_[A-Za-z0-9_-]{32}$")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No MATCHMAKER_* setting leaks in from the developer's shell."""
    import os

    for name in list(os.environ):
        if name.startswith("MATCHMAKER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MATCHMAKER_BOT_USERNAME", "event_bot")


def delegates_in(database: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT external_id, name FROM delegates ORDER BY id").fetchall()
    return [(str(a), str(b)) for a, b in rows]


def test_import_reports_a_summary_and_a_second_run_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "event.db"
    assert main(["import-delegates", str(FIXTURE), "--db", str(database)]) == 0
    first = capsys.readouterr()
    assert first.out.splitlines() == [
        "delegates_small.csv: 6 inserted, 0 updated, 0 unchanged, 0 skipped (6 changed)"
    ]
    assert first.err == ""
    assert main(["import-delegates", str(FIXTURE), "--db", str(database)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "delegates_small.csv: 0 inserted, 0 updated, 6 unchanged, 0 skipped (0 changed)"
    ]
    assert len(delegates_in(database)) == 6


def test_bad_rows_are_reported_by_line_and_the_others_imported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(
        (
            "\ufeff"  # Excel's byte-order mark
            + HEADER
            + "G1,Good,Org,CN,zh,company,,,yes\n"
            + "B1,Bad,Org,ZZ,zh,company,,,yes\n"
            + "G1,Again,Org,CN,zh,company,,,yes\n"
            + "B2,Bad role,Org,CN,zh,pirate,,,yes\n"
        ).encode()
    )
    database = tmp_path / "event.db"
    assert main(["import-delegates", str(source), "--db", str(database)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("line 3: ") and "'ZZ'" in out[0]
    assert out[1].startswith("line 4: duplicate external_id")
    assert out[2].startswith("line 5: unknown role 'pirate'")
    assert out[-1] == "in.csv: 1 inserted, 0 updated, 0 unchanged, 3 skipped (1 changed)"
    assert delegates_in(database) == [("G1", "Good")]


BROKEN: dict[str, bytes] = {
    "wrong header": b"id,full name,company\n1,Ann,Org\n",
    "missing columns": (HEADER.replace(",role", "") + "X1,Ann,Org,CN,zh,,,yes\n").encode(),
    "empty file": b"",
    "blank lines only": b"\n\n  \n",
    "UTF-16": (HEADER + "X1,Ann,Org,CN,zh,company,,,yes\n").encode("utf-16"),
    "Windows-1251": (HEADER + "X1,Иван,Орг,RU,ru,company,,,yes\n").encode("cp1251"),
    "semicolons": HEADER.replace(",", ";").encode() + b"X1;Ann;Org;CN;zh;company;;;yes\n",
}


@pytest.mark.parametrize("content", BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_file_imports_nothing_and_exits_1(
    content: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(content)
    database = tmp_path / "event.db"
    assert main(["import-delegates", str(source), "--db", str(database)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("matchmaker: import failed: ") and "Nothing was imported" in line
    assert not database.exists()


def test_a_missing_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["import-delegates", str(tmp_path / "nope.csv"), "--db", str(tmp_path / "x.db")])
    assert code == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("matchmaker: import failed: cannot read ")


def test_links_file_lists_each_delegate_with_a_private_link(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database, links = tmp_path / "event.db", tmp_path / "links.csv"
    args = ["import-delegates", str(FIXTURE), "--db", str(database), "--links", str(links)]
    assert main(args) == 0
    assert f"links: 6 written to {links}" in capsys.readouterr().out
    rows = list(csv.reader(io.StringIO(links.read_text(encoding="utf-8"))))
    assert rows[0] == ["external_id", "name", "link"]
    assert [r[:2] for r in rows[1:3]] == [["A1", "Ivan Petrov"], ["A2", "王伟"]]
    assert all(LINK.match(r[2]) for r in rows[1:])
    assert len({r[2] for r in rows[1:]}) == 6
    first = links.read_text(encoding="utf-8")
    assert main(args) == 0  # same file again: the same links
    assert links.read_text(encoding="utf-8") == first


def test_links_need_the_bot_username(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MATCHMAKER_BOT_USERNAME")
    database = tmp_path / "event.db"
    args = ["import-delegates", str(FIXTURE), "--db", str(database), "--links", "l.csv"]
    assert main(args) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("matchmaker: configuration error: MATCHMAKER_BOT_USERNAME:")
    assert not database.exists()  # nothing imported without the links asked for


def test_a_bad_bot_username_is_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MATCHMAKER_BOT_USERNAME", "not a name")
    assert main(["import-delegates", str(FIXTURE), "--db", str(tmp_path / "x.db")]) == 2
    assert "MATCHMAKER_BOT_USERNAME" in capsys.readouterr().err


async def test_without_a_username_setting_getme_names_the_bot(
    tmp_path: Path, clock: ManualClock
) -> None:
    links = tmp_path / "links.csv"
    async with FakeBotApi(bot_username="fair_2026_bot") as api:
        settings = load_settings(
            {},
            overrides={
                "MATCHMAKER_TOKEN": api.token,
                "MATCHMAKER_API_BASE_URL": api.base_url,
                "MATCHMAKER_DB": str(tmp_path / "event.db"),
            },
        )
        outcome = await run_import(
            settings, FIXTURE, FIXTURE.read_bytes(), links=links, notify=False, clock=clock
        )
    assert outcome.links_written == 6
    assert "https://t.me/fair_2026_bot?start=c_" in links.read_text(encoding="utf-8")


async def test_new_matches_are_announced_only_when_asked(
    tmp_path: Path, clock: ManualClock
) -> None:
    database = tmp_path / "event.db"
    settings = load_settings({}, require_token=False, overrides={"MATCHMAKER_DB": str(database)})
    source = FIXTURE.read_bytes()
    await run_import(settings, FIXTURE, source, links=None, notify=False, clock=clock)
    db = Database(database)
    await db.connect()
    try:
        repo = ImportRepository(db, clock)
        korean = {v: k for k, v in (await repo.public_ids()).items()}["A3"]
        claims = ClaimRepository(db, clock)
        assert await claims.bind(korean, 601, 601)  # the one who needs an electrolyzer is here
    finally:
        await db.close()

    changed = source.replace(b"PEM electrolyzer stacks", b"PEM water electrolyzer stacks")
    quiet = await run_import(settings, FIXTURE, changed, links=None, notify=False, clock=clock)
    assert quiet.report.updated == 1 and quiet.announced == 0
    assert _outbox(database) == []

    again = changed.replace(b"PEM water electrolyzer", b"PEM electrolyzer")
    told = await run_import(settings, FIXTURE, again, links=None, notify=True, clock=clock)
    assert told.announced == 1
    assert _outbox(database) == [(601, "match.new")]


def _outbox(database: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT chat_id, template FROM outbox ORDER BY id").fetchall()
    return [(int(a), str(b)) for a, b in rows]
