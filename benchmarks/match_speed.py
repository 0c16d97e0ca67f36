"""Time the matcher on synthetic delegates: index build, top-10 queries, full table, memory.

Usage: python benchmarks/match_speed.py [--n 10000] [--queries 1000] [--baseline-sample 20]

Delegates get offers and needs written in all five languages from taxonomy vocabulary and
templates (fixed seed). Reports index build time, one delegate's top 10 (p50/p99 over the
queries), the whole top-10 table, peak traced memory of building and querying the index, and
the speed-up over rank_counterparts (every pair scored, no index) on a sample. Ends with one
JSON line and exits 1 when p99 > 20 ms, the speed-up < 20x or the peak > 200 MB.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.harness import percentile_ms  # noqa: E402
from bot.domain.classifier import Classifier  # noqa: E402
from bot.domain.matching import (  # noqa: E402
    Analyzer,
    Candidate,
    Item,
    MatchIndex,
    rank_counterparts,
)
from bot.domain.taxonomy import Taxonomy  # noqa: E402
from locales.taxonomy import load_taxonomy  # noqa: E402

TARGET_P99_MS = 20.0
TARGET_SPEEDUP = 20.0
TARGET_PEAK_MB = 200.0
SEED = 20240611

LANGS = ("en", "zh", "ru", "ko", "ar")
ROLES = ("company", "company", "company", "university", "institute", "investor", "agency")
TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "offer": ("{a}", "{a} and {b}", "We supply {a}", "{a} made in {city}"),
        "need": ("Looking for {a}", "Need {a} and {b}", "Seeking {a} partners", "{a}"),
    },
    "zh": {
        "offer": ("{a}", "{a}与{b}", "提供{a}技术", "{city}{a}"),
        "need": ("寻求{a}", "需要{a}和{b}", "寻找{a}合作伙伴", "{a}"),
    },
    "ru": {
        "offer": ("{a}", "{a} и {b}", "Предлагаем {a}", "{a} из {city}"),
        "need": ("Ищем {a}", "Нужны {a} и {b}", "Требуется {a}", "{a}"),
    },
    "ko": {
        "offer": ("{a}", "{a} 및 {b}", "{a} 기술 제공", "{city} {a}"),
        "need": ("{a} 찾습니다", "{a} 기술 협력을 원합니다", "{a} 및 {b} 필요", "{a}"),
    },
    "ar": {
        "offer": ("{a}", "{a} و{b}", "نقدم {a}", "{a} من {city}"),
        "need": ("نبحث عن {a}", "نحتاج إلى {a} و{b}", "{a}"),
    },
}
CITIES = {
    "en": ("Tomsk", "Shenzhen", "Daejeon", "Dubai", "Kazan"),
    "zh": ("深圳", "合肥", "苏州", "西安", "武汉"),
    "ru": ("Томска", "Казани", "Новосибирска", "Москвы", "Самары"),
    "ko": ("대전", "판교", "울산", "부산", "광주"),
    "ar": ("دبي", "الرياض", "أبوظبي", "جدة", "الدوحة"),
}
GENERIC_NEEDS = {
    "en": ("Looking for investors", "Seeking distributors in Asia"),
    "zh": ("寻求投资", "寻找海外代理商"),
    "ru": ("Ищем инвесторов", "Ищем дистрибьюторов"),
    "ko": ("투자 유치를 원합니다", "해외 유통업체를 찾습니다"),
    "ar": ("نبحث عن مستثمرين", "نبحث عن موزعين"),
}


def synthetic_candidates(taxonomy: Taxonomy, n: int, seed: int = SEED) -> list[Candidate]:
    """Generate n delegates with offers and needs in all five languages."""
    rng = random.Random(seed)
    fields = taxonomy.fields
    vocab = {
        lang: [list(f.keywords.get(lang, ())) or [f.names[lang]] for f in fields] for lang in LANGS
    }
    out: list[Candidate] = []
    for i in range(n):
        lang = LANGS[i % len(LANGS)]
        key = f"S{i:06d}"
        items: list[Item] = []
        for side in ("offer", "need"):
            if rng.random() > 0.8 and items:
                continue
            if side == "need" and rng.random() < 0.06:
                text = rng.choice(GENERIC_NEEDS[lang])
            else:
                f = rng.randrange(len(fields))
                words = vocab[lang][f]
                template = rng.choice(TEMPLATES[lang][side])
                text = template.format(
                    a=rng.choice(words), b=rng.choice(words), city=rng.choice(CITIES[lang])
                )
            items.append(Item(f"{key}:{side}", key, side, text))
        meeting = {lang, "en"} if rng.random() < 0.6 else {lang}
        out.append(
            Candidate(
                key=key,
                organization=f"Organization {i // 3}",  # a few colleagues share one
                role=rng.choice(ROLES),
                meeting_languages=frozenset(meeting),
                consent=rng.random() < 0.95,
                items=tuple(items),
            )
        )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the figures and one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="number of delegates")
    parser.add_argument("--queries", type=int, default=1000, help="timed top-10 queries")
    parser.add_argument("--baseline-sample", type=int, default=20, help="unindexed queries")
    args = parser.parse_args(argv)

    taxonomy = load_taxonomy()
    candidates = synthetic_candidates(taxonomy, args.n)
    rng = random.Random(SEED + 1)

    t0 = time.perf_counter()
    analyzer = Analyzer(Classifier(taxonomy))
    index = MatchIndex(candidates, analyzer=analyzer)
    build_s = time.perf_counter() - t0
    print(f"built index over {len(index)} delegates in {build_s:.2f} s")

    keys = [c.key for c in candidates]
    sample = [rng.choice(keys) for _ in range(args.queries)]
    times: list[float] = []
    for key in sample:
        t = time.perf_counter()
        index.top(key, limit=10)
        times.append(time.perf_counter() - t)
    p50, p99 = (percentile_ms(times, p) or 0.0 for p in (50, 99))
    print(f"top 10 for one delegate: p50 {p50:.2f} ms, p99 {p99:.2f} ms")

    t = time.perf_counter()
    table = index.table(limit=10)
    table_s = time.perf_counter() - t
    filled = sum(1 for v in table.values() if v)
    print(f"whole top-10 table: {table_s:.2f} s ({filled} delegates with matches)")

    by_key = {c.key: c for c in candidates}
    base_keys = sample[: args.baseline_sample]
    base_times: list[float] = []
    indexed_times: list[float] = []
    agree = 0
    for key in base_keys:
        t = time.perf_counter()
        plain = rank_counterparts(by_key[key], candidates, analyzer=analyzer, limit=10)
        base_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        fast = index.top(key, limit=10)
        indexed_times.append(time.perf_counter() - t)
        agree += [(m.key, m.score) for m in plain] == [(m.key, m.score) for m in fast]
    speedup = statistics.mean(base_times) / max(statistics.mean(indexed_times), 1e-9)
    print(
        f"unindexed rank_counterparts: {statistics.mean(base_times) * 1000:.1f} ms per query, "
        f"speed-up {speedup:.1f}x; identical top 10 in {agree}/{len(base_keys)}"
    )

    del index, table, analyzer
    gc.collect()
    tracemalloc.start()
    traced = MatchIndex(candidates, analyzer=Analyzer(Classifier(taxonomy)))
    for key in sample[:100]:
        traced.top(key, limit=10)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_mb = peak / 1e6
    print(f"peak traced memory of building and querying: {peak_mb:.1f} MB")

    met = p99 <= TARGET_P99_MS and speedup >= TARGET_SPEEDUP and peak_mb <= TARGET_PEAK_MB
    print(
        json.dumps(
            {
                "build_s": round(build_s, 3),
                "query_p50_ms": round(p50, 3),
                "query_p99_ms": round(p99, 3),
                "table_s": round(table_s, 3),
                "peak_mb": round(peak_mb, 1),
                "speedup_vs_baseline": round(speedup, 1),
                "target_met": met,
            }
        )
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
