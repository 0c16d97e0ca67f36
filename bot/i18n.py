"""Gettext catalogs loaded once from the locales package, and locale resolution."""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterable, Mapping
from functools import cached_property
from importlib import resources
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.lists import format_list
from babel.support import NullTranslations, Translations

from bot.domain.languages import (
    ENDONYMS,
    INTERFACE_LANGUAGES,
    NAME_CORRECTIONS,
    OTHER_LANGUAGE,
    RIGHT_TO_LEFT,
)

SUPPORTED_LOCALES = INTERFACE_LANGUAGES
LANGUAGE_LABELS = ENDONYMS
RTL_LOCALES = RIGHT_TO_LEFT

# Telegram sends IETF tags; Babel knows which script a tag implies, but our catalogs are
# per language, and a Traditional-Chinese reader is better served by Simplified than English.
_FALLBACKS: Mapping[str, str] = {"zh_Hant": "zh", "zh_Hans": "zh", "zh_TW": "zh", "zh_HK": "zh"}

FSI, PDI = "\u2068", "\u2069"
# The isolates and the embedding/override controls: what plain-text files must not carry.
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u2066\u2067\u2068\u2069\u202a\u202b\u202c\u202d\u202e"))


def N_(message: str) -> str:  # noqa: N802 - the gettext convention pybabel looks for
    """Mark a string for extraction; it is translated later where it is shown."""
    return message


class Html(str):
    """Text that is already safe HTML and must not be escaped again."""

    __slots__ = ()


