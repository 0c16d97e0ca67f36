"""The fonts of every printed PDF (posters, badges): installed from the package index, no --font.

Noto Sans CJK (package noto-cjk-sans-otc, one OpenType collection) covers Chinese, Korean,
Japanese, Latin and Cyrillic; its Simplified Chinese face is the default and its Korean face sets
Hangul text. Tajawal (fontpkg-tajawal) sets Arabic. Both are under the SIL Open Font License,
whose text ships in each package. Text shaping (fpdf2 with uharfbuzz) joins Arabic letters and
lays right-to-left runs out in reading order; a character a font lacks falls back to the other.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import fontpkg_tajawal
import noto_cjk_sans_otc

# Faces of NotoSansCJK-Regular.ttc: 0 JP, 1 KR, 2 SC, 3 TC, 4 HK.
CJK_FACES = {"cjk-sc": 2, "cjk-kr": 1}
ARABIC = "arabic"
DEFAULT = "cjk-sc"


A4 = (210.0, 297.0)


def unicode_pdf(*, page_size: tuple[float, float] = A4) -> Any:
    """An empty portrait PDF (page size in millimetres) with the bundled fonts and shaping on."""
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format=page_size)
    pdf.set_auto_page_break(auto=False)
    collection = str(noto_cjk_sans_otc.FONT_PATH)
    for family, face in CJK_FACES.items():
        pdf.add_font(family, "", collection, collection_font_number=face)
    pdf.add_font(ARABIC, "", str(fontpkg_tajawal.ROOT / "files" / "Tajawal-Regular.ttf"))
    pdf.set_text_shaping(True)
    return pdf


def _has_script(text: str, names: tuple[str, ...]) -> bool:
    return any(unicodedata.name(ch, "").startswith(names) for ch in text if not ch.isascii())


def family_for(text: str) -> str:
    """The font family that sets a text: Arabic, Korean, else the Chinese face."""
    if _has_script(text, ("ARABIC",)):
        return ARABIC
    if _has_script(text, ("HANGUL",)):
        return "cjk-kr"
    return DEFAULT


def use_font(pdf: Any, text: str, size: float) -> None:
    """Select the family for text at size, with the other fonts as fallbacks."""
    family = family_for(text)
    pdf.set_font(family, size=size)
    pdf.set_fallback_fonts([f for f in (DEFAULT, ARABIC) if f != family])
