"""Tried on dev, not kept (bench/README.md, item 32): a question-sentence similarity learned
over the default embedder's vectors, as three more features of the sentence ranker.

The ranker's sense of meaning is USE's cosine, which rates a sentence on the question's
topic as highly as the one that answers it (item 24). A logistic regression (L2, Newton's
method) over the elementwise product of the question's and the sentence's USE vectors learns
which of the 512 dimensions matter for "holds a fact asked for"; its score, the gap to the
question's best and its rank join the ranker's features. Stacked without leaking: in each of
the five folds the regression is trained on the four others, and the ranker's own training
rows get scores from two halves of those four (by document group), each scored by a
regression trained on the other half. Five-fold over every assignment of the groups, at
the shipped budget, beside the shipped features (`ranker_variants.py base`). The test split
is never read.

    python bench/learned_similarity.py --home eval-data --cache cand.pkl --vectors use.pkl \
        --l2 10,100,1000
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import ranker_variants  # noqa: E402
import train_answer  # noqa: E402
from calibrate import fit  # noqa: E402  (the same Newton's method)
from folds import FOLD_SEEDS, FOLDS  # noqa: E402
from folds import fold_of as group_folds  # noqa: E402

from commune.answering.answer import FEATURES, gap  # noqa: E402
from commune.core import Commune  # noqa: E402

ADDED = ["e5_cosine", "e5_gap", "e5_rank"]  # rising, as USE's own (ranker_variants.RISING)


def vectors(commune: Commune, records: list[dict[str, Any]], path: Path | None) -> list[Any]:
    """Each record's question vector and its candidates' (kept in ``path`` between runs)."""
    if path and path.exists():
        with open(path, "rb") as f:
            held = pickle.load(f)
        if len(held) == len(records):
            return held
    out = []
    for r in records:
        q = commune.embedder.embed_query(r["question"])
        out.append((q, commune.embedder.embed_sentences([c.text for c in r["cands"]])))
    if path:
        with open(path, "wb") as f:
            pickle.dump(out, f)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", required=True)
    ap.add_argument("--cache", required=True, help="train_answer.py's candidates (made if missing)")
    ap.add_argument("--vectors", help="a file keeping the USE vectors between runs")
    ap.add_argument("--l2", default="10,100,1000", help="the regression's L2 weights")
    args = ap.parse_args()
    commune = Commune(args.home)
    records, _ = train_answer.candidates_of(commune, args.cache)
    held = vectors(commune, records, Path(args.vectors) if args.vectors else None)
    products = [cands * q[None, :] for q, cands in held]
    labels = [(r["y"] > 0).astype(float) for r in records]
    shipped = json.loads((ROOT / "src/commune/answering/answer_model.json").read_text("utf-8"))
    budget, margin = shipped["max_words"], shipped["margin"]
    train_answer.PARAMS["monotone_constraints"] = ranker_variants.constraints(
        list(FEATURES) + ADDED
    )

    def scores_of(l2: float, train: list[int], scored: list[int]) -> dict[int, np.ndarray]:
        w = fit(
            np.vstack([products[i] for i in train]), np.concatenate([labels[i] for i in train]), l2
        )
        return {i: products[i] @ w[:-1] + w[-1] for i in scored}

    def with_score(i: int, s: np.ndarray) -> np.ndarray:
        rank = (np.round(s, 6)[None, :] > np.round(s, 6)[:, None]).sum(axis=1)
        return np.column_stack([records[i]["x"], s, s - s.max(), 1 / (1 + rank)])

    def five_fold(l2: float, fold_seed: int) -> list[np.ndarray]:
        fold_of = group_folds((r["group"] for r in records), fold_seed)
        out: list[np.ndarray] = [np.zeros(0)] * len(records)
        for f in range(FOLDS):
            train = [i for i, r in enumerate(records) if fold_of[r["group"]] != f]
            held_out = [i for i, r in enumerate(records) if fold_of[r["group"]] == f]
            halves = group_folds((records[i]["group"] for i in train), fold_seed + 100)
            half = {i: halves[records[i]["group"]] % 2 for i in train}
            inner: dict[int, np.ndarray] = {}
            for h in (0, 1):
                inner |= scores_of(
                    l2, [i for i in train if half[i] != h], [i for i in train if half[i] == h]
                )
            outer = scores_of(l2, train, held_out)
            rankers = train_answer.scorer(
                train_answer.train([{**records[i], "x": with_score(i, inner[i])} for i in train])
            )
            for i in held_out:
                out[i] = rankers.score(with_score(i, outer[i]))
        return out

    for l2 in (float(v) for v in args.l2.split(",")):
        every: list[dict[str, Any]] = []
        scores: list[np.ndarray] = []
        for fold_seed in FOLD_SEEDS:
            every.extend(records)
            scores.extend(five_fold(l2, fold_seed))
        gaps = np.asarray([gap(r["cands"], s) for r, s in zip(every, scores, strict=True)])
        share = shipped["trained_on"].get("uncertain_share")
        tier = None
        if share:
            tier = (shipped["uncertain_words"], float(np.quantile(gaps[np.isfinite(gaps)], share)))
        row = train_answer.outcome(every, scores, budget, margin, tier)
        each = train_answer.each_assignment(every, scores, len(records), budget, margin, tier)
        print(
            f"L2 {l2:g}: "
            + ", ".join(f"{d} facts {f:.3f} median {w:g} words" for d, (f, w) in row.items()),
            flush=True,
        )
        for d in row:
            print(f"  {d}, each assignment: " + ", ".join(f"{e[d][0]:.3f}" for e in each))


if __name__ == "__main__":
    main()