def resolve_locale(language_code: str | None, default: str = "en") -> str:
    """Map a Telegram language_code (zh-hans, pt-br, ru) to a shipped locale or the default."""
    if not language_code:
        return default
    code = language_code.strip().replace("_", "-")
    try:
        parsed = Locale.parse(code, sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        base = code.split("-")[0].lower()
        return base if base in SUPPORTED_LOCALES else default
    for candidate in (str(parsed), f"{parsed.language}_{parsed.script or ''}", parsed.language):
        if candidate in _FALLBACKS:
            return _FALLBACKS[candidate]
        if candidate in SUPPORTED_LOCALES:
            return candidate
    return default


class Translator:
    """Translations for one locale, with formatting that is safe for HTML messages."""

    def __init__(self, locale: str, translations: NullTranslations) -> None:
        self.locale = locale
        self._translations = translations

    @cached_property
    def babel_locale(self) -> Locale:
        """The Babel locale, for dates, numbers and territory names."""
        return Locale.parse(self.locale)

    @property
    def is_rtl(self) -> bool:
        """Whether the language is written right to left."""
        return self.locale in RTL_LOCALES

    def _value(self, value: Any, *, escape: bool) -> str:
        if isinstance(value, Html) or isinstance(value, int) and not isinstance(value, bool):
            text = str(value)
        else:
            text = str(value)
            if escape:
                text = html.escape(text, quote=False)
        if isinstance(value, Html):
            return text
        # Isolate inserted values so they cannot reorder the sentence around them: in a
        # right-to-left message every value (a Latin name, a number); in any other message
        # every value that holds right-to-left letters or direction controls, so that
        # "أحمد المنصوري" does not flip a Russian paragraph. (Around left-to-right text in a
        # left-to-right message the marks would change nothing a reader sees.)
        if self.is_rtl or _steers_direction(text):
            return f"{FSI}{text}{PDI}"
        return text

    def user_text(self, value: Any) -> Html:
        """User or organizer text placed into HTML outside a template: escaped and isolated."""
        return Html(self._value(value, escape=True))

    def _format(self, template: str, params: Mapping[str, Any], *, escape: bool) -> str:
        if not params:
            return template
        return template.format_map({k: self._value(v, escape=escape) for k, v in params.items()})

    def _(self, message: str, **params: Any) -> str:
        """Translate a message for an HTML reply, escaping the values filled in."""
        return self._format(self._translations.gettext(message), params, escape=True)

    def label(self, message: str, **params: Any) -> str:
        """Translate a button label or other plain text (values are not escaped)."""
        return self._format(self._translations.gettext(message), params, escape=False)

    def ngettext(self, singular: str, plural: str, n: int, **params: Any) -> str:
        """Translate a message whose form depends on a count n (also available as {n})."""
        return self._format(
            self._translations.ngettext(singular, plural, n), {"n": n, **params}, escape=True
        )


class I18n:
    """Catalogs for every shipped locale, loaded once."""

    def __init__(self, default_locale: str = "en") -> None:
        self.default_locale = default_locale
        self._translators: dict[str, Translator] = {}
        for locale in SUPPORTED_LOCALES:
            self._translators[locale] = Translator(locale, self._load(locale))

    @staticmethod
    def _load(locale: str) -> NullTranslations:
        if locale == "en":
            return NullTranslations()
        path = resources.files("locales").joinpath(locale, "LC_MESSAGES", "messages.mo")
        with path.open("rb") as handle:
            return Translations(fp=handle, domain="messages")

    def translator(self, locale: str | None) -> Translator:
        """Return the translator for a shipped locale, else the default one."""
        if locale and locale in self._translators:
            return self._translators[locale]
        return self._translators[self.default_locale]

    def for_telegram(self, language_code: str | None) -> Translator:
        """Return the translator for a Telegram language_code."""
        return self.translator(resolve_locale(language_code, self.default_locale))


_RIGHT_TO_LEFT_CLASSES = frozenset({"R", "AL", "AN", "RLE", "RLO", "RLI", "LRE", "LRO", "LRI"})
_RIGHT_TO_LEFT_CLASSES |= {"FSI", "PDF", "PDI"}


def _steers_direction(text: str) -> bool:
    """Whether text holds a right-to-left letter or a direction control."""
    return any(unicodedata.bidirectional(ch) in _RIGHT_TO_LEFT_CLASSES for ch in text)


def without_bidi_marks(text: str) -> str:
    """Text for a file (.ics, CSV, XLSX): the isolation marks messages carry are removed."""
    return text.translate(_BIDI_CONTROLS)


def language_name(code: str, tr: Translator) -> str:
    """A language's name in the viewer's language, from Babel (the code if Babel has none)."""
    if code == OTHER_LANGUAGE:
        # Translators: a meeting language not in the list; "Meeting languages: Russian and …".
        return tr.label("another language")
    corrected = NAME_CORRECTIONS.get((tr.locale, code))
    if corrected:
        return corrected
    name = tr.babel_locale.languages.get(code)
    return str(name) if name else code


# Where CLDR separates even the leading items of a list with a conjunction (Arabic "و"),
# the language's comma sets terms off instead.
_ENUMERATION_SEPARATORS: Mapping[str, str] = {"ar": "، "}


def _enumeration_separator(tr: Translator) -> str:
    if tr.locale in _ENUMERATION_SEPARATORS:
        return _ENUMERATION_SEPARATORS[tr.locale]
    start = str(tr.babel_locale.list_patterns["standard"]["start"])
    return start.replace("{0}", "").replace("{1}", "")


def language_both(code: str, tr: Translator) -> str:
    """A language named in the viewer's language and in its own: "Russian (Русский)".

    For organizers, who must recognise the language they are asked to write in whichever
    interface language they use; just the one name where both are the same.
    """
    own = ENDONYMS.get(code) or str(Locale.parse(code).get_display_name(code) or code)
    theirs = language_name(code, tr)
    if theirs.casefold() == own.casefold():
        return own
    # Translators: a language's name in your language, then in its own: "Russian (Русский)".
    return tr.label("{language} ({endonym})", language=theirs, endonym=own)


def joined(names: Iterable[str], tr: Translator, *, enumeration: bool = False) -> str:
    """Join names the way the viewer's language lists things (CLDR's list pattern).

    With `enumeration`, every name is set off by the list's separator ("A, B, C", "A、B、C",
    "A، B، C") and no conjunction is added: for terms that hold a conjunction themselves
    ("Hydrogen energy and fuel cells"), where "A и B и C" would not say where one ends.
    """
    listed = [name for name in names if name]
    if not listed:
        return ""
    if enumeration:
        return _enumeration_separator(tr).join(listed)
    return str(format_list(listed, locale=tr.babel_locale))


# Independent clauses in one line ("Their offer answers your need: …; they invest …"): CLDR
# has no pattern for them, and a Latin semicolon reads wrong in Arabic and Chinese.
_CLAUSE_SEPARATORS: Mapping[str, str] = {"ar": "؛ ", "zh": "；"}


def clauses(texts: Iterable[str], tr: Translator) -> str:
    """Join independent clauses with the reader's semicolon."""
    return _CLAUSE_SEPARATORS.get(tr.locale, "; ").join(text for text in texts if text)
