"""`matchmaker schedule`, `export-schedule` and `export-badges` on a database with meetings."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main
from bot.config import load_settings
from bot.domain.clock import ManualClock
from bot.services.meetings import MeetingService
from storage.db import Database
from storage.outbox import OutboxRepository
from tests.storage.test_meetings import SLOT_1, SLOT_2, add_delegate

CONFIG = """
bot_username = "nanjing_days_bot"
database = "{db}"
[event]
name = "Nanjing Innovation Days"
timezone = "Asia/Shanghai"
dates = "2026-11-24..2026-11-25"
[schedule]
sessions = ["09:30-12:00", "14:00-17:30"]
breaks = ["10:30-10:50"]
slot_minutes = 20
tables = "A1..A30"
room = "Hall 3"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "event.toml"
    path.write_text(CONFIG.format(db=tmp_path / "event.db"), encoding="utf-8")
    settings = load_settings({}, config_file=path, require_token=False)

    async def fill() -> None:
        db = Database(settings.database)
        await db.connect()
        await db.migrate()
        clock = ManualClock(dt.datetime(2026, 11, 24, 0, 0, tzinfo=dt.UTC))
        service = MeetingService(db, clock, settings.schedule, OutboxRepository(db, clock))
        a = await add_delegate(db, 1, languages="en")
        b = await add_delegate(db, 2, languages="zh")
        c = await add_delegate(db, 3, languages="en ru")
        await db.execute("UPDATE delegates SET name = '王芳' WHERE id = ?", (b,))
        for requester, invitee, slot in ((a, b, SLOT_1), (a, c, SLOT_2)):
            meeting = await service.request(requester, invitee, slot)
            await service.accept(meeting.id, invitee)
        await db.close()

    asyncio.run(fill())
    return path


def test_schedule_shows_slots_in_the_event_zone(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config), "schedule"]) == 0
    out = capsys.readouterr().out
    assert "Asia/Shanghai" in out and "30 table(s): A1 … A30, room Hall 3" in out
    assert "2026-11-24 Tue: 16 slots  09:30 09:50 10:10 10:50" in out
    assert "total 32 slots x 30 tables = 960 meetings" in out


def test_export_schedule_csv_and_xlsx(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config), "export-schedule", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    by_table = [r for r in rows if r["view"] == "table"]
    by_delegate = [r for r in rows if r["view"] == "delegate"]
    assert len(by_table) == 2 and len(by_delegate) == 4
    first = by_table[0]
    assert (first["date"], first["start"], first["end"], first["table"]) == (
        "2026-11-24", "09:30", "09:50", "A1",
    )  # fmt: skip
    assert first["counterpart"] == "王芳" and first["interpreter_needed"] == "yes"
    assert by_table[1]["interpreter_needed"] == "no" and by_table[1]["languages"] == "en"

    out = tmp_path / "schedule.xlsx"
    assert (
        main(["--config", str(config), "export-schedule", "--format", "xlsx", "--out", str(out)])
        == 0
    )
    book = load_workbook(out)
    assert book.sheetnames == ["By table", "By delegate"]
    assert book["By table"].max_row == 3 and book["By delegate"].max_row == 5


def test_export_badges_zip_and_pdf(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "badges.zip"
    assert main(["--config", str(config), "export-badges", "--out", str(out)]) == 0
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        manifest = archive.read("manifest.csv").decode("utf-8-sig")
        png = archive.read(names[0])
    assert len(names) == 4 and png.startswith(b"\x89PNG")
    assert "王芳" in manifest and "https://t.me/nanjing_days_bot?start=b_" in manifest
    # The same links next time: tokens are created once and kept.
    again = tmp_path / "again.zip"
    assert main(["--config", str(config), "export-badges", "--out", str(again)]) == 0
    with zipfile.ZipFile(again) as archive:
        assert archive.read("manifest.csv").decode("utf-8-sig") == manifest

    # A Chinese name needs no --font: the fonts come with the package (issue 18, item 4).
    pdf = tmp_path / "badges.pdf"
    assert main(["--config", str(config), "export-badges", "--out", str(pdf)]) == 0
    import pypdfium2

    text = pypdfium2.PdfDocument(pdf.read_bytes())[0].get_textpage().get_text_range()
    assert "王芳" in text.splitlines()
    font = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if font.exists():
        # DejaVu has no CJK glyphs (fpdf2 leaves them blank); the PDF is written all the same.
        code = main(
            ["--config", str(config), "export-badges", "--out", str(pdf), "--font", str(font)]
        )
        assert code == 0 and pdf.read_bytes().startswith(b"%PDF")


def test_export_schedule_lists_the_guests_and_gives_each_a_line(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings({}, config_file=config, require_token=False)

    async def seat() -> None:
        db = Database(settings.database)
        await db.connect()
        colleague = await add_delegate(db, 4)
        await db.execute("UPDATE delegates SET organization = 'Org 1' WHERE id = ?", (colleague,))
        interpreter = await add_delegate(db, 5, languages="en zh")
        await db.execute("UPDATE delegates SET role = 'interpreter' WHERE id = ?", (interpreter,))
        first = await db.fetchval("SELECT id FROM meetings ORDER BY slot_start LIMIT 1")
        for guest, kind in ((colleague, "colleague"), (interpreter, "interpreter")):
            await db.execute(
                "INSERT INTO meeting_guests (meeting_id, guest_id, added_by, kind, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (first, guest, 1 if kind == "colleague" else 2, kind,
                 f"2026-11-01T00:00:0{guest}.000000+00:00"),
            )  # fmt: skip
        await db.close()

    asyncio.run(seat())
    assert main(["--config", str(config), "export-schedule", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    first, second = (r for r in rows if r["view"] == "table")
    assert first["guests"] == "Delegate 4 (Org 1); Delegate 5 (interpreter)"
    assert second["guests"] == ""
    mine = {r["delegate"]: r for r in rows if r["view"] == "delegate" and r["start"] == "09:30"}
    assert set(mine) == {"Delegate 1", "王芳", "Delegate 4", "Delegate 5"}
    # Each guest's line names the party they meet: the colleague came with Delegate 1, the
    # interpreter with 王芳.
    assert mine["Delegate 4"]["counterpart"] == "王芳"
    assert mine["Delegate 5"]["counterpart"] == "Delegate 1"
    assert mine["Delegate 5"]["table"] == first["table"]
