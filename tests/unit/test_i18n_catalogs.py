"""The catalogs: complete, consistent with the code, compiled, placeholders intact."""

from __future__ import annotations

import pytest
from babel.messages.catalog import Message

from bot import catalogs
from bot.i18n import SUPPORTED_LOCALES, I18n, resolve_locale


def _ids(catalog: object) -> set[object]:
    return {message.id for message in catalog if message.id}  # type: ignore[attr-defined]


def test_template_is_not_stale() -> None:
    fresh = catalogs.extract_template()
    committed = catalogs.read_catalog(catalogs.LOCALES / "messages.pot")
    missing = _ids(fresh) - _ids(committed)
    extra = _ids(committed) - _ids(fresh)
    assert not missing and not extra, f"run python -m bot.catalogs; new: {missing}, gone: {extra}"


@pytest.mark.parametrize("locale", catalogs.TRANSLATED)
def test_catalog_has_every_template_message(locale: str) -> None:
    template = catalogs.read_catalog(catalogs.LOCALES / "messages.pot")
    catalog = catalogs.read_catalog(catalogs.po_path(locale), locale)
    assert _ids(template) == _ids(catalog)


def _strings(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple | list) else [message.string]


@pytest.mark.parametrize("locale", catalogs.TRANSLATED)
def test_every_message_is_translated_with_its_placeholders(locale: str) -> None:
    catalog = catalogs.read_catalog(catalogs.po_path(locale), locale)
    problems: list[str] = []
    for message in catalog:
        if not message.id:
            continue
        ids = list(message.id) if isinstance(message.id, tuple | list) else [message.id]
        expected = set().union(*(catalogs.placeholders(i) for i in ids))
        strings = _strings(message)
        if message.fuzzy:
            problems.append(f"fuzzy: {ids[0]!r}")
        if isinstance(message.id, tuple | list) and len(strings) != catalog.num_plurals:
            problems.append(f"{len(strings)} plural forms, need {catalog.num_plurals}: {ids[0]!r}")
        for text in strings:
            if not text.strip():
                problems.append(f"untranslated: {ids[0]!r}")
            elif catalogs.placeholders(text) - expected:
                problems.append(f"unknown placeholder in {text!r} for {ids[0]!r}")
            elif (
                not isinstance(message.id, tuple | list)
                and catalogs.placeholders(text) != expected
            ):
                problems.append(f"placeholders {expected} changed in {text!r}")
        if isinstance(message.id, tuple | list):
            # A plural form may leave out {n} (Arabic's "one" and "two" spell the count out),
            # but together the forms must use every other placeholder.
            used = set().union(*(catalogs.placeholders(t) for t in strings))
            if expected - {"n"} - used:
                problems.append(f"dropped {expected - used} in {ids[0]!r}")
        if "<" in ids[0]:
            for text in strings:
                if _tags(text) != _tags(ids[0]):
                    problems.append(f"HTML tags differ in {text!r}")
    assert not problems, "\n".join(problems)


def _tags(text: str) -> list[str]:
    import re

    return sorted(re.findall(r"</?[a-z]+", text))


@pytest.mark.parametrize("locale", catalogs.TRANSLATED)
def test_compiled_catalog_is_current(locale: str) -> None:
    shipped = catalogs.po_path(locale).with_suffix(".mo").read_bytes()
    assert shipped == catalogs.compiled(locale), "run python -m bot.catalogs"


def test_translations_load_for_every_locale() -> None:
    i18n = I18n("en")
    for locale in SUPPORTED_LOCALES:
        tr = i18n.translator(locale)
        assert tr.locale == locale
    assert i18n.translator("ru")._("Please choose your language.") != (
        "Please choose your language."
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("en", "en"), ("en-US", "en"), ("ru", "ru"), ("zh-hans", "zh"), ("zh-hant", "zh"),
        ("zh-TW", "zh"), ("zh-HK", "zh"), ("ko", "ko"), ("ar", "ar"), ("ar-EG", "ar"),
        ("pt-br", "en"), ("de", "en"), (None, "en"), ("", "en"), ("xx-yy-zz", "en"),
    ],
)  # fmt: skip
def test_telegram_language_codes_resolve(code: str | None, expected: str) -> None:
    assert resolve_locale(code, "en") == expected


def test_default_language_is_used_for_unknown_codes() -> None:
    assert resolve_locale("de", "ru") == "ru"


def test_html_values_are_escaped_and_arabic_values_isolated() -> None:
    i18n = I18n("en")
    english = i18n.translator("en")._("Name: {name}", name="<b>Tom & Jerry</b>")
    assert english == "Name: &lt;b&gt;Tom &amp; Jerry&lt;/b&gt;"
    arabic = i18n.translator("ar")._("Name: {name}", name="Ivan")
    assert "\u2068Ivan\u2069" in arabic
    assert english != arabic
