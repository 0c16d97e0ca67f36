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
    """An empty portrait PDF (page size in millimetres) with text shaping on; the bundled fonts
    are added when first used (reading one takes a few tenths of a second)."""
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format=page_size)
    pdf.set_auto_page_break(auto=False)
    pdf.set_text_shaping(True)
    return pdf


def _ensure(pdf: Any, family: str) -> None:
    if family in pdf.fonts:
        return
    if family == ARABIC:
        pdf.add_font(ARABIC, "", str(fontpkg_tajawal.ROOT / "files" / "Tajawal-Regular.ttf"))
    else:
        collection = str(noto_cjk_sans_otc.FONT_PATH)
        pdf.add_font(family, "", collection, collection_font_number=CJK_FACES[family])


def _has_script(text: str, names: tuple[str, ...]) -> bool:
    return any(unicodedata.name(ch, "").startswith(names) for ch in text if not ch.isascii())


def family_for(text: str) -> str:
    """The font family that sets a text: Arabic, Korean, else the Chinese face."""
    if _has_script(text, ("ARABIC",)):
        return ARABIC
    if _has_script(text, ("HANGUL",)):
        return "cjk-kr"
    return DEFAULT


def use_font(pdf: Any, text: str, size: float, *, family: str | None = None) -> None:
    """Select the family for text (or the one given) at size, the bundled ones as fallbacks."""
    family = family or family_for(text)
    fallbacks = [DEFAULT] if family != DEFAULT else []
    if family != ARABIC and _has_script(text, ("ARABIC",)):
        fallbacks.append(ARABIC)
    for name in (family, *fallbacks):
        if name not in CJK_FACES and name != ARABIC:
            continue  # a font the caller added itself
        _ensure(pdf, name)
    pdf.set_font(family, size=size)
    pdf.set_fallback_fonts(fallbacks)
