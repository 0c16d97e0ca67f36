"""Time the hybrid matcher on synthetic delegates: embedding, index load, queries, table, memory.

Usage: python -m benchmarks.match_speed [--n 10000] [--queries 1000] [--baseline-sample 20]

Delegates get offers and needs written in all five languages from taxonomy vocabulary and
templates (fixed seed). The run measures, in order: the encoder's cost (items per second, one
text at a time and in batches of 64), embedding every distinct text and storing the vectors in
SQLite as the import does, loading the index from the stored vectors as the bot does at start
(reading the vectors and building the taxonomy and vector indexes), one delegate's top 10
(p50/p99), the whole top-10 table, and the same queries on the taxonomy-only index of the same
delegates (the same-run baseline, with its ratio), plus the speed-up over rank_counterparts
(no index) on a sample, and the process's peak RSS. Targets: at 10,000 delegates top-10
p99 <= 10 ms, load <= 5 s, peak RSS <= 400 MB; at 50,000 (--n 50000) p99 <= 20 ms and the whole
table <= 120 s. Ends with one JSON line and exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.harness import percentile_ms  # noqa: E402
from bot.domain.classifier import Classifier  # noqa: E402
from bot.domain.clock import SystemClock  # noqa: E402
from bot.domain.encoding import Vector, text_key  # noqa: E402
from bot.domain.matching import (  # noqa: E402
    Analyzer,
    Candidate,
    Item,
    MatchIndex,
    rank_counterparts,
)
from bot.domain.taxonomy import Taxonomy  # noqa: E402
from bot.encoders import UseEncoder  # noqa: E402
from locales.taxonomy import load_taxonomy  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.vectors import VectorRepository  # noqa: E402

# n -> (top-10 p99 ms, index load s, peak RSS MB, whole table s); None: no target at that size
TARGETS: dict[int, tuple[float | None, float | None, float | None, float | None]] = {
    10_000: (10.0, 5.0, 400.0, None),
    50_000: (20.0, None, None, 120.0),
}
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


def rss_mb() -> float:
    """Peak resident memory of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_queries(index: MatchIndex, sample: Sequence[str]) -> tuple[float, float]:
    """p50 and p99 of one delegate's top 10, in ms."""
    times: list[float] = []
    for key in sample:
        t = time.perf_counter()
        index.top(key, limit=10)
        times.append(time.perf_counter() - t)
    return percentile_ms(times, 50) or 0.0, percentile_ms(times, 99) or 0.0


async def store(path: Path, version: str, vectors: dict[str, Vector]) -> None:
    """Store the vectors as the import does."""
    db = Database(path)
    await db.connect()
    await db.migrate()
    repo = VectorRepository(db, SystemClock())
    keyed = {text_key(text, version): vec for text, vec in vectors.items()}
    async with db.transaction():
        await repo.save(version, keyed)
    await db.close()


async def load(path: Path, version: str) -> tuple[float, dict[str, Vector]]:
    """Read the stored vectors as the bot does at start; return the seconds it took and them."""
    db = Database(path)
    await db.connect()
    t = time.perf_counter()
    loaded = await VectorRepository(db, SystemClock()).load(version)
    read_s = time.perf_counter() - t
    await db.close()
    return read_s, dict(loaded)


