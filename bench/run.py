"""Commune's retrieval against the stacks a user would pick instead, on the same data and machine.

    bench/.venv/bin/python bench/run.py [--data bench/data] [--peers] [--smoke]

Quality: nDCG@10, Recall@10, MRR@10 (ranx) for French and English queries over a
mixed-language index, and cross-lingual (French queries over the English edition,
and the reverse). Speed: search latency p50/p95 per query (query embedding
excluded: it is the same model for every system and is cached). Results go to
bench/results/quality.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from systems import (  # noqa: E402
    Commune,
    LangChainEnsemble,
    LlamaIndexDefault,
    PlainBM25,
    Vectors,
)

K = 10


def load(data: Path) -> tuple[list[dict], list[dict]]:
    read = lambda name: [json.loads(x) for x in (data / name).read_text().splitlines() if x]  # noqa: E731
    return read("passages.jsonl"), read("queries.jsonl")


def setups(passages: list[dict], queries: list[dict]) -> dict[str, tuple[list, list]]:
    """Slice name -> (the passages indexed, the queries asked)."""
    lang = lambda items, code: [x for x in items if x["lang"] == code]  # noqa: E731
    return {
        "fr": (passages, lang(queries, "fr")),
        "en": (passages, lang(queries, "en")),
        "fr→en": (lang(passages, "en"), lang(queries, "fr")),
        "en→fr": (lang(passages, "fr"), lang(queries, "en")),
    }


def qrels(passages: list[dict], queries: list[dict]) -> dict[str, dict[str, int]]:
    by_section: dict[tuple[str, str], list[str]] = {}
    for p in passages:
        by_section.setdefault((p["file"], p["anchor"]), []).append(p["id"])
    return {
        q["id"]: {pid: 1 for pid in by_section.get((q["file"], q["anchor"]), [])}
        for q in queries
        if by_section.get((q["file"], q["anchor"]))
    }


def evaluate(system, passages, queries) -> dict:  # type: ignore[no-untyped-def]
    from ranx import Qrels, Run
    from ranx import evaluate as ranx_evaluate

    judged = qrels(passages, queries)
    t0 = time.perf_counter()
    system.index(passages)
    index_s = time.perf_counter() - t0
    run: dict[str, dict[str, float]] = {}
    latencies = []
    for q in queries:
        if q["id"] not in judged:
            continue
        t = time.perf_counter()
        ids = system.search(q["text"], K)
        latencies.append(time.perf_counter() - t)
        run[q["id"]] = {pid: float(K - i) for i, pid in enumerate(ids)} or {"none": 0.0}
    scores = ranx_evaluate(Qrels(judged), Run(run), ["ndcg@10", "recall@10", "mrr@10"])
    lat = np.array(latencies) * 1000
    return {
        "queries": len(run),
        **{m: round(float(v), 4) for m, v in scores.items()},
        "p50_ms": round(float(np.percentile(lat, 50)), 2),
        "p95_ms": round(float(np.percentile(lat, 95)), 2),
        "index_s": round(index_s, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT / "bench" / "data"))
    ap.add_argument("--peers", action="store_true", help="Also run LlamaIndex and LangChain.")
    ap.add_argument("--smoke", action="store_true", help="A few queries: checks the harness runs.")
    ap.add_argument(
        "--tune",
        action="store_true",
        help="Compare fusion settings of Commune's hybrid (results/tuning.json).",
    )
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "quality.json"))
    args = ap.parse_args()
    from commune.embed import get_embedder

    passages, queries = load(Path(args.data))
    if args.smoke:
        queries = queries[:: max(1, len(queries) // 20)]
    vectors = Vectors(get_embedder("use-multilingual-v3"))
    t0 = time.perf_counter()
    vectors.passages([p["text"] for p in passages])
    embed_s = time.perf_counter() - t0
    systems = [
        lambda: Commune(vectors, "hybrid"),
        lambda: Commune(vectors, "lexical"),
        lambda: Commune(vectors, "dense"),
        lambda: PlainBM25(),
    ]
    if args.peers:
        systems += [lambda: LlamaIndexDefault(vectors), lambda: LangChainEnsemble(vectors)]
    if args.tune:  # fusion settings of the hybrid, nothing else
        grid = [
            {"rrf_k": k, "dense_weight": w}
            for k in (10, 30, 60, 100)
            for w in (0.75, 1.0, 1.25, 1.5)
        ]
        systems = [lambda g=g: Commune(vectors, "hybrid", **g) for g in grid]
        args.out = str(Path(args.out).with_name("tuning.json"))
    results: dict[str, dict] = {}
    for make in systems:
        name = make().name
        results[name] = {}
        for slice_name, (ps, qs) in setups(passages, queries).items():
            results[name][slice_name] = evaluate(make(), ps, qs)
            r = results[name][slice_name]
            print(
                f"{name:<24} {slice_name:<6} nDCG@10 {r['ndcg@10']:.3f}  R@10 "
                f"{r['recall@10']:.3f}  MRR@10 {r['mrr@10']:.3f}  p95 {r['p95_ms']:.1f} ms",
                flush=True,
            )
    out = {
        "machine": {
            "python": platform.python_version(),
            "cpus": __import__("os").cpu_count(),
            "platform": platform.platform(),
        },
        "passages": len(passages),
        "queries": len(queries),
        "embedding": "use-multilingual-v3",
        "embedding_seconds": round(embed_s, 1),
        "results": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2, ensure_ascii=False))
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
