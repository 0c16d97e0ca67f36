"""Booking-link QR codes: a PNG for /badge, and printable badges for the badge desk.

A PDF needs a font that holds every name: fpdf2's built-in fonts cover Latin-1 only and no font
ships with this package, so Chinese, Korean or Arabic names need `--font` with a TTF that covers
them (e.g. Noto Sans CJK, SIL Open Font License). Without one, `export-badges` refuses such a PDF
and the ZIP form always works: one PNG per delegate plus `manifest.csv` (UTF-8) with the names
and organizations, for a print shop's own layout software.
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


class BadgeFontMissing(Exception):
    """Some names cannot be drawn with the built-in PDF fonts and no --font was given."""


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


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def badges_pdf(badges: Sequence[Badge], *, font: Path | None = None) -> bytes:
    """A4 pages of badges (2 x 4 per page): name, organization and the QR code."""
    from fpdf import FPDF

    if font is None and not all(_latin1(b.name + b.organization) for b in badges):
        raise BadgeFontMissing(
            "some names need a Unicode font: pass --font FILE.ttf or write a .zip instead"
        )
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=False)
    family = "Helvetica"
    if font is not None:
        pdf.add_font("badge", "", str(font))
        family = "badge"
    width, height, per_row, per_page = 95.0, 68.0, 2, 8
    for index, badge in enumerate(badges):
        if index % per_page == 0:
            pdf.add_page()
        slot = index % per_page
        x = 10 + (slot % per_row) * width
        y = 12 + (slot // per_row) * height
        pdf.rect(x, y, width - 5, height - 5)
        pdf.set_xy(x + 4, y + 6)
        pdf.set_font(family, size=15)
        pdf.multi_cell(width - 52, 7, badge.name)
        pdf.set_xy(x + 4, pdf.get_y() + 2)
        pdf.set_font(family, size=10)
        pdf.multi_cell(width - 52, 5, badge.organization)
        pdf.image(io.BytesIO(qr_png(badge.link, scale=6)), x=x + width - 48, y=y + 8, w=40)
    return bytes(pdf.output())
