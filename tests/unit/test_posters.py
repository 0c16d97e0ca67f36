"""`matchmaker export-posters` and the bundled fonts of `export-badges` (issue 18, item 4).

The PDFs are read back with PDFium (pypdfium2): the text a viewer would copy, and the page as
pixels, whose QR code is decoded with zxing-cpp. Arabic is compared after NFKC (presentation
forms back to letters) and must come out in its logical order.

PDFium reads a right-to-left run back by reversing its characters, the characters behind one
glyph included: the lam-alef ligature, mapped to "لا" in the PDF, comes back as "ال". `read_back`
makes the expected text what a correct PDF gives through PDFium.
"""

from __future__ import annotations

import io
import re
import sqlite3
import unicodedata
import zipfile
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp

from bot.cli import main
from bot.formats.fonts import family_for

TITLES = {
    "zh": "锂电池快速充电技术",
    "ko": "리튬 배터리 고속 충전 기술",
    "ru": "Быстрая зарядка литиевых батарей",
    "ar": "الشحن السريع لبطاريات الليثيوم",
    "en": "Fast charging of lithium batteries",
}
HEADER = "key,organization,booth,hall,title_zh,title_ko,title_ru,title_ar,title_en\n"
ROWS = (
    f"E1,西安交通大学,B12,A,{TITLES['zh']},{TITLES['ko']},{TITLES['ru']},{TITLES['ar']},"
    f"{TITLES['en']}\n"
    "E2/x,جامعة القاهرة,,C,,,,معالجة المياه بالأغشية,\n"
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No MATCHMAKER_* setting leaks in from the developer's shell."""
    import os

    for name in list(os.environ):
        if name.startswith("MATCHMAKER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MATCHMAKER_BOT_USERNAME", "event_bot")
    monkeypatch.setenv("MATCHMAKER_ENCODER", "off")


@pytest.fixture
def database(tmp_path: Path) -> Path:
    source = tmp_path / "exhibits.csv"
    source.write_text(HEADER + ROWS, encoding="utf-8")
    path = tmp_path / "event.db"
    assert main(["import-exhibits", str(source), "--db", str(path)]) == 0
    return path


def token_of(database: Path, key: str) -> str:
    with sqlite3.connect(database) as conn:
        return str(conn.execute("SELECT token FROM exhibits WHERE key = ?", (key,)).fetchone()[0])


def read_back(arabic: str) -> str:
    """Arabic text as PDFium extracts it from a correct PDF: lam-alef ligatures reversed."""
    return re.sub("ل([اأإآ])", r"\1ل", arabic)


def page_text(document: pdfium.PdfDocument, index: int) -> str:
    text = document[index].get_textpage().get_text_range()
    return unicodedata.normalize("NFKC", text).replace("\r\n", "\n")


def page_qr(document: pdfium.PdfDocument, index: int) -> list[str]:
    image = document[index].render(scale=2).to_pil()
    return [code.text for code in zxingcpp.read_barcodes(image)]


def test_a4_posters_carry_every_title_the_booth_and_the_scannable_link(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "posters.pdf"
    assert main(["export-posters", "--out", str(out), "--db", str(database)]) == 0
    assert "2 poster(s) written" in capsys.readouterr().err
    document = pdfium.PdfDocument(out.read_bytes())
    assert len(document) == 2
    width, height = document[0].get_size()
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 297)

    first = page_text(document, 0)
    lines = first.splitlines()
    for language in ("zh", "ko", "ru", "en"):
        assert TITLES[language] in first, language
    # Arabic: shaped glyphs read back as letters, in logical (reading) order on one line.
    assert read_back(TITLES["ar"]) in lines
    assert read_back(TITLES["ar"])[::-1] not in first
    assert "西安交通大学" in lines and "B12" in lines
    assert "展位 B12，A 馆" in first or "Booth B12, hall A" in first
    assert "Booth B12, hall A" in lines  # English for every visitor, after the titles' languages
    link = f"https://t.me/event_bot?start={token_of(database, 'E1')}"
    assert link in lines
    assert page_qr(document, 0) == [link]

    second = page_text(document, 1)
    assert read_back("معالجة المياه بالأغشية") in second.splitlines()  # with a lam-alef
    assert "جامعة القاهرة" in second.splitlines()
    assert "Hall C" in second  # a hall without a booth
    assert page_qr(document, 1) == [f"https://t.me/event_bot?start={token_of(database, 'E2/x')}"]


def test_a5_zip_holds_one_pdf_per_exhibit_named_after_its_key(
    database: Path, tmp_path: Path
) -> None:
    out = tmp_path / "posters.zip"
    assert main(["export-posters", "--out", str(out), "--size", "A5", "--db", str(database)]) == 0
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["E1.pdf", "E2-x.pdf"]
        document = pdfium.PdfDocument(archive.read("E1.pdf"))
    assert len(document) == 1
    width, height = document[0].get_size()
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (148, 210)
    text = page_text(document, 0)
    assert TITLES["zh"] in text and read_back(TITLES["ar"]) in text.splitlines()
    assert page_qr(document, 0) == [f"https://t.me/event_bot?start={token_of(database, 'E1')}"]


def test_export_posters_refuses_a_wrong_suffix_and_an_empty_catalogue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export-posters", "--out", str(tmp_path / "p.png")]) == 2
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    source = tmp_path / "none.csv"
    source.write_text(HEADER, encoding="utf-8")
    assert main(["import-exhibits", str(source), "--db", str(empty)]) == 0
    capsys.readouterr()
    assert main(["export-posters", "--out", str(tmp_path / "p.pdf"), "--db", str(empty)]) == 1
    assert "no exhibits" in capsys.readouterr().err


def test_long_titles_shrink_to_stay_above_the_qr_code(tmp_path: Path) -> None:
    long_title = "超长标题" * 50  # 200 characters, the file's limit
    source = tmp_path / "exhibits.csv"
    source.write_text(
        "key,organization,booth,title_zh,title_en\n"
        f"L1,Org,B1,{long_title},{'Long English title ' * 10}\n",
        encoding="utf-8",
    )
    database = tmp_path / "event.db"
    assert main(["import-exhibits", str(source), "--db", str(database)]) == 0
    out = tmp_path / "long.pdf"
    assert main(["export-posters", "--out", str(out), "--db", str(database)]) == 0
    document = pdfium.PdfDocument(out.read_bytes())
    assert len(document) == 1  # nothing spills onto a second page
    assert long_title in page_text(document, 0).replace("\n", "")
    assert len(page_qr(document, 0)) == 1  # the title does not cover the code


@pytest.mark.parametrize(
    ("text", "family"),
    [("锂电池", "cjk-sc"), ("Быстрая", "cjk-sc"), ("리튬", "cjk-kr"), ("الشحن", "arabic")],
)
def test_each_script_gets_a_font_that_has_it(text: str, family: str) -> None:
    assert family_for(text) == family


def test_badges_pdf_needs_no_font_for_chinese_korean_and_arabic_names(tmp_path: Path) -> None:
    from bot.formats.badges import Badge, badges_pdf

    badges = [
        Badge(1, "王芳", "西安交通大学", "https://t.me/event_bot?start=b_one"),
        Badge(2, "김민준", "카이스트", "https://t.me/event_bot?start=b_two"),
        Badge(3, "أحمد المنصوري", "جامعة القاهرة", "https://t.me/event_bot?start=b_three"),
        Badge(4, "Иван Петров", "ТПУ", "https://t.me/event_bot?start=b_four"),
    ]
    document = pdfium.PdfDocument(badges_pdf(badges))
    lines = page_text(document, 0).splitlines()
    for badge in badges:
        assert read_back(badge.name) in lines and read_back(badge.organization) in lines
    image = document[0].render(scale=3).to_pil()
    found = sorted(code.text for code in zxingcpp.read_barcodes(image))
    assert found == sorted(b.link for b in badges)
    assert io.BytesIO(badges_pdf(badges)).getvalue().startswith(b"%PDF")
