"""Approximate dense search against exact, side by side in one run (bench/vectors.py's
realistic vectors; the evaluation suite's real questions as queries).

    python bench/ann.py [--sizes 200000,1000000] [--hnsw-at 200000] [--probes 8,16,32,64]

For each size, in a fresh process: the exact scan (Commune's MatrixIndex without an
inverted file), Commune's IVF-SQ8 base segment at several probe counts, and, at
``--hnsw-at``, faiss's HNSW (M=32, efConstruction 40) for its build time and speed. Each
is asked for the 100 candidates Commune's fusion takes; measured: build seconds, the p95 of
one query's search, recall@10 and recall@100 against the exact scan, and the same with a
visibility mask that keeps 30% of the rows (a member reading a few collections) and 1%.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

K = 100  # the candidates the fusion takes (RetrievalSettings.candidates)


def recall(found: list[np.ndarray], truth: list[np.ndarray], at: int) -> float:
    hits = [
        len(set(f[:at].tolist()) & set(t[:at].tolist())) / max(1, len(t[:at]))
        for f, t in zip(found, truth, strict=True)
    ]
    return round(float(np.mean(hits)), 4)


def timed(search, queries: np.ndarray, mask) -> tuple[list[np.ndarray], float]:  # type: ignore[no-untyped-def]
    out, lat = [], []
    for q in queries:
        t = time.perf_counter()
        rows = search(q, mask)
        lat.append(time.perf_counter() - t)
        out.append(rows)
    return out, round(float(np.percentile(np.asarray(lat) * 1000, 95)), 2)


def one(n: int, probes: list[int], hnsw: bool) -> dict:
    import faiss
    from vectors import Realistic, query_vectors

    from commune.index.ann import IvfSegment
    from commune.index.dense import MatrixIndex

    queries = query_vectors()
    t = time.perf_counter()
    matrix = Realistic().fill(n)
    result: dict = {"rows": n, "fill_s": round(time.perf_counter() - t, 1), "queries": len(queries)}
    exact = MatrixIndex(matrix)
    rng = np.random.default_rng(3)
    masks = {"all": None, "30%": rng.random(n) < 0.3, "1%": rng.random(n) < 0.01}
    truth = {}
    for name, mask in masks.items():
        truth[name], p95 = timed(lambda q, m: exact.search(q, K, m)[0], queries, mask)
        result[f"exact_{name}_p95_ms"] = p95
    t = time.perf_counter()
    ivf = IvfSegment.build(matrix, probes[0])
    result["ivf_build_s"] = round(time.perf_counter() - t, 1)
    result["ivf_lists"] = ivf.lists
    result["ivf"] = []
    for p in probes:
        ivf.probes = p
        row: dict = {"probes": p}
        for name, mask in masks.items():
            found, p95 = timed(lambda q, m: ivf.search(q, K, m)[0], queries, mask)
            row[f"{name}_p95_ms"] = p95
            row[f"{name}_recall@10"] = recall(found, truth[name], 10)
            row[f"{name}_recall@100"] = recall(found, truth[name], 100)
        result["ivf"].append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    if hnsw:
        index = faiss.IndexHNSWFlat(matrix.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 40
        t = time.perf_counter()
        index.add(matrix)
        result["hnsw_build_s"] = round(time.perf_counter() - t, 1)
        result["hnsw"] = []
        for ef in (64, 128, 256):
            index.hnsw.efSearch = ef
            found, p95 = timed(lambda q, m: index.search(q.reshape(1, -1), K)[1][0], queries, None)
            result["hnsw"].append(
                {
                    "ef_search": ef,
                    "all_p95_ms": p95,
                    "all_recall@10": recall(found, truth["all"], 10),
                }
            )
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="200000,1000000")
    parser.add_argument("--probes", default="8,16,32,64")
    parser.add_argument("--hnsw-at", type=int, default=200_000)
    parser.add_argument("--one", type=int)
    args = parser.parse_args()
    probes = [int(p) for p in args.probes.split(",")]
    if args.one:
        print(json.dumps(one(args.one, probes, args.one == args.hnsw_at)))
        return
    from sizes import run_sizes

    sizes = [int(x) for x in args.sizes.split(",")]
    run_sizes(__file__, sizes, ["--probes", args.probes, "--hnsw-at", str(args.hnsw_at)], "ann")


if __name__ == "__main__":
    main()
