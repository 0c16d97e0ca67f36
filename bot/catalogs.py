"""Maintain the gettext catalogs: extract the template, update and compile each language.

`python -m bot.catalogs` runs the whole cycle after strings change in the code; the tests use
the same functions to fail when a committed file is stale.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import sys
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
    catalog = read_catalog(po_path(locale), locale)
    # The .po files carry no dates (they would churn every run) and Babel fills missing ones
    # with the current time; fixed dates keep the .mo a pure function of the .po.
    catalog.creation_date = catalog.revision_date = FIXED_DATE
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


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
