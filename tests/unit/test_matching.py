"""Matches a person would agree with, from the index and from the plain pairwise scorer."""

from __future__ import annotations

import pytest

from bot.domain.classifier import Classifier
from bot.domain.matching import (
    Analyzer,
    Candidate,
    Item,
    Match,
    MatchIndex,
    Reason,
    rank_counterparts,
)
from bot.formats.match_reasons import reason_plain
from bot.i18n import I18n
from locales.taxonomy import load_taxonomy


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(Classifier(load_taxonomy()))


def delegate(
    key: str,
    *,
    offer: str = "",
    need: str = "",
    org: str | None = None,
    role: str = "company",
    langs: str = "en",
    consent: bool = True,
    offer_fields: tuple[str, ...] = (),
) -> Candidate:
    items: list[Item] = []
    if offer or offer_fields:
        items.append(Item(f"{key}-o", key, "offer", offer, offer_fields))
    if need:
        items.append(Item(f"{key}-n", key, "need", need))
    return Candidate(
        key, org or f"Org of {key}", role, frozenset(langs.split()), consent, tuple(items)
    )


def by_key(matches: list[Match]) -> dict[str, Match]:
    return {m.key: m for m in matches}


def test_cross_language_pairs_find_each_other(analyzer: Analyzer) -> None:
    people = [
        delegate("ru", need="Ищем геотермальные тепловые насосы для отопления", langs="ru"),
        delegate("zh", offer="地源热泵供暖系统", langs="zh"),
        delegate("ko", offer="태양광 패널을 공급합니다", langs="ko"),
        delegate("ar", need="نبحث عن ألواح شمسية", langs="ar"),
    ]
    index = MatchIndex(people, analyzer=analyzer)
    assert index.top("ru")[0].key == "zh"
    assert index.top("ru")[0].direction == "they_offer"
    assert index.top("ar")[0].key == "ko"
    assert index.top("ko")[0].key == "ar"
    assert index.top("ko")[0].direction == "they_need"


def test_specific_field_beats_broad_field(analyzer: Analyzer) -> None:
    people = [
        delegate("me", need="Grow lights for greenhouses"),
        delegate("exact", offer="温室植物生长LED补光灯"),
        delegate("broad", offer="Tractors and combine harvesters"),  # agriculture, other field
    ]
    ranked = by_key(MatchIndex(people, analyzer=analyzer).top("me"))
    assert (
        ranked["exact"].score
        > ranked.get("broad", Match("", 0.0, "both", (), None, None, frozenset())).score
    )
    if "broad" in ranked:
        assert ranked["broad"].reasons[0].kind == "same_broad_field"
        assert ranked["broad"].score < 0.5


def test_never_self_same_organization_or_without_consent(analyzer: Analyzer) -> None:
    people = [
        delegate("me", need="Solar panels", org="Tomsk Polytechnic"),
        delegate("colleague", offer="Solar panels", org="  tomsk polytechnic "),
        delegate("hidden", offer="Solar panels", consent=False),
        delegate("visible", offer="Solar panels"),
        delegate("me2", offer="Solar panels", org="Tomsk Polytechnic"),
    ]
    index = MatchIndex(people, analyzer=analyzer)
    assert [m.key for m in index.top("me")] == ["visible"]
    plain = rank_counterparts(people[0], people, analyzer=analyzer)
    assert [m.key for m in plain] == ["visible"]


def test_directions_are_symmetric(analyzer: Analyzer) -> None:
    people = [
        delegate("a", offer="Wastewater treatment plants", need="Wind turbines"),
        delegate("b", offer="风力发电机组", need="污水处理"),
        delegate("c", offer="Ветрогенераторы"),
        delegate("d", need="Очистка сточных вод"),
    ]
    index = MatchIndex(people, analyzer=analyzer)
    seen_by_a = by_key(index.top("a"))
    assert seen_by_a["b"].direction == "both"
    assert seen_by_a["c"].direction == "they_offer"
    assert seen_by_a["d"].direction == "they_need"
    assert by_key(index.top("d"))["a"].direction == "they_offer"
    assert by_key(index.top("c"))["a"].direction == "they_need"
    assert by_key(index.top("b"))["a"].direction == "both"
    # the mutual match ranks first and names the items of the best pair
    assert index.top("a")[0].key == "b"
    assert {seen_by_a["c"].my_item, seen_by_a["c"].their_item} == {"a-n", "c-o"}