def bot_phase(n: int, path: str, queries: int, baseline_sample: int) -> dict[str, Any]:
    """What the bot does at start and after: stored vectors in, index, queries, a new text."""
    taxonomy = load_taxonomy()
    candidates = synthetic_candidates(taxonomy, n)
    encoder = UseEncoder()
    t = time.perf_counter()
    read_s, stored = asyncio.run(load(Path(path), encoder.version))
    analyzer = Analyzer(Classifier(taxonomy), encoder=encoder)
    for c in candidates:
        for item in c.items:
            analyzer.remember(item.text, stored[text_key(item.text, encoder.version)])
    del stored
    index = MatchIndex(candidates, analyzer=analyzer)
    load_s = read_s + time.perf_counter() - t

    rng = random.Random(SEED + 1)
    keys = [c.key for c in candidates]
    sample = [rng.choice(keys) for _ in range(queries)]
    p50, p99 = time_queries(index, sample)
    t = time.perf_counter()
    table = index.table(limit=10)
    table_s = time.perf_counter() - t
    filled = sum(1 for v in table.values() if v)
    del table
    analyzer.vector("A delegate types a new offer: tidal turbines")  # the model loads now

    by_key = {c.key: c for c in candidates}
    base_times: list[float] = []
    indexed_times: list[float] = []
    agree = 0
    for key in sample[:baseline_sample]:
        t = time.perf_counter()
        plain = rank_counterparts(by_key[key], candidates, analyzer=analyzer, limit=10)
        base_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        fast = index.top(key, limit=10)
        indexed_times.append(time.perf_counter() - t)
        agree += [m.key for m in plain[:5]] == [m.key for m in fast[:5]]
    return {
        "read_s": read_s,
        "load_s": load_s,
        "p50": p50,
        "p99": p99,
        "table_s": table_s,
        "filled": filled,
        "peak": rss_mb(),
        "base_ms": statistics.mean(base_times) * 1000,
        "speedup": statistics.mean(base_times) / max(statistics.mean(indexed_times), 1e-9),
        "agree": agree,
        "sample": sample,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the figures and one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="number of delegates")
    parser.add_argument("--queries", type=int, default=1000, help="timed top-10 queries")
    parser.add_argument("--baseline-sample", type=int, default=20, help="unindexed queries")
    args = parser.parse_args(argv)
    p99_target, load_target, rss_target, table_target = TARGETS.get(
        args.n, TARGETS[50_000] if args.n > 10_000 else TARGETS[10_000]
    )

    taxonomy = load_taxonomy()
    classifier = Classifier(taxonomy)
    candidates = synthetic_candidates(taxonomy, args.n)
    texts = list(dict.fromkeys(i.text for c in candidates for i in c.items))
    encoder = UseEncoder()

    # The encoder: one text at a time (a delegate typing), and in batches (an import).
    probe = texts[:200]
    encoder.encode(probe[:1])  # the model loads on first use
    t = time.perf_counter()
    for text in probe:
        encoder.encode([text])
    single_per_s = len(probe) / (time.perf_counter() - t)
    t = time.perf_counter()
    embedder = Analyzer(classifier, encoder=encoder)
    fresh = embedder.prime(texts, batch=64)
    embed_s = time.perf_counter() - t
    batched_per_s = len(texts) / embed_s
    print(
        f"encoder: {single_per_s:.0f} texts/s one at a time, {batched_per_s:.0f} texts/s in "
        f"batches of 64; {len(texts)} distinct texts embedded in {embed_s:.1f} s"
    )

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vectors.db"
        asyncio.run(store(path, encoder.version, fresh))
        # The import's process ends here; the bot starts in a fresh process with what is
        # stored, so its peak RSS is the bot's own (it loads the model for the first new text).
        del fresh, embedder
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            bot = pool.apply(bot_phase, (args.n, str(path), args.queries, args.baseline_sample))
    load_s, p50, p99, table_s, peak = (
        bot["load_s"], bot["p50"], bot["p99"], bot["table_s"], bot["peak"]
    )  # fmt: skip
    sample = list(bot["sample"])
    print(
        f"index load from stored vectors: {load_s:.2f} s ({bot['read_s']:.2f} s reading "
        f"{len(texts)} vectors) over {args.n} delegates"
    )
    print(f"hybrid top 10 for one delegate: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    print(
        f"hybrid whole top-10 table: {table_s:.1f} s ({bot['filled']:.0f} delegates with matches)"
    )
    print(
        f"unindexed rank_counterparts: {bot['base_ms']:.1f} ms per query, speed-up "
        f"{bot['speedup']:.1f}x; same top 5 in {bot['agree']:.0f}/{args.baseline_sample}"
    )
    print(f"bot process peak RSS (index built and queried, encoder loaded): {peak:.0f} MB")
    speedup = bot["speedup"]

    # Same-run baseline: the taxonomy-only engine on the same delegates.
    t = time.perf_counter()
    baseline = MatchIndex(candidates, analyzer=Analyzer(classifier))
    base_build_s = time.perf_counter() - t
    base_p50, base_p99 = time_queries(baseline, sample)
    t = time.perf_counter()
    baseline.table(limit=10)
    base_table_s = time.perf_counter() - t
    print(
        f"baseline (taxonomy only, same run): build {base_build_s:.2f} s, top 10 p50 "
        f"{base_p50:.2f} ms, p99 {base_p99:.2f} ms, table {base_table_s:.1f} s; hybrid/baseline "
        f"p99 {p99 / max(base_p99, 1e-9):.2f}x, table {table_s / max(base_table_s, 1e-9):.2f}x"
    )

    met = (
        (p99_target is None or p99 <= p99_target)
        and (load_target is None or load_s <= load_target)
        and (rss_target is None or peak <= rss_target)
        and (table_target is None or table_s <= table_target)
    )
    print(
        json.dumps(
            {
                "delegates": args.n,
                "texts": len(texts),
                "encode_single_per_s": round(single_per_s, 1),
                "encode_batched_per_s": round(batched_per_s, 1),
                "load_s": round(load_s, 3),
                "query_p50_ms": round(p50, 3),
                "query_p99_ms": round(p99, 3),
                "table_s": round(table_s, 2),
                "peak_rss_mb": round(peak, 1),
                "speedup_vs_unindexed": round(speedup, 1),
                "baseline_query_p99_ms": round(base_p99, 3),
                "baseline_table_s": round(base_table_s, 2),
                "p99_ratio_vs_baseline": round(p99 / max(base_p99, 1e-9), 3),
                "target_met": met,
            }
        )
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
