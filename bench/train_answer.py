"""Train the extractive answer's sentence scorer on the shipped suite's dev split.

For every answerable dev question, the passages Commune would answer from are split into
candidate sentences and listing lines (exactly as `commune ask` does); a candidate is a
positive when it contains one of the question's answer facts. A logistic regression over
:data:`commune.answering.answer.FEATURES` (L2-regularised, fitted by Newton's method in numpy:
twelve weights need no library) then writes ``src/commune/answering/answer_model.json``. The
test split is never read here.

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

from commune.answering.answer import FEATURES, candidates, relevant_hits, sentence_features  # noqa: E402
from commune.answering.licensing import usable_for_answers  # noqa: E402
from commune.core import Commune  # noqa: E402
from commune.evaluation import load_suite  # noqa: E402
from commune.evaluation.metrics import contains_facts  # noqa: E402
from commune.text.lang import detect  # noqa: E402


def dataset(commune: Commune, cases) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs, ys, groups = [], [], []
    for qi, case in enumerate(cases):
        hits = commune.search(case.question, case.collection, k=8)
        # As the operator asks: no declared use, the charter's TDM rule (answering/path.py).
        hits, _ = usable_for_answers(hits, None, commune.settings.charter.tdm_reserved)
        lang = detect(case.question, default="en")
        relevant = relevant_hits(hits, lang)
        cands = candidates(relevant)
        if not cands:
            continue
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


def fit_listwise(
    x: np.ndarray, y: np.ndarray, groups: np.ndarray, l2: float = 1.0, steps: int = 400
) -> tuple[np.ndarray, float]:
    """Softmax over each question's candidates; maximise the mass on those holding a fact
    (ListNet-style). Aligned with what is used: the best few candidates of a question."""
    keep = np.isin(groups, np.unique(groups[y > 0]))  # questions with something to find
    x, y, groups = x[keep], y[keep], groups[keep]
    _, inverse = np.unique(groups, return_inverse=True)
    n_q = inverse.max() + 1
    w = np.zeros(x.shape[1])
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t in range(1, steps + 1):
        s = x @ w
        s = (
            s
            - np.bincount(inverse, weights=s, minlength=n_q)[inverse]
            / np.bincount(inverse)[inverse]
        )
        e = np.exp(s - s.max())
        p = e / np.bincount(inverse, weights=e, minlength=n_q)[inverse]
        pos_mass = np.bincount(inverse, weights=p * y, minlength=n_q)[inverse]
        q = np.where(y > 0, p / np.maximum(pos_mass, 1e-12), 0.0)
        grad = x.T @ (p - q) / n_q + l2 * w / len(x)
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        w -= 0.05 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return w, 0.0  # a softmax has no use for a bias


def top1_hit_rate(x, y, groups, w, b, picks: int = 1) -> float:
    """Share of questions where one of the ``picks`` best-scored candidates holds a fact."""
    scores = x @ w + b
    hits = 0
    qs = np.unique(groups)
    for g in qs:
        idx = np.where(groups == g)[0]
        best = idx[np.argsort(-scores[idx], kind="stable")[:picks]]
        hits += y[best].max() > 0
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
    old = json.loads((ROOT / "src" / "commune" / "answering" / "answer_model.json").read_text())
    from commune.answering.answer import MAX_SENTENCES

    # Two objectives, kept by what an answer uses: its best MAX_SENTENCES candidates.
    fits = {"logistic": fit(x, y, args.l2), "listwise": fit_listwise(x, y, groups, args.l2)}
    rates = {
        name: top1_hit_rate(x, y, groups, w_, b_, MAX_SENTENCES) for name, (w_, b_) in fits.items()
    }
    rates["previous"] = top1_hit_rate(
        x, y, groups, np.asarray(old["weights"]), old["bias"], MAX_SENTENCES
    )
    objective = max(("logistic", "listwise"), key=lambda k: rates[k])
    w, b = fits[objective]
    before = top1_hit_rate(x, y, groups, np.asarray(old["weights"]), old["bias"])
    after = top1_hit_rate(x, y, groups, w, b)
    print(f"dev: {len(cases)} questions, {len(y)} candidates, {int(y.sum())} hold a fact")
    print(
        f"a fact among the best {MAX_SENTENCES}: "
        + ", ".join(f"{k} {v:.3f}" for k, v in rates.items())
        + f"; kept {objective}"
    )
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
            "objective": objective,
            f"dev_fact_in_best_{MAX_SENTENCES}": round(rates[objective], 4),
            "dev_top1_before": round(before, 4),
            "dev_top1_after": round(after, 4),
        },
    }
    path = ROOT / "src" / "commune" / "answering" / "answer_model.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
