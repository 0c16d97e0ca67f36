"""The catalogs: complete, consistent with the code, compiled, placeholders intact."""

from __future__ import annotations

import re
import shutil
import struct
from pathlib import Path

import pytest
from babel.messages.catalog import Message

from bot import catalogs
from bot.i18n import SUPPORTED_LOCALES, I18n, clauses, resolve_locale, without_bidi_marks


def _ids(catalog: object) -> set[object]:
    return {message.id for message in catalog if message.id}  # type: ignore[attr-defined]


def test_template_is_not_stale() -> None:
    fresh = catalogs.extract_template()
    committed = catalogs.read_catalog(catalogs.LOCALES / "messages.pot")
    problems = catalogs.template_differences(fresh, committed)
    assert not problems, "run python -m bot.catalogs\n" + "\n".join(problems)


def test_a_message_added_to_the_code_and_not_extracted_is_stale(tmp_path: Path) -> None:
    for package in ("bot", "handlers", "storage"):
        shutil.copytree(catalogs.ROOT / package, tmp_path / package)
    (tmp_path / "locales").mkdir()
    shutil.copy(catalogs.LOCALES / "babel.cfg", tmp_path / "locales" / "babel.cfg")
    (tmp_path / "handlers" / "brand_new.py").write_text(
        'def hello(tr):\n    return tr._("A greeting nobody has extracted yet")\n', "utf-8"
    )
    committed = catalogs.read_catalog(catalogs.LOCALES / "messages.pot")
    assert catalogs.template_differences(catalogs.extract_template(tmp_path), committed) == [
        "not extracted: 'A greeting nobody has extracted yet'"
    ]


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
    # Meaning, not bytes: another Babel release writes another generator name and layout.
    problems = catalogs.stale_compiled(locale)
    assert not problems, "run python -m bot.catalogs\n" + "\n".join(problems)


def _write_mo(entries: dict[bytes, bytes]) -> bytes:
    """A .mo file as GNU msgfmt lays it out (ids sorted, no hash table): another generator."""
    keys = sorted(entries)
    ids_at = 28
    strings_at = ids_at + 8 * len(keys)
    data_at = strings_at + 8 * len(keys)
    tables, blob = [b"", b""], b""
    for key in keys:
        for column, value in enumerate((key, entries[key])):
            tables[column] += struct.pack("<2I", len(value), data_at + len(blob))
            blob += value + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, len(keys), ids_at, strings_at, 0, 0)
    return header + tables[0] + tables[1] + blob


@pytest.mark.parametrize("locale", catalogs.TRANSLATED)
def test_a_newer_generator_header_still_counts_as_current(locale: str) -> None:
    entries = catalogs.mo_entries(catalogs.compiled(locale))
    fields = entries[b""].decode().splitlines()
    rewritten = [
        "Generated-By: Babel 99.1.0" if line.startswith("Generated-By") else line
        for line in fields
        if not line.startswith(("POT-Creation-Date", "PO-Revision-Date"))
    ]
    rewritten += ["POT-Creation-Date: 2031-07-04 10:00+0000", "X-Generator: msgfmt 0.99"]
    entries[b""] = "\n".join(reversed(rewritten)).encode() + b"\n"
    newer = _write_mo(entries)
    assert newer != catalogs.compiled(locale)
    assert catalogs.compiled_differences(newer, catalogs.compiled(locale)) == []


def test_a_translation_changed_in_the_po_and_not_compiled_is_stale() -> None:
    shipped = catalogs.compiled("ru")
    catalog = catalogs.read_catalog(catalogs.po_path("ru"), "ru")
    message = catalog["Please choose your language."]
    assert message is not None
    message.string = "Выберите, пожалуйста, язык интерфейса."
    assert catalogs.compiled_differences(shipped, catalogs.compile_catalog(catalog)) == [
        "translation changed: b'Please choose your language.'"
    ]


def test_a_message_missing_from_the_compiled_catalog_is_stale() -> None:
    catalog = catalogs.read_catalog(catalogs.po_path("ko"), "ko")
    catalog.add("A greeting nobody has compiled yet", "아직 컴파일되지 않은 인사말")
    problems = catalogs.compiled_differences(
        catalogs.compiled("ko"), catalogs.compile_catalog(catalog)
    )
    assert problems == ["not compiled: b'A greeting nobody has compiled yet'"]


def test_changed_plural_forms_are_stale() -> None:
    catalog = catalogs.read_catalog(catalogs.po_path("ar"), "ar")
    expected = catalogs.compile_catalog(catalog)
    entries = catalogs.mo_entries(expected)
    entries[b""] = re.sub(rb"Plural-Forms: [^\n]*", b"Plural-Forms: nplurals=2; plural=(n != 1);",
                          entries[b""])  # fmt: skip
    problems = catalogs.compiled_differences(_write_mo(entries), expected)
    assert len(problems) == 1 and problems[0].startswith("header plural-forms")


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


@pytest.mark.parametrize("locale", ["en", "ru", "zh", "ko"])
def test_right_to_left_names_are_isolated_in_every_language(locale: str) -> None:
    tr = I18n("en").translator(locale)
    text = tr._("Name: {name}", name="أحمد المنصوري")
    assert "\u2068أحمد المنصوري\u2069" in text
    assert "\u2068" in tr._("Name: {name}", name="Eve\u202e")  # a typed override is contained
    assert without_bidi_marks(text) == tr._("Name: {name}", name="x").replace("x", "أحمد المنصوري")


@pytest.mark.parametrize(
    ("locale", "expected"), [("en", "A; B"), ("ru", "A; B"), ("ar", "A؛ B"), ("zh", "A；B")]
)
def test_clauses_are_joined_with_the_readers_semicolon(locale: str, expected: str) -> None:
    assert clauses(["A", "", "B"], I18n("en").translator(locale)) == expected
