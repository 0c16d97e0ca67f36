"""Booking-link QR codes: a PNG for /badge, and printable badges for the badge desk.

The PDF sets every name with the fonts installed with the package (bot/formats/fonts.py: Chinese,
Korean, Arabic shaped right to left, Cyrillic), so no `--font` is needed; `--font` still picks
another TTF for the names, with the bundled fonts as fallbacks. The ZIP form holds one PNG per
delegate plus `manifest.csv` (UTF-8) with the names and organizations, for a print shop's own
layout software.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import segno

from bot.formats import spreadsheet


@dataclass(frozen=True)
class Badge:
    """What one badge shows: name, organization and the booking link behind the QR code."""

    delegate_id: int
    name: str
    organization: str
    link: str


def qr_png(link: str, *, scale: int = 8) -> bytes:
    """The QR code of a link as PNG bytes (error correction M, quiet zone included)."""
    buffer = io.BytesIO()
    segno.make(link, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:40] or "delegate"


def badges_zip(badges: Sequence[Badge]) -> bytes:
    """A ZIP of QR PNGs and a UTF-8 manifest.csv (file, name, organization, link)."""
    buffer = io.BytesIO()
    manifest = io.StringIO()
    writer = csv.writer(manifest)
    writer.writerow(["file", "delegate_id", "name", "organization", "link"])
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for badge in badges:
            filename = f"{badge.delegate_id:05d}-{_safe_name(badge.name)}.png"
            archive.writestr(filename, qr_png(badge.link))
            writer.writerow(
                spreadsheet.safe_row(
                    [filename, badge.delegate_id, badge.name, badge.organization, badge.link]
                )
            )
        # A byte-order mark lets spreadsheet programs read the UTF-8 names correctly.
        archive.writestr("manifest.csv", "\ufeff" + manifest.getvalue())
    return buffer.getvalue()


def badges_pdf(badges: Sequence[Badge], *, font: Path | None = None) -> bytes:
    """A4 pages of badges (2 x 4 per page): name, organization and the QR code."""
    from bot.formats.fonts import ARABIC, family_for, unicode_pdf, use_font

    pdf = unicode_pdf()
    if font is not None:
        pdf.add_font("badge", "", str(font))

    def font_for(text: str, size: float) -> str:
        """Select the font for text; return its alignment (right for Arabic)."""
        use_font(pdf, text, size, family="badge" if font is not None else None)
        return "R" if family_for(text) == ARABIC else "L"

    width, height, per_row, per_page = 95.0, 68.0, 2, 8
    for index, badge in enumerate(badges):
        if index % per_page == 0:
            pdf.add_page()
        slot = index % per_page
        x = 10 + (slot % per_row) * width
        y = 12 + (slot // per_row) * height
        pdf.rect(x, y, width - 5, height - 5)
        pdf.set_xy(x + 4, y + 6)
        align = font_for(badge.name, 15)
        pdf.multi_cell(width - 52, 7, badge.name, align=align, new_x="LEFT", new_y="NEXT")
        pdf.set_xy(x + 4, pdf.get_y() + 2)
        align = font_for(badge.organization, 10)
        pdf.multi_cell(width - 52, 5, badge.organization, align=align, new_x="LEFT", new_y="NEXT")
        pdf.image(io.BytesIO(qr_png(badge.link, scale=6)), x=x + width - 48, y=y + 8, w=40)
    return bytes(pdf.output())
