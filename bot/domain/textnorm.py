"""Script-aware text normalisation for en, zh, ru, ko and ar.

Everything here is a pure function of its input: the classifier and the matcher apply the same
steps to taxonomy keywords and to delegates' texts, so consistency matters more than linguistic
accuracy. Stemmers are deliberately light (suffix stripping only).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from anyascii import anyascii

Script = Literal["han", "hangul", "cyrillic", "arabic", "latin"]

SCRIPT_LANGUAGE: dict[Script, str] = {
    "han": "zh",
    "hangul": "ko",
    "cyrillic": "ru",
    "arabic": "ar",
    "latin": "en",
}


def char_script(ch: str) -> Script | None:
    """Return the script of one letter or digit, or None for punctuation and spaces."""
    o = ord(ch)
    if o < 0x80:
        return "latin" if ch.isalnum() else None
    if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF:
        return "han"
    if 0xAC00 <= o <= 0xD7A3 or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F:
        return "hangul"
    if 0x0400 <= o <= 0x04FF:
        return "cyrillic"
    if 0x0600 <= o <= 0x06FF or 0x0750 <= o <= 0x077F or 0x08A0 <= o <= 0x08FF:
        # Arabic digits, punctuation and diacritics live in the same block.
        if unicodedata.category(ch) in ("Lo", "Nd", "Lm"):
            return "arabic"
        return None
    if ch.isalnum():
        return "latin" if unicodedata.category(ch) != "Lo" else None
    return None


def detect_script(text: str) -> Script | None:
    """Return the dominant script of a text (by letters), or None when it has no letters."""
    counts: dict[Script, int] = {}
    for ch in text:
        s = char_script(ch)
        if s is not None and not ch.isdigit():
            counts[s] = counts.get(s, 0) + 1
    if not counts:
        return None
    # Latin abbreviations inside Chinese or Korean text ("LED路灯") should not decide.
    non_latin = {s: n for s, n in counts.items() if s != "latin"}
    if non_latin and sum(non_latin.values()) * 3 >= counts.get("latin", 0):
        return max(non_latin, key=lambda s: non_latin[s])
    return max(counts, key=lambda s: counts[s])


def detect_language(text: str) -> str | None:
    """Guess the language (en, zh, ru, ko, ar) of a text from its script."""
    script = detect_script(text)
    return SCRIPT_LANGUAGE[script] if script else None


def _words(text: str) -> list[str]:
    return text.split()


# --- Arabic ---------------------------------------------------------------------------------

_AR_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_AR_LETTERS = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ة": "ه",
        "ى": "ي",
        "ؤ": "و",
        "ئ": "ي",
        "ک": "ك",
        "ی": "ي",
    }
)


def normalize_arabic(text: str) -> str:
    """Fold Arabic spelling: diacritics, tatweel, hamza seats, ta marbuta, alef maqsura."""
    return _AR_DIACRITICS.sub("", text).translate(_AR_LETTERS)


_AR_ARTICLES = ("وال", "بال", "كال", "فال", "لل", "ال")
# Plural, dual and possessive endings; the feminine ending (ة, folded to ه) comes off last.
# The relative ending -ي/-ية is part of the word: شبكية (retina) is not شبكة (network).
_AR_PLURALS = ("ات", "ون", "ين", "ان")
_AR_SUFFIXES = ("ها", "ه")
_AR_CLITICS = ("و", "ب", "ل", "ف", "ك")


def _ar_light(word: str, *, plural: bool = True) -> str:
    if len(word) > 3 and word.startswith("و") and not word.startswith("وال"):
        word = word[1:]
    for prefix in _AR_ARTICLES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            word = word[len(prefix) :]
            break
    if plural:
        for suffix in _AR_PLURALS:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
    for suffix in _AR_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            word = word[: -len(suffix)]
    return word


def stem_arabic(word: str) -> str:
    """Strip the article, the conjunction wa and inflectional endings from an Arabic word."""
    return _ar_light(word)


def arabic_variants(word: str) -> tuple[str, ...]:
    """The whole word (article and clitics off, the plural kept) first, then lighter readings.

    Keywords use the first reading only, so a keyword in the plural (المقاومات, resistors)
    is not met by the singular of another sense (مقاومة, resistance); texts offer every
    reading, so a keyword in the singular meets its plural in a text. A single-letter clitic
    is indistinguishable from a root letter, so the reading without it is kept too.
    """
    stems = [_ar_light(word, plural=False), _ar_light(word)]
    if len(word) >= 4 and word[0] in _AR_CLITICS:
        stems.append(_ar_light(word[1:]))
    return tuple(dict.fromkeys(stems))


# --- Russian --------------------------------------------------------------------------------

# Noun and adjective endings only: verb endings (-ть, -ли, -ет...) also end many nouns
# (сеть, мебели, пакет) and would split one word into two stems.
_RU_ENDINGS = tuple(
    sorted(
        _words(
            "иями ями ами ией иям ием иях ого его ому ему ыми ими ая яя ое ее ые ие ый ий ой ей "
            "ую юю ою ею ым им ом ем ых их ов ев ам ям ах ях ия ья ье ию ью ии еи ьи "
            "а я о е ы и у ю й ь ость ости остью остей"
        ),
        key=len,
        reverse=True,
    )
)


def stem_russian(word: str) -> str:
    """Strip one inflectional ending from a lower-case Russian word (light stemmer)."""
    word = word.replace("ё", "е")
    for ending in _RU_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            word = word[: -len(ending)]
            break
    if word.endswith("ь") and len(word) > 3:
        word = word[:-1]
    return word


# --- Korean ---------------------------------------------------------------------------------

_KO_PARTICLES = tuple(
    sorted(
        _words(
            "에서는 에서도 으로는 으로도 에게서 이라는 이라고 에서 에게 한테 으로 부터 까지 처럼 "
            "보다 이나 이랑 이며 라는 하고 과의 와의 에는 에도 은 는 을 를 에 와 랑 께 및"
        ),
        key=len,
        reverse=True,
    )
)
# One-syllable particles that also end many nouns (원자로, 도로, 수소가스, 회의, 효과): they are
# stripped only from longer words.
_KO_AMBIGUOUS = ("이", "가", "로", "도", "나", "만", "과", "의")
_KO_ENDINGS = tuple(
    sorted(
        _words("합니다 입니다 습니다 합니까 하는 하며 하여 해서 했다 한다 하기"),
        key=len,
        reverse=True,
    )
)


def strip_korean_particles(word: str) -> str:
    """Strip a trailing particle (은/는/이/가/을/를/의/에/에서/으로/로/와/과…) from an eojeol."""
    for particle in _KO_PARTICLES:
        if word.endswith(particle) and len(word) - len(particle) >= 2:
            return word[: -len(particle)]
    for ending in _KO_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 2:
            return word[: -len(ending)]
    if word.endswith(_KO_AMBIGUOUS) and len(word) >= 4:
        return word[:-1]
    return word


# --- English --------------------------------------------------------------------------------

_DOUBLE = re.compile(r"([b-df-hj-km-np-rtv-z])\1$")


def stem_english(word: str) -> str:
    """Reduce a lower-case English word to a crude stem (plural, -ing, -ed, final e)."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "shes", "ches", "xes", "zes")) or (
        word.endswith("ses") and len(word) > 4
    ):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ing") and len(word) >= 6:
        word = word[:-3]
        if _DOUBLE.search(word):
            word = word[:-1]
    elif word.endswith("ed") and len(word) >= 6:
        word = word[:-2]
        if _DOUBLE.search(word):
            word = word[:-1]
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


