"""Search latency, recall and memory of Commune's indexes as the commons grows.

    python bench/scale.py [--sizes 10000,100000,1000000] [--queries 200]

Each size runs in its own process, so its peak RSS is its own. Passages are 60 tokens
drawn from a Zipf vocabulary of 50,000 terms; vectors are bench/vectors.py's realistic ones
(mixes of real USE vectors of the Debian handbook); queries are the evaluation suite's real
questions (their USE vectors) with 3 to 6 Zipf terms for BM25. The indexes are built with
Commune's defaults: past ``[index] approximate_from_rows`` the dense base has its inverted
file. Latency is one query's lexical search + dense search + fusion, query embedding
excluded; recall@10 is the fused top 10 against the same search with exact dense search.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))


def one(n: int, queries: int, dim: int = 512) -> dict:
    from vectors import Realistic, query_vectors

    from commune.answering.retrieve import fuse
    from commune.config import IndexSettings, RetrievalSettings
    from commune.index.dense import MatrixIndex
    from commune.index.lexical import Bm25Index

    rng = np.random.default_rng(0)
    vocab = [f"t{i}" for i in range(50_000)]
    ranks = np.minimum(rng.zipf(1.3, size=(n, 60)), len(vocab)) - 1
    t0 = time.perf_counter()
    lexical = Bm25Index.build([[vocab[r] for r in row] for row in ranks])
    lexical_s = time.perf_counter() - t0
    del ranks
    matrix = Realistic().fill(n)
    index = IndexSettings()
    t0 = time.perf_counter()
    dense = MatrixIndex.build(matrix, index.approximate_from_rows, index.probes)
    dense_s = time.perf_counter() - t0
    exact = MatrixIndex(dense.matrix)
    settings = RetrievalSettings()
    vectors = query_vectors(queries)
    lat, lat_lex, lat_dense, lat_every, overlap = [], [], [], [], []
    for i in range(queries):
        terms = [vocab[r] for r in (np.minimum(rng.zipf(1.3, size=rng.integers(3, 7)), 5000) - 1)]
        q = vectors[i % len(vectors)]
        t = time.perf_counter()
        lex = lexical.search(terms, settings.candidates, None)[0]
        t1 = time.perf_counter()
        den = dense.search(q, settings.candidates, None)[0]
        t2 = time.perf_counter()
        top = [row for row, *_ in fuse(lex, den, settings)[:10]]
        lat.append(time.perf_counter() - t)
        lat_lex.append(t1 - t)
        lat_dense.append(t2 - t1)
        # Beside it, BM25 ranking every row (what MaxScore avoids), for the ratio.
        t3 = time.perf_counter()
        every = lexical.scores(terms)
        np.argpartition(-every, settings.candidates)[: settings.candidates]
        lat_every.append(time.perf_counter() - t3)
        truth = [row for row, *_ in fuse(lex, exact.search(q, settings.candidates)[0], settings)]
        overlap.append(len(set(top) & set(truth[:10])) / max(1, len(truth[:10])))
    ms = np.array(lat) * 1000
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    raw = n * dim * 4
    return {
        "chunks": n,
        "approximate": dense.ann is not None,
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "lexical_p95_ms": round(float(np.percentile(np.array(lat_lex) * 1000, 95)), 1),
        "dense_p95_ms": round(float(np.percentile(np.array(lat_dense) * 1000, 95)), 1),
        "lexical_p50_ms": round(float(np.percentile(np.array(lat_lex) * 1000, 50)), 1),
        "lexical_every_row_p50_ms": round(float(np.percentile(np.array(lat_every) * 1000, 50)), 1),
        "lexical_every_row_p95_ms": round(float(np.percentile(np.array(lat_every) * 1000, 95)), 1),
        "recall@10": round(float(np.mean(overlap)), 4),
        "lexical_build_s": round(lexical_s, 1),
        "dense_build_s": round(dense_s, 1),
        "peak_rss_mb": round(rss / 2**20),
        "raw_vector_mb": round(raw / 2**20),
        "rss_over_raw": round(rss / raw, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "scale.json"))
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.queries)))
        return
    rows = []
    for n in (int(x) for x in args.sizes.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "--queries", str(args.queries)],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        r = rows[-1]
        print(
            f"{n:>9} chunks: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, recall@10 "
            f"{r['recall@10']}, peak RSS "
            f"{r['peak_rss_mb']} MB = {r['rss_over_raw']}x the raw vectors",
            flush=True,
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
