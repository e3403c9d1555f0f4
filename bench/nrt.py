"""Time from `add` to searchable, and queries while it happens, as the commons grows.

    python bench/nrt.py [--sizes 10000,100000,1000000] [--queries 100]

Each size runs in a fresh process on a real SQLite home. The home is filled directly in
the database with synthetic documents of 10 passages (60 Zipf-distributed terms, random
unit vectors of 512 dimensions: speed depends on sizes, not on meaning), then the base
index is built once (past 200k passages, with its inverted file: Commune's defaults). The
vectors are bench/vectors.py's realistic ones (random unit vectors give approximate search
nothing to find); queries are the evaluation suite's real questions, each with two of the
synthetic terms so that BM25 has postings to read. Measured, side by side in one run:

- ``query p95``: searches through Commune's search path (visibility, index, fusion, the
  passages' details from the database), query embedding included, on the base alone;
- ``recall@10``: the top 10 of those searches against the same searches with the inverted
  file set aside (exact dense search), and the exact searches' p95 beside;
- ``add -> searchable``: `Commune.add` of one real text file (read, chunked, analysed and
  embedded by USE, committed), then searches until one finds it; the time from the start
  of `add` to that answer, and the part after the commit (the index taking it in);
- ``first query after``: the first search after the change, which reads the changed
  document from the database and builds the delta beside the base;
- ``p95 after``: searches on base + delta;
- ``serve``: as under `commune serve`, the snapshot refreshed in the background. First 3 s
  of searches with nothing changing (the steady p50/p95/p99, refresher running); then, five
  times, another process stores a document (its vector given, so that the embedding's CPU
  is not in the figure; it idles after its commit, so that its exit is not either) while
  searches go on: the time from its commit to a search finding it, the refresh's own
  duration, and the latency of every search in that window against the steady p95.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))


def fill(commune, n: int, dim: int = 512) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import insert
    from vectors import Realistic

    from commune.store import repository as repo
    from commune.store.schema import chunks, documents, embeddings, revisions

    rng = np.random.default_rng(0)
    realistic = Realistic()
    vocab = [f"t{i}" for i in range(50_000)]
    with commune.engine.begin() as conn:
        coll = repo.collection_id(conn, "synthetic", create=True)
    ts = repo.now()
    per_doc = 10
    for start in range(0, n, 20_000):
        size = min(20_000, n - start)
        first_doc = start // per_doc + 1
        n_docs = size // per_doc
        docs = [
            dict(
                id=first_doc + i,
                collection_id=coll,
                source_key=f"s{first_doc + i}",
                title=f"Document {first_doc + i}",
                source_uri=f"urn:s:{first_doc + i}",
                language="fr",
                licence="CC0-1.0",
                content_hash=f"{first_doc + i:064x}",
                status="published",
                current_revision_id=first_doc + i,
                published_revision_id=first_doc + i,
                tdm_reserved=False,
                added_at=ts,
                retrieved_at=ts,
                updated_at=ts,
            )
            for i in range(n_docs)
        ]
        revs = [
            dict(
                id=d["id"],
                document_id=d["id"],
                number=1,
                content_hash=d["content_hash"],
                title=d["title"],
                language="fr",
                licence="CC0-1.0",
                source_uri=d["source_uri"],
                media_type="text/plain",
                size_bytes=1000,
                created_at=ts,
                status="published",
                tdm_reserved=False,
            )
            for d in docs
        ]
        ranks = np.minimum(rng.zipf(1.3, size=(size, 60)), len(vocab)) - 1
        vec = realistic.sample(size)
        rows, embs = [], []
        for j in range(size):
            cid = start + j + 1
            terms = " ".join(vocab[r] for r in ranks[j])
            rows.append(
                dict(
                    id=cid,
                    revision_id=first_doc + j // per_doc,
                    document_id=first_doc + j // per_doc,
                    ordinal=j % per_doc,
                    text=terms,
                    heading_path="",
                    language="fr",
                    terms=terms,
                    n_words=60,
                )
            )
            embs.append(
                dict(
                    chunk_id=cid,
                    model=commune.embedder.name,
                    dim=dim,
                    vector=vec[j].astype("<f4").tobytes(),
                )
            )
        with commune.engine.begin() as conn:
            conn.execute(insert(documents), docs)
            conn.execute(insert(revisions), revs)
            conn.execute(insert(chunks), rows)
            conn.execute(insert(embeddings), embs)
    with commune.engine.begin() as conn:
        repo.bump_generation(conn)  # unlogged: the first search builds the whole base


def p95(values: list[float]) -> float:
    return float(np.percentile(np.asarray(values) * 1000, 95))


def one(n: int, queries: int, writes: int = 5) -> dict:
    from commune.core import Commune

    home = Path(tempfile.mkdtemp(prefix=f"nrt-{n}-"))
    c = Commune(home)
    t = time.perf_counter()
    fill(c, n)
    fill_s = time.perf_counter() - t
    t = time.perf_counter()
    c.search("t1 t2")
    base_s = time.perf_counter() - t
    from vectors import questions

    rng = np.random.default_rng(1)
    words = [f"t{i}" for i in range(1, 3000)]
    asked = questions()
    texts = [
        f"{asked[i % len(asked)]} {' '.join(rng.choice(words, size=2))}" for i in range(queries)
    ]
    for q in texts[:10]:  # warm-up: the query embedder's first calls
        c.search(q, k=10)
    before, found_approx = [], []
    for q in texts:
        t = time.perf_counter()
        hits = c.search(q, k=10)
        before.append(time.perf_counter() - t)
        found_approx.append([h.chunk_id for h in hits])
    dense = c.catalog().dense
    ann, dense.ann = dense.ann, None  # the same snapshot, searched exactly
    exact_lat, overlap = [], []
    for q, approx in zip(texts, found_approx, strict=True):
        t = time.perf_counter()
        truth = [h.chunk_id for h in c.search(q, k=10)]
        exact_lat.append(time.perf_counter() - t)
        overlap.append(len(set(truth) & set(approx)) / max(1, len(truth)))
    dense.ann = ann
    doc = home / "nouveau.txt"
    doc.write_text(
        "La déchetterie intercommunale accueille les encombrants zorglub le samedi matin.",
        encoding="utf-8",
    )
    t0 = time.perf_counter()
    c.add([doc], collection="synthetic", licence="CC0-1.0")
    committed = time.perf_counter()
    first = None
    while True:
        t = time.perf_counter()
        hits = c.search("déchetterie encombrants zorglub", k=5)
        if first is None:
            first = time.perf_counter() - t
        if hits and "zorglub" in hits[0].text:
            break
    found = time.perf_counter()
    after = []
    for q in texts:
        t = time.perf_counter()
        c.search(q, k=10)
        after.append(time.perf_counter() - t)
    catalog = c.catalog()
    # As `commune serve` runs: the snapshot refreshed in the background, another process
    # storing a document, searches going on.
    c.start_refresher()
    from commune.store import repository as repo

    # How long each refresh that took a change in lasted (the index's own work).
    refreshes: list[float] = []
    real_refresh = c.refresh

    def timed_refresh():  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        old = c._catalog
        out = real_refresh()
        if out is not old:
            refreshes.append(time.perf_counter() - t)
        return out

    c.refresh = timed_refresh  # type: ignore[method-assign]
    # The baseline: searches with the refresher running and nothing changing.
    steady, i = [], 0
    stop = time.perf_counter() + 3
    while time.perf_counter() < stop:
        t = time.perf_counter()
        c.search(texts[i % len(texts)], k=10)
        steady.append(time.perf_counter() - t)
        i += 1
    during, lags, served = [], [], []
    for w in range(writes):
        s0 = time.perf_counter()
        # The writer stores a prepared document (its vector given): what is measured is the
        # index taking the change in, not the embedding's CPU (the `add` above includes it).
        adder = subprocess.Popen(
            [sys.executable, __file__, "--write", str(home), "--mark", str(w)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        with c.engine.connect() as conn:
            gen = repo.generation(conn)
        seen_commit = None
        while True:
            t = time.perf_counter()
            c.search(texts[i % len(texts)], k=10)
            if seen_commit is not None:  # the change is in the database: the refresh window
                during.append(time.perf_counter() - t)
            i += 1
            if seen_commit is None:
                with c.engine.connect() as conn:
                    if repo.generation(conn) != gen:
                        seen_commit = time.perf_counter()  # the other process's commit
            hits = c.search(f"Le composteur accepte-t-il les épluchures blorfig{w} ?", k=3)
            if any(f"blorfig{w}" in h.text for h in hits):
                break
        served.append(time.perf_counter() - s0)
        lags.append(time.perf_counter() - (seen_commit or s0))
        adder.wait()
    c.close()
    ms = np.asarray(during) * 1000
    base = np.asarray(steady) * 1000
    return {
        "chunks": n,
        "fill_s": round(fill_s, 1),
        "base_build_s": round(base_s, 1),
        "approximate": ann is not None,
        "query_p95_ms": round(p95(before), 1),
        "exact_query_p95_ms": round(p95(exact_lat), 1),
        "recall@10": round(float(np.mean(overlap)), 4),
        "add_to_searchable_s": round(found - t0, 3),  # Commune.add in this process
        "after_commit_s": round(found - committed, 3),
        "first_query_after_ms": round((first or 0) * 1000, 1),
        "query_p95_after_ms": round(p95(after), 1),
        "serve_writes": writes,
        "serve_add_command_to_searchable_s": round(max(served), 3),
        "serve_commit_to_searchable_s": round(max(lags), 3),
        "serve_refresh_ms_max": round(max(refreshes, default=0) * 1000, 1),
        "serve_steady_queries": len(steady),
        "serve_steady_p50_ms": round(float(np.percentile(base, 50)), 1),
        "serve_steady_p95_ms": round(float(np.percentile(base, 95)), 1),
        "serve_steady_p99_ms": round(float(np.percentile(base, 99)), 1),
        "serve_queries_during": len(during),
        "serve_during_p50_ms": round(float(np.percentile(ms, 50)), 1) if during else None,
        "serve_during_max_ms": round(float(ms.max()), 1) if during else None,
        "serve_during_over_steady_p95": int((ms > np.percentile(base, 95)).sum()),
        "delta_rows": catalog.delta_rows,
        "rebuilt": catalog.base_generation == catalog.generation,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def write(home: Path, mark: str = "") -> None:
    """Another process: one new document, stored and published as `commune add` would."""
    from commune.commons import curation
    from commune.core import Commune
    from commune.store import repository as repo
    from commune.store.db import write_transaction

    time.sleep(0.5)  # the searches are under way
    c = Commune(home)
    text = f"Le composteur partagé du quartier accepte les épluchures blorfig{mark}."
    from commune.text.analysis import analyze

    chunk = repo.NewChunk(text, "", None, None, "fr", " ".join(analyze(text, "fr")), 10)
    vec = np.random.default_rng(2).standard_normal((1, 512)).astype(np.float32)
    vec /= np.linalg.norm(vec)
    with write_transaction(c.engine) as conn:
        coll = repo.collection_id(conn, "synthetic")
        doc = dict(
            title="Compost",
            source_uri=f"urn:compost:{mark}",
            language="fr",
            licence="CC0-1.0",
            content_hash=f"{mark:c>64}",
            retrieved_at=repo.now(),
            contributor=None,
            publisher=None,
        )
        _, rev = repo.write_revision(
            conn,
            coll_id=coll,
            existing=None,
            source_key=f"compost{mark}",
            doc=doc,
            media_type="text/plain",
            size_bytes=len(text),
            new_chunks=[chunk],
            vectors=vec,
            model=c.settings.retrieval.embedder,  # its name; the model is not loaded
        )
        curation.publish(conn, rev, "operator", "bench")
    # Idle a while before closing and exiting: the interpreter's teardown is not the index's
    # work, and on 2 cores it would take CPU from the searches measured in the window.
    time.sleep(3)
    c.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--one", type=int)
    parser.add_argument("--write")
    parser.add_argument("--mark", default="")
    args = parser.parse_args()
    if args.write:
        write(Path(args.write), args.mark)
        return
    if args.one:
        print(json.dumps(one(args.one, args.queries)))
        return
    from sizes import run_sizes

    sizes = [int(x) for x in args.sizes.split(",")]
    run_sizes(__file__, sizes, ["--queries", str(args.queries)], "nrt")


if __name__ == "__main__":
    main()
