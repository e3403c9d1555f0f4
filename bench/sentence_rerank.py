"""Would a passage's best sentence rank it better than the passage's own vector?

USE was trained on sentences, and a passage of a hundred words dilutes the one sentence that
answers: "Comment mettre à jour la liste des paquets disponibles ?" is 0.46 from the handbook's
sentence "For any work with APT, the list of available packages needs to be updated; this can
be done simply through apt update", and 0.30 from the passage that holds it. This measures, on
the dev split of both suites, the hybrid's and the dense half's 40 best passages reranked by
the cosine of each passage's best sentence (of at least three words), alone and combined with
the passage's own scores; MRR@10 (ranx) per slice, beside the shipped hybrid and each half.
It only reranks what retrieval already found: a gain here is an upper bound for storing a
vector per sentence. The test split is never read.

    python bench/sentence_rerank.py --home eval-data
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
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

SUITES = ("debian", "fiches")
DEPTH = 40
# A row: (source, section, fused score, passage cosine, best sentence's cosine).
Row = tuple[str, str, float, float, float]
Ranker = Callable[[list[Row], list[Row], list[tuple[str, str]]], list[tuple[str, str]]]


def rows(commune: Commune, hits, query: np.ndarray, memo: dict[str, np.ndarray]) -> list[Row]:  # type: ignore[no-untyped-def]
    out = []
    for h in hits:
        sentences = [s for s in split_sentences(h.text) if len(s.split()) >= 3] or [h.text]
        todo = [s for s in sentences if s not in memo]
        if todo:
            memo.update(zip(todo, commune.embedder.embed_passages(todo), strict=True))
        best = max(float(memo[s] @ query) for s in sentences)
        out.append((h.source, h.section, h.score, h.cosine, best))
    return out


def by(rows_: list[Row], key: Callable[[Row], float]) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in sorted(rows_, key=key, reverse=True)]


def fused(rows_: list[Row], keys: list[Callable[[Row], float]], weights: list[float]) -> list:  # type: ignore[type-arg]
    """Reciprocal rank fusion (k = 10, as retrieval's) of the orders ``keys`` give."""
    total = np.zeros(len(rows_))
    for key, weight in zip(keys, weights, strict=True):
        order = sorted(range(len(rows_)), key=lambda i: key(rows_[i]), reverse=True)
        for rank, i in enumerate(order):
            total[i] += weight / (10 + rank + 1)
    return [(rows_[i][0], rows_[i][1]) for i in np.argsort(-total, kind="stable")]


RANKERS: dict[str, Ranker] = {
    "hybrid (shipped)": lambda h, d, lex: [(r[0], r[1]) for r in h],
    "dense half": lambda h, d, lex: [(r[0], r[1]) for r in d],
    "lexical half": lambda h, d, lex: lex,
    "dense, by best sentence": lambda h, d, lex: by(d, lambda r: r[4]),
    "dense, by max(passage, sentence)": lambda h, d, lex: by(d, lambda r: max(r[3], r[4])),
    "dense, by passage + sentence": lambda h, d, lex: by(d, lambda r: r[3] + r[4]),
    "hybrid x (1 + 0.5 (sentence - passage))": lambda h, d, lex: by(
        h, lambda r: r[2] * (1 + 0.5 * (r[4] - r[3]))
    ),
    "hybrid x (1 + 1.0 (sentence - passage))": lambda h, d, lex: by(
        h, lambda r: r[2] * (1 + 1.0 * (r[4] - r[3]))
    ),
    "RRF(hybrid, sentence), weight 0.5": lambda h, d, lex: fused(
        h, [lambda r: r[2], lambda r: r[4]], [1.0, 0.5]
    ),
    "RRF(hybrid, passage + sentence), weight 0.5": lambda h, d, lex: fused(
        h, [lambda r: r[2], lambda r: r[3] + r[4]], [1.0, 0.5]
    ),
    "RRF(hybrid, passage + sentence), weight 1": lambda h, d, lex: fused(
        h, [lambda r: r[2], lambda r: r[3] + r[4]], [1.0, 1.0]
    ),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", default="eval-data")
    args = ap.parse_args()
    commune = Commune(args.home)
    base = commune.settings.retrieval
    memo: dict[str, np.ndarray] = {}
    sentences = 0
    for name in SUITES:
        suite = load_suite(ROOT / "eval" / "suites" / f"{name}.jsonl")
        cases = [c for c in suite.select("dev") if c.documents]
        langs = collection_languages(commune.engine, cases)
        slices = case_slices(commune.engine, cases, langs)
        collected = []
        for case in cases:
            query = commune.embedder.embed_query(case.question)
            hybrid = commune.search(case.question, case.collection, k=DEPTH)
            dense = commune.search(
                case.question, case.collection, k=DEPTH, retrieval=replace(base, lexical_weight=0.0)
            )
            lexical = commune.search(
                case.question, case.collection, k=10, retrieval=replace(base, dense_weight=0.0)
            )
            collected.append(
                (
                    case,
                    rows(commune, hybrid, query, memo),
                    rows(commune, dense, query, memo),
                    [(h.source, h.section) for h in lexical if h.score > 0],
                )
            )
        names = sorted(set(slices.values()))
        print(f"{name}: dev MRR@10 over {len(cases)} questions; " + ", ".join(names))
        for label, ranker in RANKERS.items():
            runs = {c.id: ranked_units(c, ranker(h, d, lex)[:10]) for c, h, d, lex in collected}
            scores = []
            for s in names:
                qrels = {c.id: expected_units(c) for c in cases if slices[c.id] == s}
                scores.append(retrieval_scores({k: runs[k] for k in qrels}, qrels)["mrr@10"])
            cells = " ".join(f"{v:.3f}" for v in scores)
            print(f"  {label:<46} {cells}  mean {np.mean(scores):.3f}")
    sentences = len(memo)
    print(f"{sentences} distinct sentences embedded")


if __name__ == "__main__":
    main()
