"""Train the "nothing relevant" decision (answering/refusal.py) on the shipped suites' dev splits.

For every dev question of both suites (the Debian manuals and the service-public.fr fiches),
the passages Commune retrieves give the features of :mod:`commune.answering.refusal`; a
logistic regression (L2, Newton's method in numpy: nine weights need no library) learns
which questions are unanswerable. The threshold is chosen on five-fold predictions over dev
(folds by document group, as the suite splits; each question predicted once for each of
:data:`folds.FOLD_SEEDS`' assignments of the groups to folds): the one refusing the most
unanswerable questions while refusing at most ``--max-answerable`` of the answerable ones in
each domain. The model is then refitted on all of dev and written to
``src/commune/answering/refusal_model.json`` with those figures. The test split is never read.

    python bench/calibrate.py --home eval-data
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from folds import FOLD_SEEDS, FOLDS  # noqa: E402
from folds import fold_of as group_folds  # noqa: E402

from commune.answering import refusal  # noqa: E402
from commune.answering.answer import relevant_hits  # noqa: E402
from commune.answering.licensing import usable_for_answers  # noqa: E402
from commune.core import Commune  # noqa: E402
from commune.evaluation import load_suite  # noqa: E402
from commune.evaluation.refusals import GRID  # noqa: E402  (`commune refusals` tries the same)
from commune.evaluation.suite import document_groups  # noqa: E402
from commune.text.lang import detect  # noqa: E402

SUITES = ("debian", "fiches")


def collect(commune: Commune) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    xs, ys, domains, groups, hashes = [], [], [], [], []
    for name in SUITES:
        suite = load_suite(ROOT / "eval" / "suites" / f"{name}.jsonl")
        hashes.append(f"{suite.name} {suite.sha256}")
        group_of = document_groups(suite.cases)
        for case in suite.select("dev"):
            hits = commune.search(case.question, case.collection, k=8)
            # As the operator asks: no declared use, the charter's TDM rule (answering/path.py).
            hits, _ = usable_for_answers(hits, None, commune.settings.charter.tdm_reserved)
            lang = detect(case.question, default="en")
            passes = bool(relevant_hits(hits, lang))
            xs.append(refusal.features(case.question, lang, hits, passes))
            ys.append(float(case.unanswerable))
            domains.append(name)
            groups.append(f"{name}/{group_of[case.id]}")
    return np.vstack(xs), np.asarray(ys), np.asarray(domains), np.asarray(groups), "; ".join(hashes)


def fit(z: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 60) -> np.ndarray:
    zb = np.hstack([z, np.ones((len(z), 1))])
    w = np.zeros(zb.shape[1])
    reg = np.eye(zb.shape[1]) * l2
    reg[-1, -1] = 0.0  # the bias is not shrunk
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(zb @ w)))
        step = np.linalg.solve((zb * (p * (1 - p))[:, None]).T @ zb + reg, zb.T @ (p - y) + reg @ w)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    return w


def predict(z: np.ndarray, w: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(z @ w[:-1] + w[-1])))


def _rates(p: np.ndarray, y: np.ndarray, t: float, where: np.ndarray) -> tuple[float, float]:
    """The shares of the unanswerable and of the answerable questions ``where`` refused at
    threshold ``t``."""
    r = p >= t
    return float(r[where & (y == 1)].mean()), float(r[where & (y == 0)].mean())


def out_of_fold(
    z: np.ndarray, y: np.ndarray, groups: np.ndarray, l2: float, fold_seeds: tuple[int, ...]
) -> np.ndarray:
    """Each question's five-fold prediction under each assignment of ``fold_seeds``, one after
    the other. Five folds by document group: a question's translation never judges its own
    model. Each assignment of the groups to folds predicts every question once; the rates read
    all assignments' predictions together (folds.FOLD_SEEDS: one assignment is a draw)."""
    predicted = []
    for fold_seed in fold_seeds:
        fold_of = group_folds(groups, fold_seed)
        folds = np.asarray([fold_of[g] for g in groups])
        p = np.zeros(len(y))
        for f in range(FOLDS):
            p[folds == f] = predict(z[folds == f], fit(z[folds != f], y[folds != f], l2))
        predicted.append(p)
    return np.concatenate(predicted)


