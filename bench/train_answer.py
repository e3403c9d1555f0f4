"""Train the extractive answer's sentence ranker on the shipped suites' dev splits.

For every answerable dev question of both suites (the Debian manuals and the service-public.fr
fiches), the passages Commune would answer from are split into candidate sentences and listing
lines exactly as `commune ask` does (the hits, and the best document's companions); a
candidate's grade is the number of the question's facts it holds. LightGBM's LambdaRank
learns to order each question's candidates over
:data:`commune.answering.answer.FEATURES`, five times with five seeds: a candidate's score is
the mean of the five rankers'. The word budget of an answer is chosen on five-fold
predictions over dev (folds by document group, as the suite splits), made for each of
:data:`folds.FOLD_SEEDS`' assignments of the groups to folds and read together: the budget
giving the most answers with every fact, in the weaker domain, while the median answer stays
within ``--median-words``; then whether a longer budget for the answers whose best candidate
does not stand out above the second (a share of them, by the gap between the two best scores)
gives more, the medians still within the limit. The rankers are then refitted on all of dev and
written with its figures to ``src/commune/answering/answer_model.json``. The test split is
never read.

Run it after ``bench/calibrate.py``: which questions get an answer, and so train the ranker,
is the refusal model's decision, while that model reads only the passages found and not the
ranker; in this order a rerun from a clean tree gives the same files (bench/README.md, item 25).

    python bench/calibrate.py --home eval-data
    python bench/train_answer.py --home eval-data
    python bench/train_answer.py --home eval-data --seeds 1 --five-fold-only   # one ranker
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import sys
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from folds import FOLD_SEEDS, FOLDS  # noqa: E402
from folds import fold_of as group_folds  # noqa: E402

from commune.answering.answer import (  # noqa: E402
    FEATURES,
    MAX_SENTENCES,
    Candidate,
    SentenceScorer,
    answer_context,
    candidates,
    choose,
    gap,
    sentence_features,
)
from commune.answering.answer_types import KINDS  # noqa: E402
from commune.answering.licensing import usable_for_answers  # noqa: E402
from commune.answering.path import COMPANIONS  # noqa: E402
from commune.answering.retrieve import Hit  # noqa: E402
from commune.core import Commune  # noqa: E402
from commune.evaluation import load_suite  # noqa: E402
from commune.evaluation.metrics import contains_facts  # noqa: E402
from commune.evaluation.suite import document_groups  # noqa: E402
from commune.index.lexicon import flatten  # noqa: E402
from commune.text.lang import detect  # noqa: E402

SUITES = ("debian", "fiches")
PARAMS: dict[str, Any] = {
    "objective": "lambdarank",
    "learning_rate": 0.05,
    # Small trees with many rows per leaf: on five folds over dev, 7 leaves / 50 rows kept
    # 0.361 / 0.494 answers with every fact within 60 words, against 0.345 / 0.470 with 15 / 20
    # and 0.329 / 0.440 with 31 / 20; the suites' wording is not the next questions'. Leaves
    # shrunk (L2 10) and of 100 rows gained on dev and lost on test (bench/README.md, item 54).
    "num_leaves": 7,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "num_threads": 1,
    "deterministic": True,
    "seed": 0,
    "verbose": -1,
}
# The sentence's relevance only ever raises its score: more of the question's words, a
# closer meaning, a better passage, the kind of fact asked for, a heading the question names.
# Without the constraint, trees fitted on a few hundred questions learn dips between them
# (a sentence with every term of the question below its neighbour with half of them).
RISING = (
    "cosine",
    "overlap",
    "passage_rank",
    "passage_cosine",
    "passage_coverage",
    "cosine_rank",
    "overlap_rank",
    *(f"match_{kind}" for kind in KINDS),
    "cosine_gap",
    "overlap_gap",
    "heading_overlap",
)
FALLING = ("heading_unasked",)
PARAMS["monotone_constraints"] = [1 if f in RISING else -1 if f in FALLING else 0 for f in FEATURES]
ROUNDS = 300
# Rankers trained alike with these seeds, their scores averaged. One ranker's five-fold dev
# figures moved with the seed (fiches 0.544 to 0.556 over three seeds; up to 0.036 apart once
# a feature was added or feature sampling was off); five rankers averaged held more facts on
# the fiches at every set of seeds tried, 0.574 to 0.598 (bench/README.md, item 19).
SEEDS = (0, 1, 2, 3, 4)
BUDGETS = (45, 50, 55, 60, 65, 70, 80, 100)
# How far below the best sentence's score another may be and still join (inf: any).
MARGINS = (0.5, 1.0, 1.5, 2.0, 3.0, float("inf"))
# The longer budget of the answers whose best candidate does not stand out, and the share of
# answers that may have it (the quantile of the gap between the two best scores).
UNCERTAIN_BUDGETS = (80, 100, 130, 160)
UNCERTAIN_SHARES = (0.2, 0.3, 0.4, 0.5)


def context_of(commune: Commune, question: str, collection: str, passages: int) -> list[Hit]:
    """The passages `commune ask` answers ``question`` from: the hits, and the best
    document's companions, as far as the refusal model lets them through."""
    hits = commune.search(question, collection, k=8)
    # As the operator asks: no declared use, the charter's TDM rule (answering/path.py).
    hits, _ = usable_for_answers(hits, None, commune.settings.charter.tdm_reserved)
    companions = (
        commune.searcher.companions(question, hits[0], {h.chunk_id for h in hits}, COMPANIONS)
        if hits
        else []
    )
    lang = detect(question, default="en")
    return answer_context(question, lang, hits, passages, companions)


