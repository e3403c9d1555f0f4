"""Tune the fusion of the lexical and dense halves on the shipped suite's dev split.

Grid over the RRF constant, the lexical weight and the weight of lexical matches in
another language than the question's; each setting is scored by MRR@10 (ranx) in every
slice (fr, en, fr→en, en→fr). Printed: the settings with the best mean over slices, beside
each half alone. The test split is never read here.

    python bench/tune_fusion.py --home eval-data
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from commune.core import Commune  # noqa: E402
from commune.evaluation import load_suite  # noqa: E402
from commune.evaluation.metrics import expected_units, ranked_units, retrieval_scores  # noqa: E402
from commune.evaluation.runner import case_slices, collection_languages  # noqa: E402


def score(commune, cases, slices, settings) -> dict[str, float]:
    runs = {}
    for case in cases:
        hits = commune.search(case.question, case.collection, k=10, retrieval=settings)
        hits = [h for h in hits if h.score > 0]
        runs[case.id] = ranked_units(case, [(h.source, h.section) for h in hits])
    out = {}
    for name in sorted(set(slices.values())):
        qrels = {c.id: expected_units(c) for c in cases if slices[c.id] == name}
        out[name] = retrieval_scores(runs, qrels)["mrr@10"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", default="eval-data")
    ap.add_argument("--suite", default=str(ROOT / "eval" / "suites" / "debian.jsonl"))
    args = ap.parse_args()
    commune = Commune(args.home)
    cases = [c for c in load_suite(args.suite).select("dev") if c.documents]
    langs = collection_languages(commune.engine, cases)
    slices = case_slices(commune.engine, cases, langs)
    base = commune.settings.retrieval
    halves = {
        "lexical only": score(commune, cases, slices, replace(base, dense_weight=0.0)),
        "dense only": score(commune, cases, slices, replace(base, lexical_weight=0.0)),
    }
    results = []
    grid = itertools.product((5, 10, 20, 40), (0.5, 0.75, 1.0), (0.0, 0.25, 0.5, 1.0))
    for rrf_k, lexical_weight, cross in grid:
        settings = replace(
            base, rrf_k=rrf_k, lexical_weight=lexical_weight, cross_lingual_lexical_weight=cross
        )
        per_slice = score(commune, cases, slices, settings)
        mean = sum(per_slice.values()) / len(per_slice)
        results.append((mean, rrf_k, lexical_weight, cross, per_slice))
    names = sorted(set(slices.values()))
    print("dev MRR@10 per slice: " + ", ".join(names))
    for label, per_slice in halves.items():
        print(f"{label:<40} " + " ".join(f"{per_slice[n]:.3f}" for n in names))
    for mean, rrf_k, lw, cross, per_slice in sorted(results, key=lambda r: -r[0])[:12]:
        label = f"rrf_k={rrf_k} lexical={lw} cross-lingual lexical={cross}"
        print(
            f"{label:<40} " + " ".join(f"{per_slice[n]:.3f}" for n in names) + f"  mean {mean:.3f}"
        )


if __name__ == "__main__":
    main()
