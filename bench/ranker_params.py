"""The sentence ranker's LightGBM settings tried on dev, beside the shipped ones (bench/README.md,
item 54): five-fold figures over the five assignments of the document groups to folds
(folds.FOLD_SEEDS), five seeds averaged as shipped, each at the shipped budget rule (55 words,
160 for the 40% of answers least sure of their best sentence, the gap's quantile read on each
setting's own scores), so that settings are compared on the same answers' lengths; and first
the shipped ranker read on the candidates it was trained on.

The candidates come from `bench/train_answer.py`'s cache (collected when missing, as that
script does). A setting changes train_answer.PARAMS (and ROUNDS) for its run only. The test
split is never read. About 3.5 minutes a setting on 2 cores.

    python bench/ranker_params.py --home eval-data --cache cand.pkl
    python bench/ranker_params.py --home eval-data --cache cand.pkl '{"lambda_l2": 10}'
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import train_answer  # noqa: E402
from folds import FOLD_SEEDS  # noqa: E402

from commune.answering.answer import gap, sentence_model  # noqa: E402
from commune.core import Commune  # noqa: E402

# What item 54 tried: the settings shipped before it (7 leaves of at least 50 rows, no L2, 300
# rounds), fewer rounds, smaller trees, fewer features per tree, and L2 with larger leaves.
TRIED: list[dict[str, Any]] = [
    {"num_leaves": 7, "min_data_in_leaf": 50, "lambda_l2": 0.0},
    {"rounds": 150, "num_leaves": 7, "min_data_in_leaf": 50, "lambda_l2": 0.0},
    {"num_leaves": 3, "min_data_in_leaf": 100, "lambda_l2": 0.0},
    {"feature_fraction": 0.5, "min_data_in_leaf": 50, "lambda_l2": 0.0},
    {"lambda_l2": 10.0, "min_data_in_leaf": 50},
    {"lambda_l2": 3.0, "min_data_in_leaf": 100},
    {"lambda_l2": 10.0, "min_data_in_leaf": 100},
    {"lambda_l2": 30.0, "min_data_in_leaf": 100},
    {"lambda_l2": 10.0, "min_data_in_leaf": 200},
    {"lambda_l2": 10.0, "min_data_in_leaf": 100, "feature_fraction": 0.5},
]
BUDGET, UNCERTAIN_WORDS, UNCERTAIN_SHARE = 55, 160, 0.4


def five_fold(records: list[dict[str, Any]], setting: dict[str, Any]) -> str:
    """One line: the setting, its five-fold figures per domain, and each assignment's."""
    params = dict(train_answer.PARAMS)
    rounds = train_answer.ROUNDS
    train_answer.PARAMS.update({k: v for k, v in setting.items() if k != "rounds"})
    train_answer.ROUNDS = int(setting.get("rounds", rounds))
    try:
        every, scores = train_answer.every_assignment(records, train_answer.SEEDS, FOLD_SEEDS)
    finally:
        train_answer.PARAMS.clear()
        train_answer.PARAMS.update(params)
        train_answer.ROUNDS = rounds
    gaps = np.asarray([gap(r["cands"], s) for r, s in zip(every, scores, strict=True)])
    at = (UNCERTAIN_WORDS, float(np.quantile(gaps[np.isfinite(gaps)], UNCERTAIN_SHARE)))
    whole = train_answer.outcome(every, scores, BUDGET, float("inf"), at)
    each = train_answer.each_assignment(every, scores, len(records), BUDGET, float("inf"), at)
    cells = ", ".join(
        f"{d} facts {f:.3f} median {w:g} words (each: "
        + ", ".join(f"{row[d][0]:.3f}" for row in each)
        + ")"
        for d, (f, w) in whole.items()
    )
    return f"{json.dumps(setting)}: {cells}"


def in_sample(records: list[dict[str, Any]]) -> str:
    """The shipped ranker (answer_model.json) read on the dev candidates, which it was trained
    on, at its own budget: against the five-fold figures, how far it fits the questions seen."""
    scorer = sentence_model()
    scores = [scorer.score(r["x"]) for r in records]
    # train_answer.outcome's budget rule is SentenceScorer.budget's: the longer budget where
    # the best candidate stands less than the confident gap above the next.
    read = train_answer.outcome(
        records,
        scores,
        scorer.max_words,
        scorer.margin,
        (scorer.uncertain_words, scorer.confident_gap),
    )
    return "shipped ranker, in sample: " + ", ".join(
        f"{d} facts {f:.3f}" for d, (f, _) in read.items()
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", default="eval-data")
    ap.add_argument("--cache", help="bench/train_answer.py's candidates (pickle)")
    ap.add_argument(
        "settings",
        nargs="*",
        help="JSON objects of LightGBM parameters (and rounds); default: those item 54 tried",
    )
    args = ap.parse_args()
    records, _ = train_answer.candidates_of(Commune(args.home), args.cache)
    settings = [json.loads(s) for s in args.settings] or TRIED
    print(f"shipped: {json.dumps({**train_answer.PARAMS, 'rounds': train_answer.ROUNDS})}")
    print(in_sample(records), flush=True)
    for setting in settings:
        print(five_fold(records, setting), flush=True)


if __name__ == "__main__":
    main()
