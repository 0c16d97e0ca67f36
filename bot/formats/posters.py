"""Booth posters: one A4 or A5 page per exhibit with its titles, booth, organization and QR code.

The QR code holds the exhibit's deep link (`https://t.me/<bot>?start=x_<token>`), so scanning it
opens the exhibit's card in the bot. Titles are set in every language the exhibits file gives,
the original first and largest, with the bundled fonts (bot/formats/fonts.py): Chinese, Korean,
Arabic (shaped, right to left) and Cyrillic need no --font. The font size shrinks until the
titles fit above the booth. A ZIP holds one PDF per exhibit, named after its key.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.formats.badges import qr_png
from bot.formats.fonts import use_font

SIZES = {"A4": (210.0, 297.0), "A5": (148.0, 210.0)}
GREY = (90, 90, 90)
MIN_TITLE_PT = 9.0


@dataclass(frozen=True)
class Poster:
    """What one poster shows; the lines about the booth and the QR code already translated."""

    key: str
    titles: Mapping[str, str]  # language -> title, the original first
    organization: str
    booth: str  # the booth (or hall) printed large; may be empty
    where: tuple[str, ...]  # "Booth B12, hall A" in the poster's languages
    scan: tuple[str, ...]  # "Scan to open this exhibit in Telegram" in the poster's languages
    link: str


def _lines_height(pdf: Any, width: float, text: str, size: float) -> float:
    use_font(pdf, text, size)
    lines = pdf.multi_cell(width, size * 0.5, text, align="C", dry_run=True, output="LINES")
    return float(len(lines)) * size * 0.5


def _titles_fit(pdf: Any, width: float, titles: Sequence[str], room: float, scale: float) -> float:
    """The largest factor (at most 1) at which all titles fit into room millimetres."""
    factor = 1.0
    while True:
        sizes = [(30.0 if n == 0 else 19.0) * scale * factor for n in range(len(titles))]
        height = sum(
            _lines_height(pdf, width, t, s) + s * 0.25 for t, s in zip(titles, sizes, strict=True)
        )
        if height <= room or min(sizes) * 0.9 < MIN_TITLE_PT:
            return factor
        factor *= 0.9


def _centered(pdf: Any, x: float, width: float, text: str, size: float) -> None:
    use_font(pdf, text, size)
    pdf.set_x(x)
    pdf.multi_cell(width, size * 0.5, text, align="C", new_x="LMARGIN", new_y="NEXT")


def _page(pdf: Any, poster: Poster, page_format: str) -> None:
    width, height = SIZES[page_format]
    scale = width / 210.0
    margin = 14.0 * scale
    inner = width - 2 * margin
    pdf.set_margins(margin, margin, margin)
    pdf.add_page()

    # From the bottom up: the link, the scan hint, the QR code, the booth.
    qr = 82.0 * scale
    link_pt, scan_pt, where_pt, booth_pt = 8.0 * scale, 11.0 * scale, 13.0 * scale, 44.0 * scale
    link_top = height - margin - link_pt * 0.5
    scan_top = link_top - len(poster.scan) * scan_pt * 0.5 - 2 * scale
    qr_top = scan_top - qr - 2 * scale
    where_top = qr_top - len(poster.where) * where_pt * 0.5 - 4 * scale
    booth_top = where_top - (booth_pt * 0.5 if poster.booth else 0.0)

    pdf.set_text_color(*GREY)
    pdf.set_y(margin)
    _centered(pdf, margin, inner, poster.organization, 15.0 * scale)
    rule = pdf.get_y() + 3 * scale
    pdf.set_draw_color(*GREY)
    pdf.line(margin, rule, width - margin, rule)
    pdf.set_text_color(0, 0, 0)

    titles = list(poster.titles.values())
    room = booth_top - rule - 10 * scale
    factor = _titles_fit(pdf, inner, titles, room, scale)
    pdf.set_y(rule + 6 * scale)
    for n, title in enumerate(titles):
        size = (30.0 if n == 0 else 19.0) * scale * factor
        _centered(pdf, margin, inner, title, size)
        pdf.set_y(pdf.get_y() + size * 0.25)

    if poster.booth:
        pdf.set_y(booth_top)
        _centered(pdf, margin, inner, poster.booth, booth_pt)
    pdf.set_y(where_top)
    for line in poster.where:
        _centered(pdf, margin, inner, line, where_pt)
    pdf.image(io.BytesIO(qr_png(poster.link, scale=10)), x=(width - qr) / 2, y=qr_top, w=qr)
    pdf.set_text_color(*GREY)
    pdf.set_y(scan_top)
    for line in poster.scan:
        _centered(pdf, margin, inner, line, scan_pt)
    pdf.set_y(link_top)
    _centered(pdf, margin, inner, poster.link, link_pt)
    pdf.set_text_color(0, 0, 0)


def posters_pdf(posters: Sequence[Poster], *, page_format: str = "A4") -> bytes:
    """One PDF with a page per exhibit."""
    from bot.formats.fonts import unicode_pdf

    pdf = unicode_pdf(page_size=SIZES[page_format])
    for poster in posters:
        _page(pdf, poster, page_format)
    return bytes(pdf.output())


def _file_name(key: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", key).strip("-.")[:60] or "exhibit"
    name, n = f"{base}.pdf", 2
    while name.lower() in taken:
        name, n = f"{base}-{n}.pdf", n + 1
    taken.add(name.lower())
    return name


def posters_zip(posters: Sequence[Poster], *, page_format: str = "A4") -> bytes:
    """A ZIP of one PDF per exhibit, each named after the exhibit's key (each PDF reads and
    subsets its fonts anew: about a second a poster)."""
    buffer = io.BytesIO()
    taken: set[str] = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for poster in posters:
            name = _file_name(poster.key, taken)
            archive.writestr(name, posters_pdf([poster], page_format=page_format))
    return buffer.getvalue()
