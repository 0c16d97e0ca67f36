"""The semantic layer: encoders, the vector index, fusion and partnering rules."""

from __future__ import annotations

import numpy as np
import pytest

from bot.domain.classifier import Classifier
from bot.domain.encoding import HashEncoder, VectorIndex, normalize_rows, text_key
from bot.domain.matching import (
    Analyzer,
    Candidate,
    Fusion,
    Item,
    MatchIndex,
    closest_phrase,
    rank_counterparts,
)
from bot.domain.partnering import resources
from bot.encoders import UseEncoder, make_encoder, matcher_name
from locales.taxonomy import load_taxonomy


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(load_taxonomy())


def test_hash_encoder_is_deterministic_unit_length_and_sees_shared_ngrams() -> None:
    encoder = HashEncoder(dim=64)
    first = encoder.encode(["varroa mite treatment", "varroa mites treated", "tidal turbines"])
    again = HashEncoder(dim=64).encode(["varroa mite treatment"])
    assert first.shape == (3, 64) and first.dtype == np.float32
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(first[0], again[0])
    assert float(first[0] @ first[1]) > float(first[0] @ first[2])


def test_text_key_changes_with_the_encoder_version() -> None:
    assert text_key("same text", "v1") == text_key("same text", "v1")
    assert text_key("same text", "v1") != text_key("same text", "v2")
    assert text_key("same text", "v1") != text_key("other text", "v1")


def test_vector_index_finds_nearest_replaces_removes_and_compacts() -> None:
    rows = normalize_rows(np.eye(4, dtype=np.float32) + 0.01)
    index = VectorIndex(4)
    index.add_many([10, 11, 12], rows[:3])
    index.add(13, rows[3])
    assert [uid for uid, _ in index.search(rows[2], 2)][0] == 12
    index.add(12, rows[0])  # replaced: now close to row 0
    assert {uid for uid, _ in index.search(rows[0], 2)} == {10, 12}
    index.remove(10)
    assert [uid for uid, _ in index.search(rows[0], 4)][0] == 12
    assert 10 not in [uid for uid, _ in index.search(rows[0], 4)]
    assert len(index) == 3
    for uid in range(100, 3000):
        index.add(uid, rows[uid % 4])
    for uid in range(100, 2900):
        index.remove(uid)
    assert len(index) == 103
    found = index.search(rows[1], 200)
    assert len(found) == 103 and all(uid not in range(100, 2900) for uid, _ in found)


def test_fusion_maps_cosines_into_zero_to_one() -> None:
    fusion = Fusion(w_sem=0.5, floor=0.3, ceil=0.6)
    assert fusion.semantic(0.1) == 0.0 and fusion.semantic(0.9) == 1.0
    assert fusion.relevance(1.0, 1.0) == pytest.approx(1.0)
    assert fusion.relevance(0.0, 0.45) == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A pilot site to trial our agrivoltaic panels over crops", {"pilot_site"}),
        ("寻找俄罗斯的医疗器械经销商", {"distribution"}),
        ("Испытательный полигон для беспилотных судов", {"test_bed"}),
        ("مزرعة نموذجية لعرض نظام الري بالتنقيط", {"demo_site"}),
        ("중동 지역 산업용 소프트웨어 판매 채널 파트너", {"distribution"}),
        ("Autopilot software for drones", set()),
        ("Solar panels", set()),
    ],
)
def test_partnering_resources_in_five_languages(text: str, expected: set[str]) -> None:
    assert resources(text) == expected


def person(key: str, *, offer: str = "", need: str = "", langs: str = "en") -> Candidate:
    items = []
    if offer:
        items.append(Item(f"{key}-o", key, "offer", offer))
    if need:
        items.append(Item(f"{key}-n", key, "need", need))
    return Candidate(key, f"Org {key}", "company", frozenset(langs.split()), True, tuple(items))


