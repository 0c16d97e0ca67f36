"""The languages: the one list of interface languages, their own names, and meeting languages.

Adding an interface language: add its code here, its catalog under locales/ (README,
"Translations"), and its taxonomy terms; nothing else lists languages.
"""

from __future__ import annotations

from collections.abc import Mapping

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

# Languages a delegate can pick for meetings: the interface languages first, then those the
# event's delegations commonly bring.
MEETING_LANGUAGE_CHOICES: tuple[str, ...] = (
    *INTERFACE_LANGUAGES, "ja", "de", "fr", "es", "he", "nl", "kk",
)  # fmt: skip
