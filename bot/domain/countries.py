"""Resolve a country typed in any shipped language to an ISO 3166-1 alpha-2 code."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import cast

from babel import Locale
from rapidfuzz import fuzz, process

from bot.domain.languages import INTERFACE_LANGUAGES

# Countries whose delegations the organizers expect most; shown as buttons.
LIKELY_COUNTRIES: tuple[str, ...] = ("CN", "RU", "KR", "IL", "NL", "KZ", "AE", "SA")

# Names people type that Babel's territory names do not contain.
_ALIASES: dict[str, str] = {
    "usa": "US", "us": "US", "america": "US", "uk": "GB", "england": "GB", "britain": "GB",
    "uae": "AE", "prc": "CN", "china": "CN", "korea": "KR", "south korea": "KR",
    "republic of korea": "KR", "russia": "RU", "rf": "RU", "рф": "RU", "holland": "NL",
    "中国": "CN", "韩国": "KR", "大韩民国": "KR", "南朝鲜": "KR",
    "南韩": "KR", "俄国": "RU", "阿联酋": "AE", "대한민국": "KR",
    "한국": "KR", "중국": "CN", "러시아": "RU", "южная корея": "KR", "корея": "KR", "кнр": "CN",
    "оаэ": "AE", "سعودية": "SA", "السعودية": "SA", "الامارات": "AE", "روسيا": "RU",
    "كوريا": "KR", "الصين": "CN",
}  # fmt: skip


_ARABIC_FOLD = str.maketrans("أإآةى", "اااهي")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # Arabic hamza-carrying alefs and ta marbuta are typed inconsistently.
    kept = kept.translate(_ARABIC_FOLD)
    return " ".join(kept.replace("-", " ").replace(".", " ").split())


def _is_country(code: str) -> bool:
    # Babel also lists regions ("001", "150") and groupings ("EU", "UN", "QO", "ZZ").
    return (
        len(code) == 2
        and code.isalpha()
        and code not in {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB", "XK"}
    )


@lru_cache(maxsize=1)
def _index(locales: tuple[str, ...]) -> dict[str, str]:
    names: dict[str, str] = {}
    for locale in locales:
        territories: Mapping[str, str] = cast(Mapping[str, str], Locale.parse(locale).territories)
        for code, name in territories.items():
            if _is_country(code):
                names.setdefault(_fold(name), code)
    for alias, code in _ALIASES.items():
        names.setdefault(_fold(alias), code)
    return names


def country_codes() -> frozenset[str]:
    """Return every ISO 3166-1 alpha-2 code Babel names."""
    territories: Mapping[str, str] = cast(Mapping[str, str], Locale.parse("en").territories)
    return frozenset(code for code in territories if _is_country(code))


def resolve_country(
    text: str, locales: Iterable[str] = INTERFACE_LANGUAGES, *, limit: int = 4
) -> list[str]:
    """Return the likeliest country codes for typed text, best first; empty when none fits.

    An exact name, alias or ISO code gives one code; otherwise fuzzy matching over the
    territory names of every shipped language proposes up to `limit` codes.
    """
    index = _index(tuple(locales))
    folded = _fold(text)
    if not folded:
        return []
    if folded in index:
        return [index[folded]]
    if len(folded) == 2 and folded.upper() in country_codes():
        return [folded.upper()]
    # Plain edit-distance ratio: partial scorers let "Russland" match the alias "us".
    candidates = [name for name in index if len(name) > 2]
    cutoff = 75 if len(folded) >= 4 else 85
    results = process.extract(folded, candidates, scorer=fuzz.ratio, limit=20, score_cutoff=cutoff)
    codes: list[str] = []
    for name, _score, _ in results:
        code = index[name]
        if code not in codes:
            codes.append(code)
    return codes[:limit]


def country_name(code: str, locale: str) -> str:
    """Return the country's name in the viewer's language."""
    return str(Locale.parse(locale).territories.get(code, code))


def flag(code: str) -> str:
    """Return the flag emoji of a country code."""
    if len(code) != 2 or not code.isalpha():
        return ""
    return "".join(chr(0x1F1E6 + ord(ch) - ord("A")) for ch in code.upper())
