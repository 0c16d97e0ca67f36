"""Score the matcher on the development set: recall@1/3/5 and MRR@10, with a baseline.

Usage: python benchmarks/match_quality.py [--data DIR] [--details]

The delegates are imported with parse_delegate_csv; for each expected (need_of, offer_of) pair
the need-holder's counterparts whose offer answers the need (direction they_offer or both) are
ranked, and the rank of offer_of is recorded. The same figures are given for a plain rapidfuzz
ratio between raw need and offer texts, and for a fixed half of the pairs chosen by hash before
tuning started (the held-out half: never inspected pair by pair while tuning). Ends with one
JSON line and exits 1 when recall@5 < 0.90 or MRR < 0.75.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz  # noqa: E402

from bot.domain.classifier import Classifier  # noqa: E402
from bot.domain.importing import ImportedDelegate, parse_delegate_csv  # noqa: E402
from bot.domain.matching import Analyzer, Candidate, Item, MatchIndex  # noqa: E402
from locales.taxonomy import load_taxonomy  # noqa: E402

TARGET_RECALL_AT_5 = 0.90
TARGET_MRR = 0.75
DEPTH = 10

Pair = tuple[str, str]
Ranker = Callable[[str], list[str]]


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


def split_pairs(pairs: Sequence[Pair]) -> tuple[list[Pair], list[Pair]]:
    """Split pairs by the SHA-256 of "need_of,offer_of": lower half held out, rest tuning."""
    ordered = sorted(pairs, key=lambda p: hashlib.sha256(f"{p[0]},{p[1]}".encode()).hexdigest())
    half = len(ordered) // 2
    return ordered[half:], ordered[:half]


def evaluate(rank: Ranker, pairs: Sequence[Pair]) -> dict[str, float]:
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


def matcher_ranker(index: MatchIndex) -> Ranker:
    """Rank counterparts whose offers answer the need, as the bot would show them."""

    def rank(key: str) -> list[str]:
        return [m.key for m in index.top(key, limit=DEPTH, directions={"they_offer", "both"})]

    return rank


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the figures and one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument(
        "--details", action="store_true", help="show ranks for the tuning half only"
    )
    args = parser.parse_args(argv)

    result = parse_delegate_csv((args.data / "dev_delegates.csv").read_bytes())
    if result.file_error or result.errors:
        print(f"import problems: {result.file_error} {result.errors}", file=sys.stderr)
        return 1
    with (args.data / "dev_expected_matches.csv").open(encoding="utf-8") as fh:
        pairs = [(r["need_of"], r["offer_of"]) for r in csv.DictReader(fh)]
    tuning, holdout = split_pairs(pairs)

    taxonomy = load_taxonomy()
    index = MatchIndex(
        (candidate_from(d) for d in result.delegates), analyzer=Analyzer(Classifier(taxonomy))
    )
    ours = matcher_ranker(index)
    base = baseline_ranker(result.delegates)

    full = evaluate(ours, pairs)
    baseline = evaluate(base, pairs)
    held = evaluate(ours, holdout)
    tuned = evaluate(ours, tuning)

    def line(label: str, m: dict[str, float], n: int) -> str:
        return (
            f"{label:<22} n={n:<3} R@1={m['recall_at_1']:.3f} R@3={m['recall_at_3']:.3f} "
            f"R@5={m['recall_at_5']:.3f} MRR={m['mrr']:.3f}"
        )

    print(line("matcher, all pairs", full, len(pairs)))
    print(line("matcher, tuning half", tuned, len(tuning)))
    print(line("matcher, held-out half", held, len(holdout)))
    print(line("rapidfuzz baseline", baseline, len(pairs)))
    if args.details:
        for need_of, offer_of in tuning:
            ranked = ours(need_of)
            pos = ranked.index(offer_of) + 1 if offer_of in ranked else None
            print(f"  {need_of} -> {offer_of}: rank {pos}; top {ranked[:5]}")

    met = full["recall_at_5"] >= TARGET_RECALL_AT_5 and full["mrr"] >= TARGET_MRR
    print(
        json.dumps(
            {
                "recall_at_1": round(full["recall_at_1"], 4),
                "recall_at_3": round(full["recall_at_3"], 4),
                "recall_at_5": round(full["recall_at_5"], 4),
                "mrr": round(full["mrr"], 4),
                "baseline_recall_at_5": round(baseline["recall_at_5"], 4),
                "baseline_mrr": round(baseline["mrr"], 4),
                "holdout_recall_at_5": round(held["recall_at_5"], 4),
                "holdout_mrr": round(held["mrr"], 4),
                "target_met": met,
            }
        )
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
