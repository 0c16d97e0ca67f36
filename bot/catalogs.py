"""Maintain the gettext catalogs: extract the template, update and compile each language.

`python -m bot.catalogs` runs the whole cycle after strings change in the code; the tests use
the same functions to fail when a committed file is stale.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from bot.i18n import SUPPORTED_LOCALES

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
KEYWORDS = {"_": None, "label": None, "N_": None, "ngettext": (1, 2)}
TRANSLATED = tuple(code for code in SUPPORTED_LOCALES if code != "en")
FIXED_DATE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def extract_template(root: Path = ROOT) -> Catalog:
    """Extract every marked string from the source tree into a fresh template."""
    catalog = Catalog(project="matchmaker", version="1", fuzzy=False)
    with (root / "locales" / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)  # type: ignore[no-untyped-call]
    for filename, _lineno, message, comments, context in extract_from_dir(
        str(root),
        method_map,
        options_map,
        keywords=KEYWORDS,
        comment_tags=("Translators:",),
        strip_comment_tags=True,
    ):
        catalog.add(message, None, [(filename, 0)], auto_comments=comments, context=context)
    return catalog


def _write(catalog: Catalog, path: Path) -> None:
    buffer = io.BytesIO()
    write_po(buffer, catalog, omit_header=False, no_location=True, sort_output=True, width=99)
    # Drop the creation date so unchanged catalogs produce byte-identical files.
    text = re.sub(rb'"POT-Creation-Date: [^"]*\\n"\n', b"", buffer.getvalue())
    text = re.sub(rb'"PO-Revision-Date: [^"]*\\n"\n', b"", text)
    path.write_bytes(text)


def po_path(locale: str) -> Path:
    """The .po file of a locale."""
    return LOCALES / locale / "LC_MESSAGES" / "messages.po"


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    """Read a .po or .pot file."""
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def update_all() -> None:
    """Rewrite the template and merge it into every language's catalog."""
    template = extract_template()
    _write(template, LOCALES / "messages.pot")
    for locale in TRANSLATED:
        path = po_path(locale)
        if path.exists():
            catalog = read_catalog(path, locale)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=locale, project="matchmaker", version="1")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.fuzzy = False
        catalog.obsolete.clear()
        _write(catalog, path)


def compiled(locale: str) -> bytes:
    """The .mo bytes the locale's .po compiles to."""
    return compile_catalog(read_catalog(po_path(locale), locale))


def compile_catalog(catalog: Catalog) -> bytes:
    """The .mo bytes of a catalog, without its fuzzy entries."""
    # The .po files carry no dates (they would churn every run) and Babel fills missing ones
    # with the current time; fixed dates keep the .mo a pure function of the .po.
    catalog.creation_date = catalog.revision_date = FIXED_DATE
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


# The header fields the bot's gettext reads; everything else in the header (the generator's name,
# dates, the translator) differs between Babel releases and says nothing about the messages.
HEADERS_READ = ("content-type", "language", "plural-forms")
_MO_MAGIC = {b"\xde\x12\x04\x95": "<", b"\x95\x04\x12\xde": ">"}


@dataclass(frozen=True)
class CompiledContent:
    """What a compiled catalog means to gettext: its messages and the header fields read."""

    messages: dict[bytes, bytes]
    headers: dict[str, str]


def mo_entries(data: bytes) -> dict[bytes, bytes]:
    """The raw (id, translation) pairs of a .mo file, the header included under b"".

    Ids carry their context (``context\\x04id``) and plural ids their plural (``one\\x00many``),
    as GNU gettext stores them; see the MO format in the gettext manual.
    """
    order = _MO_MAGIC.get(data[:4])
    if order is None:
        raise ValueError("not a compiled gettext catalog")
    _revision, count, ids_at, strings_at = struct.unpack(order + "4I", data[4:20])
    entries: dict[bytes, bytes] = {}
    for index in range(count):
        id_length, id_offset = struct.unpack_from(order + "2I", data, ids_at + 8 * index)
        text_length, text_offset = struct.unpack_from(order + "2I", data, strings_at + 8 * index)
        if id_offset + id_length > len(data) or text_offset + text_length > len(data):
            raise ValueError("truncated compiled catalog")
        entries[data[id_offset : id_offset + id_length]] = data[
            text_offset : text_offset + text_length
        ]
    return entries


def compiled_content(data: bytes) -> CompiledContent:
    """Parse a .mo file into what matters: messages, translations, plural forms, read headers."""
    entries = mo_entries(data)
    header = entries.pop(b"", b"").decode("utf-8")
    fields: dict[str, str] = {}
    for line in header.splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() in HEADERS_READ:
            fields[name.strip().lower()] = " ".join(value.split())
    return CompiledContent(messages=entries, headers=fields)


def compiled_differences(shipped: bytes, expected: bytes) -> list[str]:
    """How a shipped .mo differs in meaning from the one its .po compiles to (empty: current)."""
    have, want = compiled_content(shipped), compiled_content(expected)
    problems: list[str] = []
    for key in sorted(want.messages.keys() - have.messages.keys()):
        problems.append(f"not compiled: {key[:60]!r}")
    for key in sorted(have.messages.keys() - want.messages.keys()):
        problems.append(f"no longer in the .po: {key[:60]!r}")
    for key in sorted(have.messages.keys() & want.messages.keys()):
        if have.messages[key] != want.messages[key]:
            problems.append(f"translation changed: {key[:60]!r}")
    for field in HEADERS_READ:
        if have.headers.get(field) != want.headers.get(field):
            problems.append(
                f"header {field}: {have.headers.get(field)!r} != {want.headers.get(field)!r}"
            )
    return problems


def stale_compiled(locale: str) -> list[str]:
    """Why the shipped .mo of a locale is stale (empty when it says what its .po says)."""
    shipped = po_path(locale).with_suffix(".mo").read_bytes()
    return compiled_differences(shipped, compiled(locale))


def template_differences(fresh: Catalog, committed: Catalog) -> list[str]:
    """Messages the code has and the committed template lacks, and the other way round."""

    def ids(catalog: Catalog) -> set[tuple[object, str | None]]:
        return {(message.id, message.context) for message in catalog if message.id}

    new, gone = ids(fresh) - ids(committed), ids(committed) - ids(fresh)
    return [f"not extracted: {i!r}" for i, _ in sorted(new, key=repr)] + [
        f"no longer in the code: {i!r}" for i, _ in sorted(gone, key=repr)
    ]


def compile_all() -> None:
    """Compile every .po into the .mo shipped in the package."""
    for locale in TRANSLATED:
        po_path(locale).with_suffix(".mo").write_bytes(compiled(locale))


def placeholders(text: str) -> set[str]:
    """The named {placeholders} in a message."""
    return set(PLACEHOLDER.findall(text))


def main() -> int:
    """Update and compile all catalogs."""
    update_all()
    compile_all()
    sys.stderr.write("catalogs updated and compiled\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
