"""Formula injection: what delegates type reaches every CSV and XLSX export as inert text."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.app import BotApplication
from bot.cli import main
from bot.formats.spreadsheet import neutralise
from bot.sandbox.fake_api import FakeBotApi
from tests.flows.broadcast_kit import ORGANIZER
from tests.flows.test_registration import register
from tests.storage.test_meetings_exports import config  # noqa: F401  (the fixture)

NAME = '=HYPERLINK("http://x","y")'
ORGANIZATION = "+cmd|' /C calc'!A0"
ATTACKS = [NAME, ORGANIZATION, "=x4@example.com", "@SUM(A1:A9)", "-1+2", "\t=1", "\r=1"]


@pytest.mark.parametrize("text", ATTACKS)
def test_a_cell_that_starts_a_formula_is_prefixed(text: str) -> None:
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["Anna", "王芳", "a=b", "", None, 42, -1, 0.5, "'=x"])
def test_other_cells_pass_unchanged(value: object) -> None:
    assert neutralise(value) == value


def formulas_in(xlsx: bytes) -> list[str]:
    """Every <f> element of every sheet: a live formula, whatever a reader library says."""
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        return [
            found
            for name in archive.namelist()
            if name.startswith("xl/worksheets/")
            for found in re.findall(r"<f[ >].*?</f>", archive.read(name).decode())
        ]


def text_cells(xlsx: bytes) -> list[str]:
    """Every text cell of every sheet, after checking that none is a formula."""
    assert formulas_in(xlsx) == []
    found: list[str] = []
    for sheet in load_workbook(io.BytesIO(xlsx)).worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", cell.value
                if isinstance(cell.value, str):
                    found.append(cell.value)
    return found


async def test_a_formula_typed_as_a_name_is_inert_in_every_export_but_spelled_in_chat(
    api: FakeBotApi, bot: BotApplication
) -> None:
    user = api.user(801, "Eve", language_code="en")
    done = await register(
        user, locale="en", language="English", name=NAME, organization=ORGANIZATION,
        country="China",
    )  # fmt: skip
    # The chat shows the name as it was typed.
    assert f"Thank you, {NAME}!" in done.text
    organizer = api.user(ORGANIZER, "Olga", language_code="en")
    await organizer.send_text("/export")
    menu = await organizer.expect("CSV or Excel")
    await organizer.press("Delegates · CSV", menu)
    sent = await organizer.expect("1 row")
    assert sent.document is not None
    rows = list(csv.reader(io.StringIO(sent.document[1].decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row]
    assert "'" + NAME in cells and "'" + ORGANIZATION in cells
    assert NAME not in cells and ORGANIZATION not in cells
    await organizer.press("Delegates · XLSX", menu)
    sheet = await organizer.expect("1 row")
    assert sheet.document is not None and sheet.document[0].endswith(".xlsx")
    values = text_cells(sheet.document[1])
    assert "'" + NAME in values and "'" + ORGANIZATION in values


def test_export_schedule_and_the_cli_exports_neutralise_every_cell(
    config: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import sqlite3

    database = tmp_path / "event.db"
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE delegates SET name = ?, organization = ? WHERE id = 1",
                     (NAME, ORGANIZATION))  # fmt: skip
        conn.execute("UPDATE delegates SET name = ?, organization = ?, contact = ? WHERE id = 2",
                     ("@SUM(A1:A9)", "-1+2", "=x4@example.com"))  # fmt: skip
    assert main(["--config", str(config), "export-schedule", "--format", "csv"]) == 0
    cells = [c for row in csv.reader(io.StringIO(capsys.readouterr().out)) for c in row]
    for attack in (NAME, ORGANIZATION, "@SUM(A1:A9)", "-1+2"):
        assert "'" + attack in cells and attack not in cells
    out = tmp_path / "schedule.xlsx"
    assert main(["--config", str(config), "export-schedule", "--format", "xlsx",
                 "--out", str(out)]) == 0  # fmt: skip
    values = text_cells(out.read_bytes())
    assert "'" + NAME in values and "'" + ORGANIZATION in values
    for what in ("delegates", "meetings", "schedule"):
        assert main(["--config", str(config), "export", "--what", what]) == 0
        text = capsys.readouterr().out
        cells = [c for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for c in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], what
        xlsx = tmp_path / f"{what}.xlsx"
        assert main(["--config", str(config), "export", "--what", what, "--format", "xlsx",
                     "--out", str(xlsx)]) == 0  # fmt: skip
        assert not [v for v in text_cells(xlsx.read_bytes()) if v[:1] in "=+-@\t\r"], what
    capsys.readouterr()
    zipped = tmp_path / "badges.zip"
    assert main(["--config", str(config), "export-badges", "--out", str(zipped)]) == 0
    with zipfile.ZipFile(zipped) as archive:
        manifest = archive.read("manifest.csv").decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(manifest)) for c in row]
    assert "'" + NAME in cells and NAME not in cells
