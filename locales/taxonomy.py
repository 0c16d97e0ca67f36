"""Load the packaged technology taxonomy (locales/taxonomy.json)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files

from bot.domain.taxonomy import Taxonomy, TaxonomyError, parse_taxonomy


@lru_cache(maxsize=1)
def load_taxonomy() -> Taxonomy:
    """Read, validate and return the taxonomy shipped with the package (cached)."""
    raw = files("locales").joinpath("taxonomy.json").read_text(encoding="utf-8")
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise TaxonomyError("taxonomy.json: expected an object at the top level")
    return parse_taxonomy(data)