def collect(commune: Commune, passages: int = 5) -> tuple[list[dict[str, Any]], str]:
    """One record per answerable dev question that gets an answer: its candidates,
    features, grades, domain and document group. ``passages``: how many of the hits an answer
    is drawn from (`commune ask`'s five; bench/ranker_variants.py tries others), kept in each
    record so that a cache says what it holds."""
    records, hashes = [], []
    for name in SUITES:
        suite = load_suite(ROOT / "eval" / "suites" / f"{name}.jsonl")
        hashes.append(f"{suite.name} {suite.sha256}")
        group_of = document_groups(suite.cases)
        for case in suite.select("dev"):
            if not case.facts:
                continue
            lang = detect(case.question, default="en")
            context = context_of(commune, case.question, case.collection, passages)
            # As `commune ask` does: the question's terms in the other languages count in a
            # sentence's overlap (Searcher.equivalents).
            equivalents = commune.searcher.equivalents(case.question)
            cands: list[Candidate] = candidates(context)
            if not cands:
                continue
            x = sentence_features(
                case.question, lang, cands, context, commune.embedder, flatten(equivalents)
            )
            y = np.asarray(
                [sum(contains_facts(c.text, [alts]) for alts in case.facts) for c in cands]
            )
            records.append(
                {
                    "domain": name,
                    "question": case.question,
                    "group": f"{name}/{group_of[case.id]}",
                    "facts": case.facts,
                    "cands": cands,
                    "x": x,
                    "y": y,
                    "passages": passages,
                }
            )
    return records, "; ".join(hashes)


def train(records: list[dict[str, Any]], seeds: tuple[int, ...] = SEEDS) -> list[lightgbm.Booster]:
    """One ranker per seed, on the same rows."""
    data = lightgbm.Dataset(
        np.vstack([r["x"] for r in records]),
        np.minimum(np.concatenate([r["y"] for r in records]), 3),
        group=[len(r["y"]) for r in records],
    )
    return [
        lightgbm.train({**PARAMS, "seed": seed}, data, num_boost_round=ROUNDS) for seed in seeds
    ]


def five_fold(
    records: list[dict[str, Any]], seeds: tuple[int, ...], fold_seed: int
) -> list[np.ndarray]:
    """Each record's scores by the rankers trained on the four folds it is not in, the
    groups assigned to folds by ``fold_seed``."""
    fold_of = group_folds((r["group"] for r in records), fold_seed)
    scores: list[np.ndarray] = [np.zeros(0)] * len(records)
    for f in range(FOLDS):
        fold = scorer(train([r for r in records if fold_of[r["group"]] != f], seeds))
        for i, r in enumerate(records):
            if fold_of[r["group"]] == f:
                scores[i] = fold.score(r["x"])
    return scores


def every_assignment(
    records: list[dict[str, Any]], seeds: tuple[int, ...], fold_seeds: tuple[int, ...]
) -> tuple[list[dict[str, Any]], list[np.ndarray]]:
    """Each record once per assignment of the groups to folds, beside its five-fold scores
    under that assignment: figures read on them together are not one draw of the folds
    (folds.FOLD_SEEDS)."""
    every: list[dict[str, Any]] = []
    scores: list[np.ndarray] = []
    for fold_seed in fold_seeds:
        every.extend(records)
        scores.extend(five_fold(records, seeds, fold_seed))
    return every, scores


