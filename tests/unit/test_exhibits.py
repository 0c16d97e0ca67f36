"""The exhibits file contract, `import-exhibits` and `search-exhibits` (issue 18)."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from bot.domain.exhibits import parse_csv, pick
from bot.domain.links import is_booking_token, is_claim_token, is_exhibit_token, new_exhibit_token
from bot.services.exhibits import read_file

HEADER = "key,organization,owner_external_id,booth,hall,title_zh,title_en,description_zh,trl,ip_status,deal_kinds\n"  # noqa: E501
GOOD = (
    "E1,西安交大,D1,B12,A,锂电池快速充电技术,Fast charging of lithium batteries,"
    "一种用于电动汽车锂离子电池的快速充电方法,6,granted,licence\n"
    "E2,Tomsk Uni,,C3,B,,Water purification membrane,,4,pending,joint_rnd\n"
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No MATCHMAKER_* setting leaks in from the developer's shell; taxonomy-only search."""
    import os

    for name in list(os.environ):
        if name.startswith("MATCHMAKER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MATCHMAKER_BOT_USERNAME", "event_bot")
    monkeypatch.setenv("MATCHMAKER_ENCODER", "off")


def test_a_good_file_is_read_with_titles_in_file_order() -> None:
    parsed = parse_csv(("\ufeff" + HEADER + GOOD).encode())
    assert parsed.ok and parsed.errors == ()
    (line, first), (_, second) = parsed.exhibits
    assert line == 2 and first.key == "E1" and first.original_language == "zh"
    assert first.trl == 6 and first.ip_status == "granted" and first.deal_kinds == ("licence",)
    assert second.original_language == "en" and second.owner_external_id is None
    assert pick(first.titles, "en") == ("en", "Fast charging of lithium batteries")
    assert pick(first.titles, "ar") == ("zh", "锂电池快速充电技术")


def test_bad_rows_are_reported_by_row_and_column() -> None:
    bad = (
        "E3,Org,,,,,,,,,\n"  # no title
        "E4,Org,,,,,Thing,,12,,\n"  # trl out of range
        "E5,Org,,,,,Thing,,,maybe,\n"  # ip status
        "E6,Org,,,,,Thing,,,,barter\n"  # deal kind
        "E1,Org,,,,,Again,,,,\n"  # duplicate key
        ",Org,,,,,Thing,,,,\n"  # no key
    )
    parsed = parse_csv((HEADER + GOOD + bad).encode())
    assert [e.key for _, e in parsed.exhibits] == ["E1", "E2"]
    assert [(e.line, e.column) for e in parsed.errors] == [
        (4, "title_en"),
        (5, "trl"),
        (6, "ip_status"),
        (7, "deal_kinds"),
        (8, "key"),
        (9, "key"),
    ]
    assert "row 2" in parsed.errors[4].reason


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"key,title_en\nE1,x\n", "organization"),
        (b"key,organization,booth\nE1,x,B\n", "title_"),
        (b"key;organization;title_en\n", "semicolons"),
        ("key,organization,title_en\nE1,\u00e9,x\n".encode("latin-1"), "UTF-8"),
    ],
)
def test_files_that_import_nothing(data: bytes, message: str) -> None:
    parsed = parse_csv(data)
    assert not parsed.ok and message in (parsed.file_error or "")