# --- tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Token:
    """One word (or one unsegmented Han run) of a text."""

    surface: str  # as written, after NFKC
    norm: str  # case-folded and script-normalised
    stems: tuple[str, ...]  # one or more stems the token may match under
    script: Script
    abbr: bool  # written like an abbreviation (PV, IoT, 5G, ЧПУ): matched without stemming


def prepare(text: str) -> str:
    """Apply NFKC, fold case and Arabic spelling variants, and collapse whitespace."""
    text = unicodedata.normalize("NFKC", text)
    text = normalize_arabic(text).casefold()
    return " ".join(text.split())


def _stems(norm: str, script: Script) -> tuple[str, ...]:
    if script == "latin":
        return (stem_english(norm),)
    if script == "cyrillic":
        return (stem_russian(norm),)
    if script == "arabic":
        return arabic_variants(norm)
    if script == "hangul":
        return (strip_korean_particles(norm),)
    return (norm,)


@lru_cache(maxsize=65536)
def _make_token(surface: str, script: Script) -> Token:
    norm = prepare(surface)
    if is_abbreviation(surface, script):
        # "LEDs" should still meet "LED": keep the bare form first, then the stem.
        stems = tuple(dict.fromkeys((norm, *_stems(norm, script))))
        return Token(surface, norm, stems, script, True)
    return Token(surface, norm, _stems(norm, script), script, False)