def carried(
    x: np.ndarray, y: np.ndarray, domains: np.ndarray, here: str, l2: float, cap: float
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Fitted on domain ``here``, its threshold the one refusing the most of its unanswerable
    questions with at most ``cap`` of its answerable ones refused: (unanswerable, answerable)
    refused on its own domain (in-sample), then on the others."""
    own, other = domains == here, domains != here
    mean, scale = x[own].mean(0), x[own].std(0) + 1e-9
    p = predict((x - mean) / scale, fit((x[own] - mean) / scale, y[own], l2))
    ok = [t for t in GRID if _rates(p, y, t, own)[1] <= cap] or [0.95]
    t = min(ok, key=lambda t: (-_rates(p, y, t, own)[0], t))
    return _rates(p, y, t, own), _rates(p, y, t, other)


def across(x: np.ndarray, y: np.ndarray, domains: np.ndarray, l2: float, cap: float) -> None:
    """Each domain's model read on the other domain: fitted on one domain's dev questions,
    its threshold the one refusing the most of that domain's unanswerable questions with at
    most ``cap`` of its answerable ones refused, then applied to the other domain's. A
    deployment's own documents are a domain no model was fitted on: this says, from dev
    alone, how far the figures fitted on one corpus carry to another (bench/README.md,
    item 31)."""
    print("fitted on -> read on | own domain: unanswerable / answerable refused | other domain")
    for here in SUITES:
        (ou, oa), (xu, xa) = carried(x, y, domains, here, l2, cap)
        there = next(d for d in SUITES if d != here)
        print(f"{here} -> {there} | {ou:.3f} / {oa:.3f} (in-sample) | {xu:.3f} / {xa:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", default="eval-data")
    ap.add_argument("--max-answerable", type=float, default=0.04, help="per domain, on dev")
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument(
        "--curve",
        action="store_true",
        help="print, for several caps on the answerable refused, the five-fold share of the "
        "unanswerable refused in each domain, and write no model",
    )
    ap.add_argument(
        "--across",
        action="store_true",
        help="print how the model carries from one domain to the other: trained and its "
        "threshold chosen on one domain's dev questions, read on the other's; write no model",
    )
    ap.add_argument(
        "--drop",
        default="",
        help="features left out, comma-separated (with --across or --curve: what a smaller "
        "model would do)",
    )
    ap.add_argument(
        "--fold-seeds",
        default=",".join(map(str, FOLD_SEEDS)),
        help="the assignments of the document groups to the five folds, comma-separated "
        "(bench/README.md, item 23)",
    )
    args = ap.parse_args()
    fold_seeds = tuple(int(s) for s in args.fold_seeds.split(","))
    x, y, domains, groups, suites = collect(Commune(args.home))
    dropped = [f for f in args.drop.split(",") if f]
    if dropped:
        keep = [i for i, f in enumerate(refusal.FEATURES) if f not in dropped]
        if len(keep) != len(refusal.FEATURES) - len(dropped) or not (args.across or args.curve):
            raise SystemExit("--drop: name features of refusal.FEATURES, with --across or --curve")
        x = x[:, keep]
    if args.across:
        across(x, y, domains, args.l2, args.max_answerable)
        return
    mean, scale = x.mean(0), x.std(0) + 1e-9
    z = (x - mean) / scale
    p_all = out_of_fold(z, y, groups, args.l2, fold_seeds)
    y_all = np.tile(y, len(fold_seeds))
    domains_all = np.tile(domains, len(fold_seeds))

    def rates(t: float) -> dict[str, tuple[float, float]]:
        return {d: _rates(p_all, y_all, t, domains_all == d) for d in SUITES}

    def best(cap: float) -> float:
        """The threshold refusing the most unanswerable in the weaker domain, with at most
        ``cap`` of the answerable refused in each."""
        ok = [t for t in GRID if all(a <= cap for _, a in rates(t).values())]
        return min(ok, key=lambda t: (-min(u for u, _ in rates(t).values()), t)) if ok else 0.5

    if args.curve:
        # What the features can buy: how many more unanswerable questions each point of
        # answerable ones refused brings (bench/README.md, item 20).
        print(
            "cap on answerable refused | "
            + " | ".join(f"{d}: unanswerable / answerable" for d in SUITES)
        )
        for cap in (0.03, 0.04, 0.05, 0.06, 0.08, 0.10, 0.15, 0.20):
            r = rates(best(cap))
            print(f"{cap:.2f} | " + " | ".join(f"{r[d][0]:.3f} / {r[d][1]:.3f}" for d in SUITES))
        return
    threshold = best(args.max_answerable)
    passes = refusal.FEATURES.index("passes_thresholds")  # what the thresholds alone decide
    before = {
        d: (
            float((x[(domains == d) & (y == 1), passes] == 0).mean()),
            float((x[(domains == d) & (y == 0), passes] == 0).mean()),
        )
        for d in SUITES
    }
    w = fit(z, y, args.l2)
    print(f"dev: {int(y.sum())} unanswerable, {int((y == 0).sum())} answerable questions")
    for d in SUITES:
        (u, a), (bu, ba) = rates(threshold)[d], before[d]
        print(
            f"{d}: unanswerable refused {u:.3f} (thresholds alone {bu:.3f}), "
            f"answerable refused {a:.3f} (thresholds alone {ba:.3f})"
        )
    print(f"threshold {threshold}")
    for name, value in zip(refusal.FEATURES, w[:-1], strict=True):
        print(f"  {name:<22} {value:+.3f}")
    out = {
        "features": list(refusal.FEATURES),
        "mean": [round(float(v), 6) for v in mean],
        "scale": [round(float(v), 6) for v in scale],
        "weights": [round(float(v), 5) for v in w[:-1]],
        "bias": round(float(w[-1]), 5),
        "threshold": threshold,
        "trained_on": {
            "suites": suites,
            "split": "dev",
            "questions": len(y),
            "unanswerable": int(y.sum()),
            "l2": args.l2,
            "max_answerable_refused": args.max_answerable,
            "fold_seeds": list(fold_seeds),
            "dev_five_fold": {
                d: {"unanswerable_refused": round(u, 4), "answerable_refused": round(a, 4)}
                for d, (u, a) in rates(threshold).items()
            },
            "dev_thresholds_alone": {
                d: {"unanswerable_refused": round(u, 4), "answerable_refused": round(a, 4)}
                for d, (u, a) in before.items()
            },
        },
    }
    path = ROOT / "src" / "commune" / "answering" / "refusal_model.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