def each_assignment(
    every, scores, n: int, budget: int, margin: float, uncertain: tuple[int, float] | None
) -> list[dict[str, tuple[float, float]]]:
    """:func:`outcome` for each assignment alone (``every`` and ``scores`` as
    :func:`every_assignment` gives them, ``n`` records each): the spread their mean smooths."""
    return [
        outcome(every[k * n : (k + 1) * n], scores[k * n : (k + 1) * n], budget, margin, uncertain)
        for k in range(len(every) // n)
    ]


def candidates_of(
    commune: Commune, cache: str | None, passages: int = 5
) -> tuple[list[dict[str, Any]], str]:
    """:func:`collect`'s records, read from ``cache`` when it exists (written there when
    not); a cache of candidates from another number of passages is refused, not read."""
    if cache and Path(cache).exists():
        with open(cache, "rb") as f:
            records, suites = pickle.load(f)
        held = sorted({r.get("passages", 5) for r in records})
        if held != [passages]:
            sys.exit(
                f"{cache} holds candidates from {', '.join(map(str, held))} passages, not "
                f"{passages}: give another --cache"
            )
        return records, suites
    records, suites = collect(commune, passages)
    if cache:
        with open(cache, "wb") as f:
            pickle.dump((records, suites), f)
    return records, suites


def scorer(boosters: list[lightgbm.Booster]) -> SentenceScorer:
    """The rankers as `commune ask` scores with them, read from the file's own format: the
    five-fold figures are those of the shipped scoring, not of a copy of it. (The budget is
    what this script chooses afterwards; the scorer's own is not used here.)"""
    models = [b.model_to_string() for b in boosters]
    return SentenceScorer(
        {"features": list(FEATURES), "boosters": models, "max_words": 0, "margin": 0}
    )


def answers(records, scores, budget: int, margin: float, uncertain: tuple[int, float] | None):
    """(record, answer text) per record, as `commune ask` would quote it. ``uncertain``:
    (words, gap) the budget of an answer whose best candidate stands less than ``gap`` above
    the next quotable one (SentenceScorer.budget)."""
    for r, s in zip(records, scores, strict=True):
        words = budget if uncertain is None or gap(r["cands"], s) >= uncertain[1] else uncertain[0]
        chosen = choose(r["cands"], s, words, margin)
        yield r, " ".join(f"{r['cands'][i].text} [1]" for i in chosen)


def outcome(
    records, scores, budget: int, margin: float, uncertain: tuple[int, float] | None = None
) -> dict[str, tuple[float, float]]:
    """Per domain: share of answers holding every fact, and the median answer's words."""
    per: dict[str, tuple[list[bool], list[int]]] = {d: ([], []) for d in SUITES}
    for r, text in answers(records, scores, budget, margin, uncertain):
        per[r["domain"]][0].append(contains_facts(text, r["facts"]))
        per[r["domain"]][1].append(len(text.split()))
    return {d: (float(np.mean(ok)), float(statistics.median(n))) for d, (ok, n) in per.items()}


def longest_quarter(records, scores, budget: int, margin: float, uncertain) -> float:
    """The 75th percentile of the answers' words, the longer of the two domains."""
    per: dict[str, list[int]] = {d: [] for d in SUITES}
    for r, text in answers(records, scores, budget, margin, uncertain):
        per[r["domain"]].append(len(text.split()))
    return max(float(np.percentile(n, 75)) for n in per.values() if n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", default="eval-data")
    ap.add_argument("--median-words", type=int, default=58, help="on dev; the target is 60")
    ap.add_argument(
        "--quarter-words", type=int, default=100, help="the longest quarter's shortest, on dev"
    )
    ap.add_argument("--cache", help="keep the collected candidates in this file (pickle)")
    ap.add_argument(
        "--seeds",
        default=",".join(map(str, SEEDS)),
        help="the rankers' seeds, comma-separated (bench/README.md, item 19: one seed, or "
        "another set of five, to see how far the figures move)",
    )
    ap.add_argument(
        "--fold-seeds",
        default=",".join(map(str, FOLD_SEEDS)),
        help="the assignments of the document groups to the five folds, comma-separated "
        "(bench/README.md, item 23)",
    )
    ap.add_argument(
        "--five-fold-only", action="store_true", help="print the dev figures, write no model"
    )
    args = ap.parse_args()
    seeds = tuple(int(x) for x in args.seeds.split(","))
    commune = Commune(args.home)
    one_pass, suites = candidates_of(commune, args.cache)
    # Five folds by document group: a question's translation never scores its own ranker.
    # Each assignment of the groups to folds scores every question once; the figures below
    # read all assignments' answers together (each question once per assignment), so that
    # the budget is not chosen on one draw of the folds (folds.FOLD_SEEDS).
    fold_seeds = tuple(int(x) for x in args.fold_seeds.split(","))
    records, scores = every_assignment(one_pass, seeds, fold_seeds)
    table = {(b, m): outcome(records, scores, b, m) for b in BUDGETS for m in MARGINS}
    unbounded = outcome(records, scores, 10**6, float("inf"))
    within = [k for k in table if all(words <= args.median_words for _, words in table[k].values())]
    # The most answers with every fact in the weaker domain; then the shorter budget.
    budget, margin = max(within, key=lambda k: (min(f for f, _ in table[k].values()), -k[0]))
    n_cands = sum(len(r["y"]) for r in one_pass)
    print(
        f"dev: {len(one_pass)} answered questions with facts, {n_cands} candidates; "
        f"five-fold over {len(fold_seeds)} assignments of the groups to folds"
    )
    for (b, m), row in table.items():
        cells = ", ".join(f"{d} facts {f:.3f} median {w:g} words" for d, (f, w) in row.items())
        kept = "  <- kept" if (b, m) == (budget, margin) else ""
        print(f"budget {b} margin {m}: {cells}{kept}")
    cells = ", ".join(f"{d} facts {f:.3f} median {w:g} words" for d, (f, w) in unbounded.items())
    print(f"no budget: {cells}")
    # A second budget for answers whose best candidate does not stand out: the gaps' quantile
    # on the five-fold scores sets how many answers may quote more. Kept only where it gives
    # more answers with every fact in the weaker domain, medians still within the limit.
    gaps = np.asarray([gap(r["cands"], s) for r, s in zip(records, scores, strict=True)])
    gaps = gaps[np.isfinite(gaps)]
    tiered = {
        (b, long, q): outcome(records, scores, b, margin, (long, float(np.quantile(gaps, q))))
        for b in BUDGETS
        for long in UNCERTAIN_BUDGETS
        for q in UNCERTAIN_SHARES
    }
    uncertain: tuple[int, float, float] | None = None
    sure = budget

    def merit(row: dict[str, tuple[float, float]]) -> tuple[float, float]:
        """The weaker domain first, then both together."""
        return min(f for f, _ in row.values()), sum(f for f, _ in row.values())

    best = merit(table[budget, margin])
    for (b, long, q), row in tiered.items():
        cells = ", ".join(f"{d} facts {f:.3f} median {w:g} words" for d, (f, w) in row.items())
        print(f"budget {b}, {long} words for the {q:.0%} least sure: {cells}")
        if not all(w <= args.median_words for _, w in row.values()) or merit(row) <= best:
            continue
        # A median says nothing of the longer half: three answers in four stay readable.
        at = (long, float(np.quantile(gaps, q)))
        if longest_quarter(records, scores, b, margin, at) > args.quarter_words:
            continue
        best, sure, uncertain = merit(row), b, (*at, q)
    final = table[budget, margin]
    if uncertain is not None:
        final = tiered[sure, uncertain[0], uncertain[2]]
        print(f"kept: {sure} words, {uncertain[0]} for the {uncertain[2]:.0%} least sure answers")
    cells = ", ".join(f"{d} facts {f:.3f} median {w:g} words" for d, (f, w) in final.items())
    print(f"five-fold on dev, seeds {args.seeds}: {cells}")
    # What one assignment alone would have said: the spread the mean above smooths.
    at = (uncertain[0], uncertain[1]) if uncertain else None
    each = each_assignment(records, scores, len(one_pass), sure, margin, at)
    for d in SUITES:
        figures = ", ".join(f"{row[d][0]:.3f}" for row in each)
        print(f"  {d}, each assignment: {figures}")
    if args.five_fold_only:
        return
    boosters = train(one_pass, seeds)
    out = {
        "features": list(FEATURES),
        "max_words": sure,
        "margin": margin if margin != float("inf") else 1e9,
        "uncertain_words": uncertain[0] if uncertain else budget,
        "confident_gap": round(uncertain[1], 6) if uncertain else 0.0,
        "trained_on": {
            "suites": suites,
            "split": "dev",
            "questions": len(one_pass),
            "candidates": sum(len(r["y"]) for r in one_pass),
            "positives": int(sum((r["y"] > 0).sum() for r in one_pass)),
            "embedder": commune.settings.retrieval.embedder,
            "lightgbm": lightgbm.__version__,
            "params": PARAMS,
            "rounds": ROUNDS,
            "seeds": list(seeds),
            "fold_seeds": list(fold_seeds),
            "max_sentences": MAX_SENTENCES,
            "median_words_at_most": args.median_words,
            "dev_five_fold": {
                d: {"all_facts": round(f, 4), "median_words": w} for d, (f, w) in final.items()
            },
            "dev_five_fold_one_budget": {
                d: {"all_facts": round(f, 4), "median_words": w}
                for d, (f, w) in table[budget, margin].items()
            },
            "dev_five_fold_each_assignment": {
                d: [round(row[d][0], 4) for row in each] for d in SUITES
            },
            "uncertain_share": uncertain[2] if uncertain else 0.0,
            "dev_five_fold_without_budget": {
                d: {"all_facts": round(f, 4), "median_words": m} for d, (f, m) in unbounded.items()
            },
        },
        "boosters": [b.model_to_string() for b in boosters],
    }
    path = ROOT / "src" / "commune" / "answering" / "answer_model.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