def _xlsx(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_rows_are_read_from_the_first_sheet_with_row_errors() -> None:
    data = _xlsx(
        [
            ["title_ru", "organization", "key", "trl", "extra"],
            ["Очистка воды мембранами", "ТГУ", "R1", 5, "ignored"],
            ["Без ключа", "ТГУ", None, 3, None],
            ["Плохой TRL", "ТГУ", "R3", 0, None],
        ]
    )
    parsed = read_file("catalogue.xlsx", data)
    assert [(line, e.key, e.trl) for line, e in parsed.exhibits] == [(2, "R1", 5)]
    assert [(e.line, e.column) for e in parsed.errors] == [(3, "key"), (4, "trl")]
    broken = read_file("broken.xlsx", b"not a zip")
    assert not broken.ok and "XLSX" in (broken.file_error or "")


def test_exhibit_tokens_are_a_third_kind() -> None:
    token = new_exhibit_token()
    assert token.startswith("x_") and is_exhibit_token(token)
    assert not is_claim_token(token) and not is_booking_token(token)
    assert not is_exhibit_token("x_short")


def exhibits_in(database: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT key, token, updated_at FROM exhibits ORDER BY key").fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


def test_import_twice_changes_nothing_and_an_unknown_owner_is_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "exhibits.csv"
    source.write_bytes((HEADER + GOOD + "E3,Org,,,,,,,,,\n").encode())
    database = tmp_path / "event.db"
    assert main(["import-exhibits", str(source), "--db", str(database)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "exhibits.csv: row 4 (title_en): at least one title_<lang> is required",
        "exhibits.csv: note: row 2: owner D1 is not a known delegate (yet); "
        "the exhibit is listed without a contact",
        "2 exhibit(s) read: 2 added, 0 updated, 0 unchanged; 1 row(s) skipped, 1 note(s)",
    ]
    before = exhibits_in(database)
    assert main(["import-exhibits", str(source), "--db", str(database)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "2 exhibit(s) read: 0 added, 0 updated, 2 unchanged; 1 row(s) skipped, 1 note(s)"
    )
    assert exhibits_in(database) == before
    source.write_bytes((HEADER + GOOD.replace("C3", "C4")).encode())
    assert main(["import-exhibits", str(source), "--db", str(database)]) == 0
    assert "0 added, 1 updated, 1 unchanged" in capsys.readouterr().out
    after = exhibits_in(database)
    assert [t for _, t, _ in after] == [t for _, t, _ in before]  # tokens stay printed


def test_a_file_error_fails_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "exhibits.csv"
    source.write_bytes(b"key,title_en\nE1,x\n")
    assert main(["import-exhibits", str(source), "--db", str(tmp_path / "e.db")]) == 1
    assert "organization" in capsys.readouterr().err
    other = tmp_path / "exhibits.txt"
    other.write_text("x")
    assert main(["import-exhibits", str(other), "--db", str(tmp_path / "e.db")]) == 1


def test_search_prints_the_json_contract_with_titles_in_the_asked_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "exhibits.csv"
    source.write_bytes((HEADER + GOOD).encode())
    database = tmp_path / "event.db"
    assert main(["import-exhibits", str(source), "--db", str(database)]) == 0
    capsys.readouterr()
    args = ["search-exhibits", "battery charging", "--db", str(database), "--format", "json"]
    assert main([*args, "--lang", "zh"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [h["key"] for h in found][:1] == ["E1"]
    assert set(found[0]) == {"key", "score", "title", "booth", "reason"}
    assert found[0]["title"] == "锂电池快速充电技术" and found[0]["booth"] == "B12"
    assert 0 < found[0]["score"] <= 1 and found[0]["reason"]
    assert main([*args, "--lang", "ko"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["title"] == "锂电池快速充电技术"  # original
    assert main([*args, "--lang", "en"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["title"] == "Fast charging of lithium batteries"


def test_a_chinese_exhibit_is_found_by_arabic_and_russian_queries_with_the_encoder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MATCHMAKER_ENCODER", "use")
    source = tmp_path / "exhibits.csv"
    source.write_bytes(
        (
            "key,organization,title_zh,description_zh\n"
            "Z1,西安交大,锂电池快速充电技术,一种用于电动汽车锂离子电池的快速充电方法\n"
            "Z2,西北农林,小麦抗旱品种,耐旱高产的冬小麦新品种\n"
            "Z3,陕西医院,骨科手术机器人,用于脊柱手术的精准导航机器人\n"
        ).encode()
    )
    database = tmp_path / "event.db"
    assert main(["import-exhibits", str(source), "--db", str(database)]) == 0
    capsys.readouterr()
    for query in ("شحن سريع لبطاريات السيارات الكهربائية", "робот для хирургии позвоночника"):
        args = ["search-exhibits", query, "--db", str(database), "--format", "json"]
        assert main([*args, "--top", "1", "--lang", "ar"]) == 0
        found = json.loads(capsys.readouterr().out)
        expected = "Z1" if "شحن" in query else "Z3"
        assert [h["key"] for h in found] == [expected], query
