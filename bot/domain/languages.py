"""The languages: the one list of interface languages, their own names, and meeting languages.

Adding an interface language: add its code here, its catalog under locales/ (README,
"Translations"), and its taxonomy terms; nothing else lists languages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# The languages the bot speaks, in the order the language buttons show them.
INTERFACE_LANGUAGES: tuple[str, ...] = ("en", "zh", "ru", "ko", "ar")

# Each interface language in its own script: what a reader looks for on a language button.
ENDONYMS: Mapping[str, str] = {
    "en": "English",
    "zh": "中文",
    "ru": "Русский",
    "ko": "한국어",
    "ar": "العربية",
}

RIGHT_TO_LEFT: frozenset[str] = frozenset({"ar"})

# "Another language": ISO 639's code for languages without one of their own. It is never a
# language two delegates share: two people who both speak "another language" may not meet in it.
OTHER_LANGUAGE = "mis"

# Languages a delegate can pick for meetings: the interface languages first, then those the
# event's delegations commonly bring (Central Asia, the Middle East, Europe, Japan), then
# "another language". Their names come from CLDR (Babel) in the reader's language.
MEETING_LANGUAGE_CHOICES: tuple[str, ...] = (
    *INTERFACE_LANGUAGES,
    "tg", "kk", "uz", "tr", "fa", "he", "nl", "de", "fr", "es", "ja",
    OTHER_LANGUAGE,
)  # fmt: skip

# Where CLDR's name reads wrong to a native editor: (reader's language, language) -> name.
# Arabic CLDR calls Kazakh "the Kazakhstani" language; the language is الكازاخية.
NAME_CORRECTIONS: Mapping[tuple[str, str], str] = {("ar", "kk"): "الكازاخية"}


def spoken(codes: Iterable[str]) -> frozenset[str]:
    """The languages among `codes` that two delegates can share (not "another language")."""
    return frozenset(code for code in codes if code != OTHER_LANGUAGE)
