"""Train the extractive answer's sentence scorer on the shipped suite's dev split.

For every answerable dev question, the passages Commune would answer from are split into
candidate sentences and listing lines (exactly as `commune ask` does); a candidate is a
positive when it contains one of the question's answer facts. A logistic regression over
:data:`commune.answer.FEATURES` (L2-regularised, fitted by Newton's method in numpy: twelve
weights need no library) then writes ``src/commune/answer_model.json``. The test split is
never read here.

    python bench/train_answer.py --home eval-data [--suite eval/suites/debian.jsonl]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from commune.answer import FEATURES, candidates, is_relevant, sentence_features  # noqa: E402
from commune.core import Commune  # noqa: E402
from commune.evaluation import load_suite  # noqa: E402
from commune.evaluation.metrics import contains_facts  # noqa: E402
from commune.text.lang import detect  # noqa: E402


def dataset(commune: Commune, cases) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs, ys, groups = [], [], []
    for qi, case in enumerate(cases):
        hits = commune.search(case.question, case.collection, k=8)
        hits, _ = commune.usable_for_answers(hits, commune.actor(None))
        relevant = [h for h in hits if is_relevant(h)][:5]
        cands = candidates(relevant)
        if not cands:
            continue
        lang = detect(case.question, default="en")
        feats = sentence_features(case.question, lang, cands, relevant, commune.embedder)
        labels = [float(any(contains_facts(c.text, [alts]) for alts in case.facts)) for c in cands]
        xs.append(feats)
        ys.append(labels)
        groups.extend([qi] * len(cands))
    return np.vstack(xs), np.concatenate(ys), np.asarray(groups)


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50) -> tuple[np.ndarray, float]:
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    reg = np.eye(xb.shape[1]) * l2
    reg[-1, -1] = 0.0  # the bias is not shrunk
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(xb @ w)))
        grad = xb.T @ (p - y) + reg @ w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + reg
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def top1_hit_rate(x, y, groups, w, b) -> float:
    """Share of questions whose best-scored candidate holds a fact."""
    scores = x @ w + b
    hits = 0
    qs = np.unique(groups)
    for g in qs:
        idx = np.where(groups == g)[0]
        hits += y[idx[np.argmax(scores[idx])]] > 0
    return hits / len(qs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", default="eval-data")
    ap.add_argument("--suite", default=str(ROOT / "eval" / "suites" / "debian.jsonl"))
    ap.add_argument("--l2", type=float, default=1.0)
    args = ap.parse_args()
    suite = load_suite(args.suite)
    cases = [c for c in suite.select("dev") if c.facts]
    commune = Commune(args.home)
    x, y, groups = dataset(commune, cases)
    old = json.loads((ROOT / "src" / "commune" / "answer_model.json").read_text())
    w, b = fit(x, y, args.l2)
    before = top1_hit_rate(x, y, groups, np.asarray(old["weights"]), old["bias"])
    after = top1_hit_rate(x, y, groups, w, b)
    print(f"dev: {len(cases)} questions, {len(y)} candidates, {int(y.sum())} hold a fact")
    print(f"best candidate holds a fact: {before:.3f} with the old weights, {after:.3f} trained")
    for name, value in zip(FEATURES, w, strict=True):
        print(f"  {name:<18} {value:+.3f}")
    out = {
        "features": list(FEATURES),
        "weights": [round(float(v), 5) for v in w],
        "bias": round(b, 5),
        "trained_on": {
            "suite": suite.name,
            "suite_sha256": suite.sha256,
            "split": "dev",
            "questions": len(cases),
            "candidates": len(y),
            "positives": int(y.sum()),
            "embedder": commune.settings.retrieval.embedder,
            "l2": args.l2,
            "dev_top1_before": round(before, 4),
            "dev_top1_after": round(after, 4),
        },
    }
    path = ROOT / "src" / "commune" / "answer_model.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