def test_scores_and_reasons(analyzer: Analyzer) -> None:
    taxonomy = analyzer.taxonomy
    people = [
        delegate("me", need="CT scanners", langs="en ru"),
        delegate("them", offer="Компьютерные томографы", langs="ru"),
    ]
    match = MatchIndex(people, analyzer=analyzer).top("me")[0]
    assert 0.0 <= match.score <= 1.0
    assert match.shared_languages == {"ru"}
    kinds = [r.kind for r in match.reasons]
    assert kinds == ["same_field", "common_language"]
    assert match.reasons[0] == Reason("same_field", "they_offer", ("med.imaging",))
    english = I18n("en").translator("en")
    texts = [reason_plain(r, english, taxonomy) for r in match.reasons]
    assert texts == [
        "Their offer answers your need: Medical imaging",
        "You can meet in Russian",
    ]


def test_shared_language_breaks_ties(analyzer: Analyzer) -> None:
    people = [
        delegate("me", need="Hearing aids", langs="ru"),
        delegate("far", offer="Hearing aids", langs="zh"),
        delegate("near", offer="Hearing aids", langs="ru en"),
    ]
    assert [m.key for m in MatchIndex(people, analyzer=analyzer).top("me")] == ["near", "far"]


def test_investors_meet_projects_seeking_investment(analyzer: Analyzer) -> None:
    people = [
        delegate("startup", offer="Perovskite solar cells", need="Looking for investors"),
        delegate("vc", role="investor", need="Clean energy projects: solar, wind, storage"),
        delegate("vc2", role="investor", need="Biotech and pharmaceuticals"),
        delegate("maker", offer="Solar panel laminators"),
    ]
    index = MatchIndex(people, analyzer=analyzer)
    ranked = index.top("startup", directions={"they_offer", "both"})
    assert [m.key for m in ranked][:2] == ["vc", "vc2"]
    assert ranked[0].reasons[0].kind == "investor"
    assert ranked[0].their_item is None
    seen_by_vc = by_key(index.top("vc"))
    # the startup needs money (they_need) and offers what the fund looks for (they_offer)
    assert seen_by_vc["startup"].direction == "both"
    assert Reason("seeks_investment", "they_need", ("energy.solar_pv",)) in (
        seen_by_vc["startup"].reasons
    )
    # a need for money is not answered by someone selling solar equipment
    assert "maker" not in by_key(ranked)


def test_confirmed_fields_replace_classification(analyzer: Analyzer) -> None:
    people = [
        delegate("me", need="Heat pumps"),
        delegate(
            "vague", offer="Our flagship product", offer_fields=("energy.geothermal_heat_pumps",)
        ),
    ]
    match = MatchIndex(people, analyzer=analyzer).top("me")[0]
    assert match.key == "vague"
    assert match.reasons[0].codes == ("energy.geothermal_heat_pumps",)


def test_transliterated_names_meet(analyzer: Analyzer) -> None:
    people = [
        delegate("me", need="Partners from Tomsk"),
        delegate("ru", offer="Лаборатория из Томска"),
        delegate("other", offer="Laboratory in Kazan"),
    ]
    ranked = MatchIndex(people, analyzer=analyzer).top("me")
    assert ranked and ranked[0].key == "ru"
    assert ranked[0].reasons[0].kind == "similar_wording"


def test_index_matches_plain_scorer_and_updates_in_place(analyzer: Analyzer) -> None:
    people = [
        delegate("a", offer="Drip irrigation", need="Solar water pumps", langs="en zh"),
        delegate("b", offer="光伏水泵", need="滴灌设备", langs="zh"),
        delegate("c", offer="Капельное орошение", langs="ru"),
        delegate("d", offer="Greenhouse films", need="Irrigation controllers"),
        delegate("e", role="agency", need="Ищем дистрибьюторов", langs="ru"),
    ]
    index = MatchIndex(people, analyzer=analyzer)
    for person in people:
        assert index.top(person.key) == rank_counterparts(person, people, analyzer=analyzer)

    changed = delegate("c", offer="Ветрогенераторы", langs="ru")
    index.upsert(changed)
    assert "c" not in by_key(index.top("b"))
    people[2] = changed
    assert index.top("b") == rank_counterparts(people[1], people, analyzer=analyzer)

    index.remove("b")
    assert "b" not in by_key(index.top("a"))
    assert index.top("b") == []
    assert len(index) == 4
