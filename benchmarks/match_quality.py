"""Score the matcher on the development sets: recall@1/3/5 and MRR@10, engine by engine.

Usage: python -m benchmarks.match_quality [--data DIR] [--details] [--no-sweep]

Two sets: the shared one (../shared/data: dev_delegates.csv, dev_expected_matches.csv) and the
long-tail one written for the hybrid matcher (benchmarks/data/longtail_*.csv). The delegates are
imported with parse_delegate_csv; for each expected (need_of, offer_of) pair the need-holder's
counterparts whose offer answers the need (direction they_offer or both) are ranked, and the
rank of offer_of is recorded. Each set is scored for four engines in one run: the taxonomy
alone, the encoder alone (cosine of need and offer vectors), the fused engine with the shipped
weights (bot.domain.matching.Fusion), and a plain rapidfuzz ratio between the raw texts. A sweep
over the fusion weights shows how they were chosen. Ends with one JSON line and exits 1 when the
fused engine misses recall@5 >= 0.95, MRR@10 >= 0.85 or recall@1 >= 0.75 on any set.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz  # noqa: E402

from bot.domain.classifier import Classifier  # noqa: E402
from bot.domain.encoding import Encoder, cosine  # noqa: E402
from bot.domain.importing import ImportedDelegate, parse_delegate_csv  # noqa: E402
from bot.domain.matching import Analyzer, Candidate, Fusion, Item, MatchIndex  # noqa: E402
from bot.encoders import UseEncoder  # noqa: E402
from locales.taxonomy import load_taxonomy  # noqa: E402

TARGET_RECALL_AT_1 = 0.75
TARGET_RECALL_AT_5 = 0.95
TARGET_MRR = 0.85
DEPTH = 10

Pair = tuple[str, str]
Ranker = Callable[[str], list[str]]
Metrics = dict[str, float]


@dataclass(frozen=True)
class DataSet:
    """A development set: its delegates and the expected pairs."""

    name: str
    delegates: list[ImportedDelegate]
    pairs: list[Pair]


def candidate_from(d: ImportedDelegate) -> Candidate:
    """Build the matcher's view of an imported delegate."""
    items: list[Item] = []
    if d.offer:
        items.append(Item(f"{d.external_id}:offer", d.external_id, "offer", d.offer))
    if d.need:
        items.append(Item(f"{d.external_id}:need", d.external_id, "need", d.need))
    return Candidate(
        key=d.external_id,
        organization=d.organization,
        role=d.role.value,
        meeting_languages=frozenset(d.meeting_languages),
        consent=d.consent,
        items=tuple(items),
    )


def load_set(name: str, delegates: Path, expected: Path) -> DataSet:
    """Read one development set."""
    result = parse_delegate_csv(delegates.read_bytes())
    if result.file_error or result.errors:
        raise SystemExit(f"{delegates}: import problems: {result.file_error} {result.errors}")
    with expected.open(encoding="utf-8") as fh:
        pairs = [(r["need_of"], r["offer_of"]) for r in csv.DictReader(fh)]
    return DataSet(name, list(result.delegates), pairs)


def evaluate(rank: Ranker, pairs: Sequence[Pair]) -> Metrics:
    """Return recall@1/3/5 and MRR over the top DEPTH for the given pairs."""
    hits = {1: 0, 3: 0, 5: 0}
    rr = 0.0
    for need_of, offer_of in pairs:
        ranked = rank(need_of)[:DEPTH]
        position = ranked.index(offer_of) + 1 if offer_of in ranked else None
        if position is not None:
            rr += 1.0 / position
            for k in hits:
                hits[k] += position <= k
    n = max(len(pairs), 1)
    return {
        "recall_at_1": hits[1] / n,
        "recall_at_3": hits[3] / n,
        "recall_at_5": hits[5] / n,
        "mrr": rr / n,
    }


def baseline_ranker(delegates: Sequence[ImportedDelegate]) -> Ranker:
    """Rank offers by plain rapidfuzz ratio between the raw need and offer texts."""
    by_id = {d.external_id: d for d in delegates}

    def rank(key: str) -> list[str]:
        need = by_id[key].need
        scored = [
            (fuzz.ratio(need, d.offer), d.external_id)
            for d in delegates
            if d.external_id != key and d.offer
        ]
        scored.sort(key=lambda s: (-s[0], s[1]))
        return [k for _, k in scored]

    return rank


def encoder_ranker(delegates: Sequence[ImportedDelegate], analyzer: Analyzer) -> Ranker:
    """Rank offers by the cosine of the need's and the offer's vectors alone."""
    by_id = {d.external_id: d for d in delegates}

    def rank(key: str) -> list[str]:
        me = by_id[key]
        need = analyzer.vector(me.need)
        scored = [
            (cosine(need, analyzer.vector(d.offer)), d.external_id)
            for d in delegates
            if d.external_id != key and d.offer and d.consent and d.organization != me.organization
        ]
        scored.sort(key=lambda s: (-s[0], s[1]))
        return [k for _, k in scored]

    return rank


