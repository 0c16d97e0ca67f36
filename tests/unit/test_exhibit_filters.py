"""The catalogue's filters, pure: what a filter keeps, facets, counts, and the button code."""

from __future__ import annotations

from bot.domain.exhibit_filters import (
    ExhibitFacts,
    ExhibitFilter,
    Facets,
    count,
    trl_filter,
)

FACTS = [
    ExhibitFacts(frozenset({"energy.batteries"}), "A", 7, frozenset({"licence"})),
    ExhibitFacts(frozenset({"energy.batteries", "mfg.robotics"}), "B", 4, frozenset()),
    ExhibitFacts(frozenset({"env.water_treatment"}), "10", None, frozenset({"licence"})),
    ExhibitFacts(frozenset(), "2", 9, frozenset({"product"})),
]


def kept(chosen: ExhibitFilter) -> list[int]:
    return [n for n, f in enumerate(FACTS) if chosen.keeps(f)]


def test_each_dimension_and_their_combination() -> None:
    assert kept(ExhibitFilter()) == [0, 1, 2, 3]
    assert kept(ExhibitFilter(fields=frozenset({"energy.batteries"}))) == [0, 1]
    assert kept(ExhibitFilter(fields=frozenset({"mfg.robotics", "env.water_treatment"}))) == [1, 2]
    assert kept(ExhibitFilter(hall="B")) == [1]
    assert kept(ExhibitFilter(trl_min=5)) == [0, 3], "an exhibit without a TRL is left out"
    assert kept(ExhibitFilter(trl_min=4, trl_max=7)) == [0, 1]
    assert kept(ExhibitFilter(trl_max=4)) == [1]
    assert kept(ExhibitFilter(kind="licence")) == [0, 2]
    both = ExhibitFilter(fields=frozenset({"energy.batteries"}), kind="licence")
    assert kept(both) == [0]
    assert kept(both.without("k")) == [0, 1] and not ExhibitFilter().active and both.active


def test_trl_ranges_within_one_to_nine() -> None:
    assert trl_filter(ExhibitFilter(), 3, 6) == ExhibitFilter(trl_min=3, trl_max=6)
    assert trl_filter(ExhibitFilter(), 6, 3) is None
    assert trl_filter(ExhibitFilter(), 0, None) is None
    assert trl_filter(ExhibitFilter(), None, 10) is None


def test_facets_are_the_catalogues_values_in_a_stable_order() -> None:
    facets = Facets.of(FACTS)
    assert facets.halls == ("2", "10", "A", "B"), "hall 2 before hall 10"
    assert facets.fields == ("energy.batteries", "env.water_treatment", "mfg.robotics")
    assert facets.trls == (4, 7, 9)
    assert facets.kinds == ("licence", "product")
    assert Facets.of(reversed(FACTS)).fingerprint == facets.fingerprint
    assert Facets.of(FACTS[:3]).fingerprint != facets.fingerprint


def test_counts_leave_each_dimensions_own_choice_out() -> None:
    chosen = ExhibitFilter(hall="A")
    got = count(FACTS, chosen)
    assert got.halls == {"A": 1, "B": 1, "10": 1, "2": 1}, "other halls still count"
    assert got.fields == {"energy.batteries": 1}
    assert got.kinds == {"licence": 1}
    assert count(FACTS, ExhibitFilter()).trl_at_least(5) == 2
    assert count(FACTS, ExhibitFilter()).trl_between(4, 7) == 2


def test_the_button_code_round_trips_and_refuses_what_it_did_not_make() -> None:
    facets = Facets.of(FACTS)
    chosen = ExhibitFilter(
        fields=frozenset({"mfg.robotics"}), hall="10", trl_min=4, trl_max=None, kind="product"
    )
    code = facets.encode(chosen)
    assert code == "f2h1t49k1"
    assert facets.decode(code) == chosen
    assert facets.encode(ExhibitFilter()) == "" and facets.decode("") == ExhibitFilter()
    for forged in ("h9", "f3", "k2", "t91", "t19", "h0h1", "k0f0", "x1", "t4", "f01", "h1 "):
        assert facets.decode(forged) is None, forged