def is_abbreviation(surface: str, script: Script) -> bool:
    """Tell whether a word is written like an abbreviation: PV, IoT, 5G, 3D, ЧПУ."""
    if script not in ("latin", "cyrillic") or len(surface) > 6:
        return False
    return sum(ch.isupper() for ch in surface) >= 2 or (
        surface[:1].isdigit() and any(ch.isalpha() for ch in surface)
    )


def tokenize(text: str) -> list[Token]:
    """Split a text into tokens by script: words for alphabetic scripts, runs for Han."""
    text = unicodedata.normalize("NFKC", text)
    tokens: list[Token] = []
    buf: list[str] = []
    buf_script: Script | None = None

    def flush() -> None:
        if buf and buf_script is not None:
            tokens.append(_make_token("".join(buf), buf_script))
        buf.clear()

    for ch in text:
        script = char_script(ch)
        if script is None:
            if _AR_DIACRITICS.match(ch):
                continue  # diacritics and tatweel sit inside words
            flush()
            buf_script = None
            continue
        if ch.isdigit() and buf_script not in (None, "latin", "han"):
            script = buf_script  # keep digits with the word they belong to
        elif ch.isdigit():
            script = "latin"
        if script != buf_script:
            flush()
            buf_script = script
        buf.append(ch)
    flush()
    return tokens


def transliterate(text: str) -> str:
    """Return a lower-case ASCII rendering of any text (Томск → tomsk, 华为 → huawei)."""
    return " ".join(anyascii(unicodedata.normalize("NFKC", text)).lower().split())


def han_bigrams(run: str) -> list[str]:
    """Return the character bigrams of a Han run (a single character yields itself)."""
    if len(run) < 2:
        return [run] if run else []
    return [run[i : i + 2] for i in range(len(run) - 1)]


# --- stopwords ------------------------------------------------------------------------------

# Function words only: they are dropped from keyword phrases ("windows and doors") and from
# the tokens compared for text similarity. Content words stay, however common.
STOPWORDS: frozenset[str] = frozenset(
    _words(
        # en
        "a an the of for and or in on to with by from at as is are be been this that these "
        "those our we us you your it its via per such into using use based also etc can will "
        "looking seeking seek need needs want wants wanted offer offers offering provide "
        "provides providing find search interested "
        # ru (after casefold)
        "и в во на для с со по к ко о об от из у за при до а но или не как что это этот эта "
        "эти мы наш наша наше наши ваш ищем ищу ищет нужен нужна нужны нужно требуется "
        "предлагаем предлагаю предлагает интересует хотим также под над без через "
        # ar (after normalize_arabic)
        "في من الي علي عن مع او ثم ان هذا هذه ذلك تلك التي الذي الذين عبر حول بين نحن "
        "نحتاج نبحث نقدم نريد نطلب يحتاج نوفر مثل لدي لدينا ذات "
        # ko
        "및 등 또는 그리고 위한 대한 통한 관련 필요 원합니다 찾습니다 제공합니다 희망 "
        "찾고 있습니다 합니다"
    )
)


def is_stopword(token: Token) -> bool:
    """Tell whether a token is a function word that carries no topic."""
    return token.norm in STOPWORDS