def test_hash_encoder_carries_a_topic_the_taxonomy_has_no_field_for(
    classifier: Classifier,
) -> None:
    hybrid = Analyzer(classifier, encoder=HashEncoder(dim=256))
    me = person("me", need="violin bow rehairing")
    right = person("right", offer="violin bow rehairing and repairs")
    wrong = person("wrong", offer="decorative garden ornaments")
    assert not hybrid.profile(me.items[0]).fields and not hybrid.profile(right.items[0]).fields
    index = MatchIndex([me, right, wrong], analyzer=hybrid)
    found = index.top("me")
    assert [m.key for m in found][:1] == ["right"]
    # No shared field: the reason quotes their offer, it is never empty.
    assert found[0].reasons[0].kind == "close_offer"
    assert found[0].reasons[0].quote == "violin bow rehairing and repairs"
    assert all(m.reasons for m in found)
    # The index and the pairwise scorer agree.
    direct = rank_counterparts(me, [right, wrong], analyzer=hybrid)
    assert [(m.key, m.score) for m in direct] == [(m.key, m.score) for m in found]


def test_equal_scores_are_ordered_by_a_real_signal_not_by_key(classifier: Classifier) -> None:
    taxonomy_only = Analyzer(classifier)
    me = person("m", need="Hydrogen fuel cells for buses", langs="en ru")
    # The same offer and the same score; "b" shares both of my meeting languages, "a" one.
    a = person("a", offer="Hydrogen fuel cell stacks", langs="en")
    b = person("b", offer="Hydrogen fuel cell stacks", langs="en ru")
    found = rank_counterparts(me, [a, b], analyzer=taxonomy_only)
    assert found[0].score == found[1].score
    assert [m.key for m in found] == ["b", "a"]
    index = MatchIndex([me, a, b], analyzer=taxonomy_only)
    assert [m.key for m in index.top("m")] == ["b", "a"]


def test_a_partnering_need_prefers_an_offer_of_the_resource(classifier: Classifier) -> None:
    taxonomy_only = Analyzer(classifier)
    me = person("me", need="A pilot site to trial our solar panels")
    host = person("host", offer="Our 200 ha farm is available as a pilot site for new technology")
    rival = person("rival", offer="Solar panels and inverters")
    found = rank_counterparts(me, [host, rival], analyzer=taxonomy_only)
    assert [m.key for m in found][0] == "host"
    assert found[0].direction == "they_offer"


def test_an_ordinary_offer_mentioning_investment_is_still_an_offer(
    classifier: Classifier,
) -> None:
    taxonomy_only = Analyzer(classifier)
    me = person("me", need="Lithium battery recycling technology")
    maker = person(
        "maker", offer="Lithium battery recycling plants; investment incentives in our park"
    )
    found = rank_counterparts(me, [maker], analyzer=taxonomy_only)
    assert found and found[0].direction == "they_offer"


def test_closest_phrase_quotes_the_phrase_sharing_words_and_stays_short(
    classifier: Classifier,
) -> None:
    analyzer = Analyzer(classifier)
    offer = analyzer.profile(
        Item(1, "o", "offer", "Consulting for exporters; varroa mite strips for bee colonies")
    )
    need = analyzer.profile(Item(2, "n", "need", "varroa treatment"))
    assert closest_phrase(offer, need) == "varroa mite strips for bee colonies"
    long = analyzer.profile(Item(3, "o", "offer", "word " * 40))
    assert len(closest_phrase(long, need)) <= 81 and closest_phrase(long, need).endswith("…")


def test_encoder_choices_and_the_matcher_name() -> None:
    assert make_encoder("off") is None
    assert isinstance(make_encoder("hash"), HashEncoder)
    assert matcher_name(None) == "taxonomy only"
    assert matcher_name(UseEncoder()).startswith("hybrid (taxonomy + use-multilingual-v3/")
    with pytest.raises(ValueError):
        make_encoder("bert")


def test_the_bundled_encoder_gives_the_expected_neighbours_across_languages() -> None:
    """The pinned package still behaves: each need's nearest offer is the one that answers it."""
    encoder = UseEncoder()
    needs = [
        "светодиодные фитолампы для теплиц",
        "Recycling of lithium-ion batteries",
        "산불 조기 감지 카메라",
        "تحلية مياه البحر بالطاقة الشمسية",
    ]
    offers = [
        "Early wildfire detection cameras for forests",
        "温室植物生长LED补光灯",
        "محطات إعادة تدوير بطاريات الليثيوم",
        "太阳能海水淡化装置",
    ]
    n, o = encoder.encode(needs), encoder.encode(offers)
    assert n.shape == (4, 512) and np.allclose(np.linalg.norm(o, axis=1), 1.0, atol=1e-4)
    assert list(np.argmax(n @ o.T, axis=1)) == [1, 2, 0, 3]
    assert encoder.version.startswith("use-multilingual-v3/0.2")
