"""Filters of the exhibits catalogue: by technology field, hall, TRL and deal kind.

Pure: the facts of each exhibit (its fields as the classifier proposed them, its hall, TRL and
deal kinds) in; which exhibits a filter keeps, the values the catalogue actually has (facets),
and how many exhibits each value would leave (counts) out. A filter travels in a chat button's
callback data as a short code of positions in the catalogue's facets (`encode`/`decode`),
checked against a fingerprint of those facets, so a button made before the catalogue changed is
refused instead of silently meaning another hall.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from bot.domain.matching import KINDS

TRL_LEVELS = tuple(range(1, 10))
# A chat's TRL menu: three bands, and "at least" each level the catalogue has.
TRL_BANDS = ((1, 3), (4, 6), (7, 9))
_CODE = re.compile(r"(?:f\d{1,3})*(?:h\d{1,3})?(?:t[1-9][1-9])?(?:k\d)?")
_PART = re.compile(r"([fhtk])(\d+)")


@dataclass(frozen=True)
class ExhibitFacts:
    """What the filters look at in one exhibit."""

    fields: frozenset[str] = frozenset()
    hall: str | None = None
    trl: int | None = None
    kinds: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ExhibitFilter:
    """A choice of filters; an empty one keeps everything. Several fields: any of them."""

    fields: frozenset[str] = frozenset()
    hall: str | None = None
    trl_min: int | None = None
    trl_max: int | None = None
    kind: str | None = None

    @property
    def active(self) -> bool:
        """Whether anything is filtered."""
        return self != ExhibitFilter()

    @property
    def has_trl(self) -> bool:
        """Whether a TRL range or minimum is set."""
        return self.trl_min is not None or self.trl_max is not None

    def keeps(self, facts: ExhibitFacts, *, ignore: str | None = None) -> bool:
        """Whether an exhibit passes; `ignore` leaves one dimension (f, h, t, k) out."""
        if ignore != "f" and self.fields and not self.fields & facts.fields:
            return False
        if ignore != "h" and self.hall is not None and facts.hall != self.hall:
            return False
        if ignore != "t" and self.has_trl:
            if facts.trl is None:
                return False
            if self.trl_min is not None and facts.trl < self.trl_min:
                return False
            if self.trl_max is not None and facts.trl > self.trl_max:
                return False
        return not (ignore != "k" and self.kind is not None and self.kind not in facts.kinds)

    def without(self, dimension: str) -> ExhibitFilter:
        """The same filter with one dimension (f, h, t, k) cleared."""
        cleared: dict[str, object] = {
            "f": {"fields": frozenset()},
            "h": {"hall": None},
            "t": {"trl_min": None, "trl_max": None},
            "k": {"kind": None},
        }[dimension]  # type: ignore[assignment]
        return replace(self, **cleared)  # type: ignore[arg-type]


def trl_filter(base: ExhibitFilter, low: int | None, high: int | None) -> ExhibitFilter | None:
    """`base` with a TRL range (either end open); None when the range is not within 1..9."""
    for level in (low, high):
        if level is not None and level not in TRL_LEVELS:
            return None
    if low is not None and high is not None and low > high:
        return None
    return replace(base, trl_min=low, trl_max=high)


def _hall_key(hall: str) -> tuple[object, ...]:
    # Natural order: hall 2 before hall 10.
    return tuple(int(p) if p.isdigit() else p.casefold() for p in re.split(r"(\d+)", hall))


@dataclass(frozen=True)
class Facets:
    """The values the catalogue has, in a stable order (the positions chat buttons name)."""

    fields: tuple[str, ...] = ()
    halls: tuple[str, ...] = ()
    trls: tuple[int, ...] = ()
    kinds: tuple[str, ...] = ()

    @classmethod
    def of(cls, facts: Iterable[ExhibitFacts]) -> Facets:
        """The facets of a catalogue."""
        fields: set[str] = set()
        halls: set[str] = set()
        trls: set[int] = set()
        kinds: set[str] = set()
        for f in facts:
            fields |= f.fields
            if f.hall:
                halls.add(f.hall)
            if f.trl is not None:
                trls.add(f.trl)
            kinds |= f.kinds
        return cls(
            fields=tuple(sorted(fields)),
            halls=tuple(sorted(halls, key=_hall_key)),
            trls=tuple(sorted(trls)),
            kinds=tuple(k for k in KINDS if k in kinds),
        )

    @property
    def fingerprint(self) -> str:
        """Four characters that change when the facets change."""
        text = "\x1f".join(["|".join(self.fields), "|".join(self.halls), "|".join(self.kinds)])
        return hashlib.blake2s(text.encode(), digest_size=3).hexdigest()[:4]

    def encode(self, chosen: ExhibitFilter) -> str:
        """A filter as a short code of positions ("f3h1t49k0"); "" for no filter."""
        parts = [f"f{self.fields.index(c)}" for c in sorted(chosen.fields) if c in self.fields]
        if chosen.hall in self.halls:
            parts.append(f"h{self.halls.index(chosen.hall)}")  # type: ignore[arg-type]
        if chosen.has_trl:
            parts.append(f"t{chosen.trl_min or 1}{chosen.trl_max or 9}")
        if chosen.kind in self.kinds:
            parts.append(f"k{self.kinds.index(chosen.kind)}")  # type: ignore[arg-type]
        return "".join(parts)

    def decode(self, code: str) -> ExhibitFilter | None:
        """The filter a code names; None for one these facets did not make (forged, stale)."""
        if not _CODE.fullmatch(code):
            return None
        fields: set[str] = set()
        chosen = ExhibitFilter()
        for letter, digits in _PART.findall(code):
            n = int(digits)
            if letter == "f":
                if n >= len(self.fields):
                    return None
                fields.add(self.fields[n])
            elif letter == "h":
                if n >= len(self.halls):
                    return None
                chosen = replace(chosen, hall=self.halls[n])
            elif letter == "t":
                low, high = divmod(n, 10)
                got = trl_filter(chosen, None if low == 1 else low, None if high == 9 else high)
                if got is None or not got.has_trl:
                    return None
                chosen = got
            elif letter == "k":
                if n >= len(self.kinds):
                    return None
                chosen = replace(chosen, kind=self.kinds[n])
        chosen = replace(chosen, fields=frozenset(fields))
        # One spelling per filter: anything else was not made by encode.
        return chosen if self.encode(chosen) == code else None


@dataclass(frozen=True)
class FacetCounts:
    """Per value, how many exhibits the filter would keep if that value were chosen."""

    fields: Mapping[str, int] = field(default_factory=dict)
    halls: Mapping[str, int] = field(default_factory=dict)
    trls: Mapping[int, int] = field(default_factory=dict)
    kinds: Mapping[str, int] = field(default_factory=dict)

    def trl_at_least(self, level: int) -> int:
        """Exhibits at this TRL or above."""
        return sum(n for trl, n in self.trls.items() if trl >= level)

    def trl_between(self, low: int, high: int) -> int:
        """Exhibits with a TRL in low..high."""
        return sum(n for trl, n in self.trls.items() if low <= trl <= high)


def count(facts: Sequence[ExhibitFacts], chosen: ExhibitFilter) -> FacetCounts:
    """Counts for each dimension with the other dimensions' choices applied (faceted search)."""
    fields: dict[str, int] = {}
    halls: dict[str, int] = {}
    trls: dict[int, int] = {}
    kinds: dict[str, int] = {}
    for f in facts:
        if chosen.keeps(f, ignore="f"):
            for code in f.fields:
                fields[code] = fields.get(code, 0) + 1
        if f.hall and chosen.keeps(f, ignore="h"):
            halls[f.hall] = halls.get(f.hall, 0) + 1
        if f.trl is not None and chosen.keeps(f, ignore="t"):
            trls[f.trl] = trls.get(f.trl, 0) + 1
        if chosen.keeps(f, ignore="k"):
            for kind in f.kinds:
                kinds[kind] = kinds.get(kind, 0) + 1
    return FacetCounts(fields, halls, trls, kinds)
