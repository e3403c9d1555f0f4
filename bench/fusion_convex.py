"""Tried on dev, not kept (bench/README.md, item 32): a convex combination of the halves'
normalised scores in place of reciprocal rank fusion.

Bruch, Gai and Ingber ("An Analysis of Fusion Functions for Hybrid Retrieval", ACM TOIS
2023) found a convex combination of normalised lexical and dense scores better than RRF,
and tuned with few questions: RRF reads only ranks, so a list's confidence (a passage far
ahead of the next) is lost. Each passage among the candidates of either list scores
``(1 - alpha) * lexical + alpha * dense``, the lexical score (the question's words in the
other languages at ``translated_weight``, a match in another language at
``cross_lingual_lexical_weight``, as the shipped fusion weighs them) normalised either by the
list's best (``max``) or by the most the question's terms could score (``theo``: the sum of
their IDF, BM25's bound), the cosine by the dense list's best. Dev MRR@10 per slice of both
suites, beside the shipped fusion; the test split is never read.

    python bench/fusion_convex.py --home eval-data --norm max,theo --alpha 0.3,0.5,0.7
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from commune.answering import retrieve, search  # noqa: E402
from commune.core import Commune  # noqa: E402
from commune.evaluation import load_suite  # noqa: E402
from commune.evaluation.metrics import expected_units, ranked_units, retrieval_scores  # noqa: E402
from commune.evaluation.runner import case_slices, collection_languages  # noqa: E402

SUITES = ("debian", "fiches")
# The variant searched with: None for the shipped fusion, else (normalisation, alpha).
VARIANT: dict[str, Any] = {"now": None}


def convex(catalog, query, settings, k, collection_ids=None, enriched=None):  # type: ignore[no-untyped-def]
    """retrieve.search_catalog with the convex combination; the halves alone (a zero weight)
    and the shipped fusion go to the shipped function."""
    if VARIANT["now"] is None or not (settings.lexical_weight and settings.dense_weight):
        return retrieve.search_catalog(catalog, query, settings, k, collection_ids, enriched)
    norm, alpha = VARIANT["now"]
    if len(catalog) == 0:
        return []
    mask = catalog.in_collections(collection_ids) if collection_ids is not None else None
    if catalog.live is not None:
        mask = catalog.live if mask is None else mask & catalog.live
    n = max(settings.candidates, k)
    lex_rows, lex_scores = catalog.lexical.search(query.terms, n, mask)
    dense_rows, cosines = catalog.dense.search(query.vector, n, mask)
    scale = np.where(
        catalog.languages_of(lex_rows) == query.language,
        1.0,
        settings.cross_lingual_lexical_weight,
    )
    tr_rows, tr_scores = np.zeros(0, dtype=np.int64), np.zeros(0)
    if query.translations and settings.translated_weight > 0:
        terms = list(dict.fromkeys(t for ts in query.translations.values() for t in ts))
        langs = np.logical_or.reduce([catalog.in_language(lang) for lang in query.translations])
        tr_rows, tr_scores = catalog.lexical.search(
            terms, n, langs if mask is None else mask & langs
        )
        tr_rows, tr_scores = tr_rows[tr_scores > 0], tr_scores[tr_scores > 0]

    def bound(terms: list[str]) -> float:
        index = catalog.lexical
        return sum(index.idf(t) for t in dict.fromkeys(terms) if index.doc_freq(t)) or 1.0

    def normalised(scores: np.ndarray, terms: list[str]) -> np.ndarray:
        scores = np.asarray(scores, dtype=np.float64)
        if not len(scores):
            return scores
        return scores / (max(scores.max(), 1e-9) if norm == "max" else bound(terms))

    translated = [t for ts in query.translations.values() for t in ts]
    lexical = dict(
        zip(lex_rows.tolist(), (normalised(lex_scores, query.terms) * scale).tolist(), strict=True)
    )
    other = dict(zip(tr_rows.tolist(), normalised(tr_scores, translated).tolist(), strict=True))
    union = list(dict.fromkeys(lex_rows.tolist() + dense_rows.tolist() + tr_rows.tolist()))
    cos = {r: float(np.dot(catalog.dense.vector(r), query.vector)) for r in union}
    top = max(float(cosines.max()) if len(cosines) else 1.0, 1e-9)
    lex_rank = {r: i for i, r in enumerate(lex_rows.tolist(), 1)}
    dense_rank = {r: i for i, r in enumerate(dense_rows.tolist(), 1)}
    scored = sorted(
        (
            (
                r,
                (1 - alpha) * (lexical.get(r, 0.0) + settings.translated_weight * other.get(r, 0.0))
                + alpha * max(cos[r], 0.0) / top,
            )
            for r in union
        ),
        key=lambda rs: (-rs[1], rs[0]),
    )
    return [
        (catalog.chunk_id(r), s, lex_rank.get(r), dense_rank.get(r), cos[r]) for r, s in scored[:k]
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", default="eval-data")
    ap.add_argument("--norm", default="max,theo", help="normalisations of the lexical scores")
    ap.add_argument("--alpha", default="0.3,0.5,0.7", help="the dense list's shares")
    args = ap.parse_args()
    search.search_catalog = convex  # the Searcher calls it by this name
    commune = Commune(args.home)
    suites = {}
    for name in SUITES:
        cases = [c for c in load_suite(ROOT / "eval" / "suites" / f"{name}.jsonl").select("dev")]
        cases = [c for c in cases if c.documents]
        langs = collection_languages(commune.engine, cases)
        suites[name] = (cases, case_slices(commune.engine, cases, langs))

    def row() -> str:
        cells = []
        for name, (cases, slices) in suites.items():
            runs = {}
            for case in cases:
                hits = [
                    h for h in commune.search(case.question, case.collection, k=10) if h.score > 0
                ]
                runs[case.id] = ranked_units(case, [(h.source, h.section) for h in hits])
            for part in sorted(set(slices.values())):
                qrels = {c.id: expected_units(c) for c in cases if slices[c.id] == part}
                cells.append(f"{name} {part} {retrieval_scores(runs, qrels)['mrr@10']:.3f}")
        return ", ".join(cells)

    print(f"{'shipped fusion (RRF)':<24} {row()}", flush=True)
    for norm in args.norm.split(","):
        for alpha in (float(a) for a in args.alpha.split(",")):
            VARIANT["now"] = (norm, alpha)
            print(f"{f'convex {norm} alpha {alpha}':<24} {row()}", flush=True)


if __name__ == "__main__":
    main()
