"""The catalogue's filter buttons in the chat: what each reads, and where each press leads.

A results message carries its whole state in its buttons' callback data (`SearchState`): which
search (a digest of the text, kept with the text in the chat's memory), which catalogue (the
facets' fingerprint), the filter (positions in the facets) and the page. A press whose state
does not check out (forged, or made before the catalogue or the search changed) is refused.
Nothing here sends anything: handlers/exhibits.py renders and answers.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, replace
from typing import Any

from bot.domain.exhibit_filters import TRL_BANDS, ExhibitFilter, FacetCounts, Facets
from bot.domain.taxonomy import Taxonomy
from bot.i18n import Translator, joined
from handlers.common import Buttons, chunk

QUERIES = "exhibit_queries"  # user_data: digest -> search text, for the buttons of results
KEPT_QUERIES = 20
MENU_CHOICES = 16  # values a menu lists (the ones leaving most exhibits)
DIMENSIONS = ("f", "h", "t", "k")
_STATE = re.compile(r"([0-9a-f]{4})([0-9a-f]{4})_([a-z0-9]{0,24})_(\d{1,5})")

MakeData = Callable[[str, str], str]  # (action, argument) -> callback data


def query_digest(text: str) -> str:
    """Four characters naming a search text in callback data."""
    return hashlib.blake2s(text.encode(), digest_size=2).hexdigest()


def remember_query(user_data: MutableMapping[Any, Any] | None, text: str) -> None:
    """Keep the text behind a digest, so the buttons of its results can be pressed later."""
    if user_data is None:
        return
    kept: dict[str, str] = user_data.setdefault(QUERIES, {})
    kept.pop(query_digest(text), None)
    kept[query_digest(text)] = text
    while len(kept) > KEPT_QUERIES:
        kept.pop(next(iter(kept)))


@dataclass(frozen=True)
class SearchState:
    """What a results message shows: the search, the filter, the page."""

    text: str
    chosen: ExhibitFilter
    offset: int
    facets: Facets

    def arg(self, chosen: ExhibitFilter | None = None, offset: int | None = None) -> str:
        """Callback argument of this state, or of it with another filter or page."""
        code = self.facets.encode(self.chosen if chosen is None else chosen)
        at = self.offset if offset is None else offset
        return f"{query_digest(self.text)}{self.facets.fingerprint}_{code}_{at}"


def read_state(
    arg: str, facets: Facets, user_data: MutableMapping[Any, Any] | None
) -> SearchState | None:
    """The state a button names; None when it does not check out (forged or stale)."""
    match = _STATE.fullmatch(arg)
    if match is None:
        return None
    digest, fingerprint, code, offset = match.groups()
    if fingerprint != facets.fingerprint:
        return None
    text = "" if digest == query_digest("") else (user_data or {}).get(QUERIES, {}).get(digest)
    chosen = facets.decode(code)
    if text is None or chosen is None:
        return None
    return SearchState(text, chosen, int(offset), facets)


def trl_text(chosen: ExhibitFilter, tr: Translator) -> str:
    """The TRL part of a filter as words."""
    low, high = chosen.trl_min, chosen.trl_max
    if low is not None and high is not None:
        if low == high:
            return tr.label("TRL {level}", level=low)
        return tr.label("TRL {low}–{high}", low=low, high=high)
    if low is not None:
        return tr.label("TRL {level} or higher", level=low)
    return tr.label("TRL {level} or lower", level=high)


def hall_text(hall: str, tr: Translator) -> str:
    """A hall as a filter names it."""
    return tr.label("Hall {hall}", hall=hall)


def filter_parts(chosen: ExhibitFilter, tr: Translator, taxonomy: Taxonomy) -> list[str]:
    """Each active filter as words, in the reader's language (plain text)."""
    parts = [taxonomy.name(code, tr.locale) for code in sorted(chosen.fields)]
    if chosen.hall is not None:
        parts.append(hall_text(chosen.hall, tr))
    if chosen.has_trl:
        parts.append(trl_text(chosen, tr))
    if chosen.kind is not None:
        parts.append(taxonomy.name(chosen.kind, tr.locale))
    return parts


