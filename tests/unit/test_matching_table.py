"""The whole-table fast path gives what one delegate's query gives; exact top-k; calibration."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from benchmarks.match_quality import candidate_from, load_set
from benchmarks.match_speed import synthetic_candidates
from bot.domain import matching
from bot.domain.classifier import Classifier
from bot.domain.encoding import (
    HashEncoder,
    VectorIndex,
    calibrated_cosines,
    fit_projection,
    hub_scores,
    normalize_rows,
    top_k,
)
from bot.domain.matching import Analyzer, MatchIndex
from bot.encoders import UseEncoder
from locales.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[2]
DEV_SETS = {
    "shared": (ROOT.parent / "shared" / "data", "dev_delegates.csv", "dev_expected_matches.csv"),
    "longtail": (
        ROOT / "benchmarks" / "data",
        "longtail_delegates.csv",
        "longtail_expected_matches.csv",
    ),
}


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(load_taxonomy())


def test_top_k_is_exact_with_ties_broken_by_id() -> None:
    rng = np.random.default_rng(7)
    for _ in range(200):
        rows, cols, k = (
            int(rng.integers(1, 12)),
            int(rng.integers(1, 3000)),
            int(rng.integers(1, 35)),
        )
        # One decimal: many equal scores, so the k-th place is often a tie.
        scores = np.round(rng.standard_normal((rows, cols)), 1).astype(np.float32)
        scores[rng.random((rows, cols)) < 0.05] = -2.0  # removed rows
        ids = rng.permutation(cols * 3)[:cols].astype(np.int64)
        found = top_k(scores, k, ids)
        for r in range(rows):
            alive = np.flatnonzero(scores[r] > -2.0)
            expected = alive[np.lexsort((ids[alive], -scores[r][alive]))][:k]
            assert found[r].tolist() == expected.tolist()


def test_projected_search_many_rescores_with_the_full_vectors() -> None:
    rng = np.random.default_rng(3)
    full = normalize_rows(rng.standard_normal((600, 32)))
    index = VectorIndex(32, fit_projection(full, 8))
    index.add_many(list(range(600)), full)
    index.remove(5)
    queries = normalize_rows(rng.standard_normal((20, 32)))
    got = index.search_many(queries, 30, keep=10)
    plain = index.search_many(queries, 30)
    for q, ids in enumerate(got):
        found = [uid for uid, _ in index.search(queries[q], 30)]
        assert plain[q] == found
        half = full[found].astype(np.float16).astype(np.float32) @ queries[q]
        expected = [found[i] for i in np.argsort(-half, kind="stable")[:10]]
        assert ids == expected and 5 not in ids


def _same_tables(index: MatchIndex) -> None:
    table = index.table(limit=10)
    assert set(table) == {key for key in index._entries}
    for key, matches in table.items():
        assert matches == index.top(key, limit=10), key


@pytest.mark.parametrize("name", sorted(DEV_SETS))
def test_the_table_gives_each_delegate_what_their_own_query_gives_on_the_dev_sets(
    classifier: Classifier, name: str
) -> None:
    folder, delegates, expected = DEV_SETS[name]
    if not (folder / delegates).exists():
        pytest.skip(f"{folder} is not checked out beside the project")
    data = load_set(name, folder / delegates, folder / expected)
    analyzer = Analyzer(classifier, encoder=UseEncoder())
    index = MatchIndex((candidate_from(d) for d in data.delegates), analyzer=analyzer)
    _same_tables(index)


def test_the_table_matches_the_queries_on_a_projected_index(
    classifier: Classifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Enough delegates for the projected vector search, the field-candidate cap and ties.
    monkeypatch.setattr(matching, "PROJECT_ABOVE", 200)
    candidates = synthetic_candidates(classifier.taxonomy, 400, seed=11)
    index = MatchIndex(candidates, analyzer=Analyzer(classifier, encoder=HashEncoder()))
    assert index._offer_vectors is not None and index._offer_vectors.projection is not None
    _same_tables(index)
    # And after updates in place: a delegate removed, one changed.
    index.remove(candidates[3].key)
    index.upsert(candidates[7])
    _same_tables(index)


def test_calibration_takes_out_the_query_language_bias_and_hubs() -> None:
    rng = random.Random(5)
    # 60 rows in language 0 (the query's) sit 0.25 closer to the query whatever they say;
    # the right answer is row 70, in language 1.
    cos = np.array([0.6 + rng.uniform(-0.05, 0.05) for _ in range(60)] + [0.35] * 40)
    cos[70] = 0.58
    languages = np.array([0] * 60 + [1] * 40, dtype=np.intp)
    assert int(np.argmax(cos)) != 70
    calibrated = calibrated_cosines(cos, languages)
    assert int(np.argmax(calibrated)) == 70
    # A language with too few rows to estimate the bias is left alone.
    few = calibrated_cosines(cos[:70], np.array([0] * 60 + [1] * 10, dtype=np.intp))
    assert np.allclose(few, cos[:70])
    # A row close to everything (a hub) loses what it has above the average row.
    hubs = np.zeros(100)
    hubs[3] = 0.3
    assert calibrated_cosines(cos, languages, hubs)[3] == pytest.approx(
        calibrated[3] - 0.3 + 0.003
    )


def test_hub_scores_find_the_row_close_to_everything() -> None:
    rng = np.random.default_rng(1)
    rows = rng.standard_normal((80, 16))
    rows[0] = rows[1:].mean(axis=0)  # the centre of all the others
    hubs = hub_scores(normalize_rows(rows), k=5)
    assert int(np.argmax(hubs)) == 0
    assert not hub_scores(normalize_rows(rows[:10])).any()  # too few rows to tell


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("شبكة اتصالات للمصانع", "med.ophthalmology"),  # network is not retina
        ("شبكات الاتصالات", "med.ophthalmology"),
        ("مقاومة الآفات في النخيل", "elec.components"),  # pest resistance is not resistors
        ("مقاومة للجفاف", "elec.components"),
    ],
)
def test_arabic_words_of_different_senses_do_not_meet(
    classifier: Classifier, text: str, wrong: str
) -> None:
    assert wrong not in [f.code for f in classifier.analyse(text).fields]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("أمراض الشبكية", "med.ophthalmology"),
        ("مقاومات كهربائية", "elec.components"),
        ("شبكة المياه", "env.water_networks"),  # the phrase's singular meets its plural
        ("الشبكات العصبية", "ai.machine_learning"),
    ],
)
def test_arabic_words_still_meet_their_own_keywords(
    classifier: Classifier, text: str, field: str
) -> None:
    assert field in [f.code for f in classifier.analyse(text).fields[:2]]


def test_arabic_light_stems_keep_the_relative_ending_and_offer_the_plural() -> None:
    from bot.domain.textnorm import tokenize

    assert [t.stems for t in tokenize("شبكة الشبكية المقاومات")] == [
        ("شبك",),
        ("شبكي",),
        ("مقاومات", "مقاوم"),
    ]
