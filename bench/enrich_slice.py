"""Does the enriched list (e5-small, index/enrich.py) help ranking? Measured on a slice.

Embedding the whole fiches corpus with e5-small takes far too long on 2 cores, so this takes
the documents of the first ``--questions`` answerable dev questions of the fiches suite,
builds a home of those documents alone, and measures document MRR@10 over every dev question
about them (their translations included): first with USE + BM25 (nothing enriched), then
after `commune enrich` with the e5 list fused at several weights, and with e5 in place of USE.
A slice, on dev: a sign, not a result.

    PYTHONPATH=src python bench/enrich_slice.py --fiches .cache/fiches --home /tmp/slice
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

from commune.config import RetrievalSettings
from commune.core import Commune
from commune.evaluation.metrics import ranked_units
from commune.evaluation.suite import Case, load_suite

ROOT = Path(__file__).resolve().parents[1]


def mrr(commune: Commune, cases: list[Case], retrieval: RetrievalSettings | None = None) -> float:
    """Mean reciprocal rank of the first expected document in the top 10 passages."""
    total = 0.0
    for case in cases:
        hits = commune.search(case.question, collection=case.collection, k=10, retrieval=retrieval)
        units = ranked_units(case, [(h.source, h.section) for h in hits])
        first = next((i for i, u in enumerate(units, 1) if u.startswith("d")), None)
        total += 1 / first if first else 0.0
    return total / len(cases)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fiches", type=Path, required=True, help="the fetched fiche JSONs")
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--questions", type=int, default=30)
    args = parser.parse_args()

    suite = load_suite(ROOT / "eval" / "suites" / "fiches.jsonl")
    dev = [c for c in suite.select("dev") if c.documents and not c.unanswerable]
    docs = sorted({d for c in dev[: args.questions] for d in c.documents})
    cases = [c for c in dev if set(c.documents) <= set(docs)]
    if args.home.exists():
        shutil.rmtree(args.home)
    corpus = args.home.parent / (args.home.name + "-corpus")
    shutil.rmtree(corpus, ignore_errors=True)
    corpus.mkdir(parents=True)
    for d in docs:
        shutil.copy(args.fiches / d, corpus / d)

    out: dict[str, object] = {"documents": len(docs), "questions": len(cases)}
    with Commune(args.home) as c:
        c.add([corpus], collection="service-public-fr", licence="etalab-2.0")
        c.reindex()
        out["passages"] = c.enrichment().total  # type: ignore[union-attr]
        out["fr"] = sum(1 for x in cases if x.language == "fr")
        out["en"] = len(cases) - int(out["fr"])  # type: ignore[call-overload]
        out["use+bm25"] = mrr(c, cases)
        out["use alone"] = mrr(c, cases, replace(c.settings.retrieval, lexical_weight=0.0))
        print(out, file=sys.stderr, flush=True)
        started = time.process_time()
        c.enrich()
        out["enrich_cpu_seconds"] = round(time.process_time() - started, 1)
        print(out, file=sys.stderr, flush=True)
    for weight in (0.5, 1.0, 2.0):
        settings = c.settings
        weighed = replace(settings, enrich=replace(settings.enrich, weight=weight))
        with Commune(settings=weighed) as e:
            out[f"use+bm25+e5 w={weight}"] = mrr(e, cases)
            if weight == 1.0:
                # e5 in place of USE: the USE list weighed 0.
                out["bm25+e5"] = mrr(e, cases, replace(settings.retrieval, dense_weight=0.0))
                out["e5 alone"] = mrr(
                    e, cases, replace(settings.retrieval, dense_weight=0.0, lexical_weight=0.0)
                )
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