def filters_line(chosen: ExhibitFilter, tr: Translator, taxonomy: Taxonomy) -> str | None:
    """ "Filters: Batteries, hall A" for the message (HTML), or None without filters."""
    parts = filter_parts(chosen, tr, taxonomy)
    if not parts:
        return None
    return tr._("Filters: {filters}", filters=joined(parts, tr))


def filter_row(state: SearchState, tr: Translator, make: MakeData) -> Buttons:
    """The buttons opening each filter's menu (dimensions the catalogue has), and Clear."""
    facets = state.facets
    have = {"f": facets.fields, "h": facets.halls, "t": facets.trls, "k": facets.kinds}
    names = {
        # Translators: a button of /search results: filter by technology field.
        "f": tr.label("🔬 Field"),
        # Translators: a button of /search results: filter by exhibition hall.
        "h": tr.label("🏛 Hall"),
        # Translators: a button of /search results: filter by technology readiness level.
        "t": tr.label("📶 TRL"),
        # Translators: a button of /search results: filter by the kind of deal sought.
        "k": tr.label("🤝 Deal kind"),
    }
    buttons = [(names[d], make("menu", d + state.arg())) for d in DIMENSIONS if have[d]]
    rows = chunk(buttons, 4 if len(buttons) == 4 and not tr.is_rtl else 2)
    if state.chosen.active:
        rows.append([(tr.label("✖ Clear filters"), make("more", state.arg(ExhibitFilter(), 0)))])
    return rows


def _choice(label: str, n: int, tr: Translator, selected: bool) -> str:
    # Translators: a filter choice and how many exhibits it leaves, "Batteries (12)".
    text = tr.label("{value} ({count})", value=label, count=n)
    return "✓ " + text if selected else text


def menu(
    dimension: str,
    state: SearchState,
    counts: FacetCounts,
    tr: Translator,
    taxonomy: Taxonomy,
    make: MakeData,
) -> tuple[str, Buttons]:
    """The prompt and the choices of one filter: values that leave exhibits, Any, Back."""
    chosen, facets = state.chosen, state.facets
    buttons: list[tuple[str, str]] = []

    def go(new: ExhibitFilter) -> str:
        return make("more", state.arg(new, 0))

    if dimension == "f":
        prompt = tr._("Choose a technology field:")
        ranked = sorted(counts.fields.items(), key=lambda kv: (-kv[1], kv[0]))[:MENU_CHOICES]
        for code, n in sorted(ranked, key=lambda kv: taxonomy.name(kv[0], tr.locale)):
            if code in facets.fields:
                new = replace(chosen, fields=frozenset([code]))
                label = _choice(taxonomy.name(code, tr.locale), n, tr, code in chosen.fields)
                buttons.append((label, go(new)))
    elif dimension == "h":
        prompt = tr._("Choose a hall:")
        for hall in facets.halls:
            n = counts.halls.get(hall, 0)
            if n:
                new = replace(chosen, hall=hall)
                buttons.append((_choice(hall_text(hall, tr), n, tr, chosen.hall == hall), go(new)))
    elif dimension == "t":
        prompt = tr._("Choose a technology readiness level (TRL):")
        for low, high in TRL_BANDS:
            n = counts.trl_between(low, high)
            if n:
                new = replace(chosen, trl_min=low, trl_max=high)
                selected = (chosen.trl_min or 1, chosen.trl_max or 9) == (low, high)
                buttons.append((_choice(trl_text(new, tr), n, tr, selected), go(new)))
        for level in facets.trls[1:]:
            n = counts.trl_at_least(level)
            if n:
                new = replace(chosen, trl_min=level, trl_max=None)
                selected = chosen.trl_min == level and chosen.trl_max is None
                buttons.append((_choice(trl_text(new, tr), n, tr, selected), go(new)))
    else:
        prompt = tr._("Choose a kind of deal:")
        for kind in facets.kinds:
            n = counts.kinds.get(kind, 0)
            if n:
                new = replace(chosen, kind=kind)
                label = _choice(taxonomy.name(kind, tr.locale), n, tr, chosen.kind == kind)
                buttons.append((label, go(new)))
    rows = chunk(buttons, 2)
    last = [
        # Translators: a filter choice that keeps every value (any field, any hall...).
        (tr.label("Any"), go(chosen.without(dimension))),
        (tr.label("◀ Back"), make("more", state.arg())),
    ]
    return prompt, [*rows, last]
