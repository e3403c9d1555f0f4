"""Would vectors of a passage's windows find passages the passage's own vector misses?

USE was trained on sentences, and a passage of a hundred words dilutes the one sentence that
answers (item 16 of bench/README.md, issue 20). Item 16 reranked the 40 passages retrieval
already found by their best sentence; the demo's "Comment mettre à jour la liste des paquets
disponibles ?" was not helped, since its passage is not among them. This measures a first-stage
list instead: every passage of the home cut into windows of consecutive sentences (each
prefixed, like the passage's own vector, by its document's title and section), every window
embedded once, and a passage scored by its best window over the whole collection. Dev MRR@10
(ranx) per slice, of the shipped hybrid and each half beside:

- the window list in place of the dense half (fused with the lexical half as the dense half is);
- the window list as a third list of the fusion, at a few weights;
- the dense half scored by the higher of the passage's and its best window's cosine.

The window vectors are cached (``--cache``, an .npz); the test split is never read.

    python bench/window_dense.py --home eval-data --cache windows.npz
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from commune.core import Commune  # noqa: E402
from commune.evaluation import load_suite  # noqa: E402
from commune.evaluation.metrics import expected_units, ranked_units, retrieval_scores  # noqa: E402
from commune.evaluation.runner import case_slices, collection_languages  # noqa: E402
from commune.ingest.chunking import split_sentences  # noqa: E402
from commune.ingest.pipeline import embedding_text  # noqa: E402

SUITES = ("debian", "fiches")
DEPTH = 100
RRF_K = 5  # the shipped fusion's constant (config.RetrievalSettings.rrf_k)


def windows(text: str, size: int, stride: int) -> list[str]:
    """Runs of ``size`` consecutive sentences, every ``stride``; a short passage is one."""
    sentences = split_sentences(text)
    if len(sentences) <= size:
        return [text]
    return [
        " ".join(sentences[i : i + size])
        for i in range(0, len(sentences) - size + stride, stride)
        if sentences[i : i + size]
    ]


def build(home: Path, commune: Commune, size: int, stride: int, cache: Path) -> tuple:  # type: ignore[type-arg]
    if cache.exists():
        data = np.load(cache)
        return data["owner"], data["vectors"]
    db = sqlite3.connect(home / "commune.db")
    rows = db.execute(
        "select k.id, d.title, k.heading_path, k.text from chunks k "
        "join documents d on d.id = k.document_id and d.current_revision_id = k.revision_id"
    ).fetchall()
    owner, texts = [], []
    for chunk_id, title, heading, text in rows:
        for w in windows(text, size, stride):
            owner.append(chunk_id)
            texts.append(embedding_text(title, heading, w))
    print(f"{len(rows)} passages, {len(texts)} windows to embed", flush=True)
    vectors = commune.embedder.embed_passages(texts)
    np.savez(cache, owner=np.array(owner), vectors=vectors)
    return np.array(owner), vectors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", default="eval-data")
    ap.add_argument("--cache", default="windows.npz")
    ap.add_argument("--size", type=int, default=2, help="sentences per window")
    ap.add_argument("--stride", type=int, default=1)
    args = ap.parse_args()
    home = Path(args.home)
    commune = Commune(args.home)
    owner, vectors = build(home, commune, args.size, args.stride, Path(args.cache))
    base = commune.settings.retrieval
    db = sqlite3.connect(home / "commune.db")
    where = dict(
        db.execute(
            "select k.id, c.name from chunks k join documents d on d.id = k.document_id "
            "join collections c on c.id = d.collection_id"
        ).fetchall()
    )
    place = {
        cid: (src, heading)
        for cid, src, heading in db.execute(
            "select k.id, d.source_uri, k.heading_path from chunks k "
            "join documents d on d.id = k.document_id"
        ).fetchall()
    }
    by_collection: dict[str, np.ndarray] = {}
    for name in set(where.values()):
        by_collection[name] = np.array([where[int(o)] == name for o in owner])
    for name in SUITES:
        suite = load_suite(ROOT / "eval" / "suites" / f"{name}.jsonl")
        cases = [c for c in suite.select("dev") if c.documents]
        langs = collection_languages(commune.engine, cases)
        slices = case_slices(commune.engine, cases, langs)
        runs: dict[str, dict[str, list[str]]] = defaultdict(dict)
        for case in cases:
            q = commune.embedder.embed_query(case.question)
            mask = by_collection[case.collection]
            sims = vectors[mask] @ q
            best: dict[int, float] = {}
            for o, s in zip(owner[mask], sims, strict=True):
                if s > best.get(int(o), -2.0):
                    best[int(o)] = float(s)
            window_order = sorted(best, key=best.__getitem__, reverse=True)[:DEPTH]
            window_rank = {cid: r for r, cid in enumerate(window_order, 1)}
            hybrid = commune.search(case.question, case.collection, k=DEPTH)
            dense = commune.search(
                case.question, case.collection, k=DEPTH, retrieval=replace(base, lexical_weight=0.0)
            )
            lexical = commune.search(
                case.question,
                case.collection,
                k=DEPTH,
                retrieval=replace(base, dense_weight=0.0),
            )

            def run(scores: dict[int, float], case=case) -> list[str]:  # type: ignore[no-untyped-def]
                order = sorted(scores, key=scores.__getitem__, reverse=True)[:10]
                return ranked_units(case, [place[c] for c in order])

            runs["hybrid (shipped)"][case.id] = run({h.chunk_id: h.score for h in hybrid})
            runs["dense half"][case.id] = run({h.chunk_id: h.score for h in dense})
            runs["lexical half"][case.id] = run(
                {h.chunk_id: h.score for h in lexical if h.score > 0}
            )
            runs["windows alone"][case.id] = run(
                {c: 1.0 / (RRF_K + r) for c, r in window_rank.items()}
            )
            lex = {h.chunk_id: h.score for h in lexical if h.score > 0}
            swapped = dict(lex)
            for c, r in window_rank.items():
                swapped[c] = swapped.get(c, 0.0) + base.dense_weight / (RRF_K + r)
            runs["lexical + windows (windows replace the dense half)"][case.id] = run(swapped)
            for w in (0.5, 1.0):
                third = {h.chunk_id: h.score for h in hybrid}
                for c, r in window_rank.items():
                    third[c] = third.get(c, 0.0) + w / (RRF_K + r)
                runs[f"hybrid + windows as a third list, weight {w}"][case.id] = run(third)
            rebuilt = dict(lex)
            for r, h in enumerate(dense, 1):
                rebuilt[h.chunk_id] = rebuilt.get(h.chunk_id, 0.0) + base.dense_weight / (RRF_K + r)
            runs["lexical + dense, fused here (checks the rebuild)"][case.id] = run(rebuilt)
            cos = {h.chunk_id: h.cosine for h in dense}
            maxed = {c: max(cos.get(c, -1.0), best.get(c, -1.0)) for c in set(cos) | set(best)}
            max_order = sorted(maxed, key=maxed.__getitem__, reverse=True)[:DEPTH]
            mixed = dict(lex)
            for r, c in enumerate(max_order, 1):
                mixed[c] = mixed.get(c, 0.0) + base.dense_weight / (RRF_K + r)
            runs["lexical + max(passage, best window)"][case.id] = run(mixed)
        names = sorted(set(slices.values()))
        print(f"{name}: dev MRR@10 over {len(cases)} questions; " + ", ".join(names))
        for label, got in runs.items():
            scores = []
            for s in names:
                qrels = {c.id: expected_units(c) for c in cases if slices[c.id] == s}
                scores.append(retrieval_scores({k: got[k] for k in qrels}, qrels)["mrr@10"])
            cells = " ".join(f"{v:.3f}" for v in scores)
            print(f"  {label:<54} {cells}  mean {np.mean(scores):.3f}", flush=True)


if __name__ == "__main__":
    main()