def matcher_ranker(index: MatchIndex) -> Ranker:
    """Rank counterparts whose offers answer the need, as the bot would show them."""

    def rank(key: str) -> list[str]:
        return [m.key for m in index.top(key, limit=DEPTH, directions={"they_offer", "both"})]

    return rank


def build_index(data: DataSet, analyzer: Analyzer) -> MatchIndex:
    """Index a set's delegates with the given analyzer."""
    return MatchIndex((candidate_from(d) for d in data.delegates), analyzer=analyzer)


def line(label: str, m: Metrics, n: int) -> str:
    """One row of figures."""
    return (
        f"  {label:<18} n={n:<3} R@1={m['recall_at_1']:.3f} R@3={m['recall_at_3']:.3f} "
        f"R@5={m['recall_at_5']:.3f} MRR={m['mrr']:.3f}"
    )


def sweep(
    sets: Sequence[DataSet], classifier: Classifier, encoder: Encoder, shared: Analyzer
) -> list[tuple[Fusion, list[Metrics]]]:
    """Score every fusion setting of a small grid on every set."""
    rows: list[tuple[Fusion, list[Metrics]]] = []
    base = Fusion()
    for w_sem, floor, ceil in itertools.product(
        (0.4, 0.5, 0.55, 0.6, 0.7, 1.0), (0.2, 0.25, 0.3, 0.35), (0.5, 0.55, 0.6, 0.7)
    ):
        fusion = replace(base, w_sem=w_sem, floor=floor, ceil=ceil)
        analyzer = Analyzer(classifier, encoder=encoder, fusion=fusion)
        for text, vec in shared.vectors().items():
            analyzer.remember(text, vec)
        metrics = [evaluate(matcher_ranker(build_index(s, analyzer)), s.pairs) for s in sets]
        rows.append((fusion, metrics))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the figures and one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--longtail", type=Path, default=ROOT / "benchmarks" / "data")
    parser.add_argument("--details", action="store_true", help="show the fused engine's misses")
    parser.add_argument("--no-sweep", action="store_true", help="skip the weight sweep")
    args = parser.parse_args(argv)

    sets = [
        load_set(
            "shared", args.data / "dev_delegates.csv", args.data / "dev_expected_matches.csv"
        ),
        load_set(
            "longtail",
            args.longtail / "longtail_delegates.csv",
            args.longtail / "longtail_expected_matches.csv",
        ),
    ]
    classifier = Classifier(load_taxonomy())
    encoder = UseEncoder()
    taxonomy_only = Analyzer(classifier)
    fused = Analyzer(classifier, encoder=encoder)
    fused.prime(t for s in sets for d in s.delegates for t in (d.offer, d.need) if t)

    report: dict[str, float | bool] = {}
    met = True
    for s in sets:
        fused_index = build_index(s, fused)
        engines = {
            "taxonomy": evaluate(matcher_ranker(build_index(s, taxonomy_only)), s.pairs),
            "encoder": evaluate(encoder_ranker(s.delegates, fused), s.pairs),
            "fused": evaluate(matcher_ranker(fused_index), s.pairs),
            "rapidfuzz": evaluate(baseline_ranker(s.delegates), s.pairs),
        }
        print(f"{s.name}: {len(s.delegates)} delegates, {len(s.pairs)} expected pairs")
        for label, m in engines.items():
            print(line(label, m, len(s.pairs)))
            for metric in ("recall_at_1", "recall_at_5", "mrr"):
                report[f"{s.name}_{label}_{metric}"] = round(m[metric], 4)
        f = engines["fused"]
        met = met and (
            f["recall_at_5"] >= TARGET_RECALL_AT_5
            and f["mrr"] >= TARGET_MRR
            and f["recall_at_1"] >= TARGET_RECALL_AT_1
        )
        if args.details:
            rank = matcher_ranker(fused_index)
            for need_of, offer_of in s.pairs:
                ranked = rank(need_of)
                pos = ranked.index(offer_of) + 1 if offer_of in ranked else None
                if pos != 1:
                    print(f"    {need_of} -> {offer_of}: rank {pos}; top {ranked[:5]}")

    if not args.no_sweep:
        print("sweep (w_sem floor ceil: R@1 R@5 MRR per set; * = shipped weights):")
        rows = sweep(sets, classifier, encoder, fused)
        rows.sort(key=lambda r: -min(m["mrr"] for m in r[1]))
        shipped = Fusion()
        for fusion, metrics in rows[:12] + [r for r in rows[12:] if r[0] == shipped]:
            mark = "*" if fusion == shipped else " "
            cells = "  ".join(
                f"{m['recall_at_1']:.3f} {m['recall_at_5']:.3f} {m['mrr']:.3f}" for m in metrics
            )
            print(f"  {mark} {fusion.w_sem:.2f} {fusion.floor:.2f} {fusion.ceil:.2f}  {cells}")

    report["target_met"] = met
    print(json.dumps(report))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
