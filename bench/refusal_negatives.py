"""Answerable questions asked without their documents, as more unanswerable examples for "nothing
relevant" (bench/README.md, item 55).

The refusal model (answering/refusal.py) learns from the dev splits' unanswerable questions:
62 in both suites. The hard ones are near the commons' topics, and an answerable
question whose own documents are taken away is one of them by construction: the same words,
the same subject, and the page that held the answer gone. For every answerable dev question of
both suites, the passages are searched as `commune ask` does (30 deep instead of 8), those of
its expected documents are dropped, and the next 8 give the refusal features. A question some
other page still answers (one of the five judged passages holds every fact) gives no example,
nor one with no passage left (Commune would refuse it outright); both are counted.

Two readings, on the real dev questions only (five-fold by document group, as
bench/calibrate.py, at its rule: the threshold refusing the most unanswerable questions of the
weaker domain with at most ``--max-answerable`` of the answerable refused in each):

- the logistic model with the examples added to its training folds at several weights (0:
  calibrate.py's own model);
- how many of the examples the shipped model (refusal_model.json) refuses: how it judges a
  question near the commons' topics whose page is absent.

Nothing is written. About 20 s on the evaluation home:

    python bench/refusal_negatives.py --home eval-data
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from calibrate import SUITES, _rates, predict  # noqa: E402
from folds import FOLD_SEEDS, FOLDS  # noqa: E402
from folds import fold_of as group_folds  # noqa: E402

from commune.answering import refusal  # noqa: E402
from commune.answering.answer import relevant_hits  # noqa: E402
from commune.answering.licensing import usable_for_answers  # noqa: E402
from commune.core import Commune  # noqa: E402
from commune.evaluation import load_suite  # noqa: E402
from commune.evaluation.metrics import contains_facts, names_document  # noqa: E402
from commune.evaluation.refusals import GRID  # noqa: E402
from commune.evaluation.suite import document_groups  # noqa: E402
from commune.text.lang import detect  # noqa: E402

DEEP = 30  # passages read, so that 8 remain once a question's documents are dropped
WEIGHTS = (0.0, 0.1, 0.3, 1.0)


def collect(commune: Commune) -> dict[str, np.ndarray]:
    """Each dev question's features (``synthetic`` False), and each answerable one's without
    its documents (True, labelled unanswerable), with its domain and document group: an
    example stays in its question's fold."""
    rows: list[tuple[np.ndarray, float, str, str, bool]] = []
    skipped = {"another page answers": 0, "no passage left": 0}
    for name in SUITES:
        suite = load_suite(ROOT / "eval" / "suites" / f"{name}.jsonl")
        group_of = document_groups(suite.cases)
        for case in suite.select("dev"):
            deep = commune.search(case.question, case.collection, k=DEEP)
            lang = detect(case.question, default="en")
            group = f"{name}/{group_of[case.id]}"
            # The model's own hits as calibrate.py takes them: the first 8, then the charter's
            # TDM rule.
            hits, _ = usable_for_answers(deep[:8], None, commune.settings.charter.tdm_reserved)
            x = refusal.features(case.question, lang, hits, bool(relevant_hits(hits, lang)))
            rows.append((x, float(case.unanswerable), name, group, False))
            if case.unanswerable:
                continue
            rest = [h for h in deep if not any(names_document(d, h.source) for d in case.documents)]
            rest, _ = usable_for_answers(rest[:8], None, commune.settings.charter.tdm_reserved)
            if not rest:
                skipped["no passage left"] += 1
                continue
            if any(contains_facts(h.text, case.facts) for h in rest[: refusal.JUDGED_HITS]):
                skipped["another page answers"] += 1  # not an unanswerable question
                continue
            x = refusal.features(case.question, lang, rest, bool(relevant_hits(rest, lang)))
            rows.append((x, 1.0, name, group, True))
    x, y, domains, groups, synthetic = zip(*rows, strict=True)
    return {
        "x": np.vstack(x),
        "y": np.asarray(y),
        "domains": np.asarray(domains),
        "groups": np.asarray(groups),
        "synthetic": np.asarray(synthetic),
        "skipped": np.asarray([skipped["another page answers"], skipped["no passage left"]]),
    }


def fit_weighted(z: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float = 1.0) -> np.ndarray:
    """calibrate.fit's L2 logistic regression by Newton's method, each row weighted."""
    zb = np.hstack([z, np.ones((len(z), 1))])
    b = np.zeros(zb.shape[1])
    reg = np.eye(zb.shape[1]) * l2
    reg[-1, -1] = 0.0  # the bias is not shrunk
    for _ in range(60):
        p = 1 / (1 + np.exp(-(zb @ b)))
        step = np.linalg.solve(
            (zb * (w * p * (1 - p))[:, None]).T @ zb + reg, zb.T @ (w * (p - y)) + reg @ b
        )
        b -= step
        if np.abs(step).max() < 1e-9:
            break
    return b


def five_fold(data: dict[str, np.ndarray], weight: float, l2: float, cap: float) -> str:
    """The real dev questions' refusals, five-fold over every assignment, the examples in the
    training folds at ``weight``."""
    x, y, synthetic = data["x"], data["y"], data["synthetic"]
    real = ~synthetic
    mean, scale = x[real].mean(0), x[real].std(0) + 1e-9  # as calibrate.py: the real rows'
    z = (x - mean) / scale
    w = np.where(synthetic, weight, 1.0)
    train_on = real | (weight > 0)
    p_all, y_all, d_all = [], [], []
    for fold_seed in FOLD_SEEDS:
        fold_of = group_folds(data["groups"], fold_seed)
        folds = np.asarray([fold_of[g] for g in data["groups"]])
        p = np.zeros(len(y))
        for f in range(FOLDS):
            fit_rows = train_on & (folds != f)
            p[folds == f] = predict(
                z[folds == f], fit_weighted(z[fit_rows], y[fit_rows], w[fit_rows], l2)
            )
        p_all.append(p[real])
        y_all.append(y[real])
        d_all.append(data["domains"][real])
    p, yy, dd = np.concatenate(p_all), np.concatenate(y_all), np.concatenate(d_all)

    def rates(t: float) -> dict[str, tuple[float, float]]:
        return {d: _rates(p, yy, t, dd == d) for d in SUITES}

    # calibrate.best's rule, 0.5 when no threshold keeps the answerable within the cap.
    ok = [t for t in GRID if all(a <= cap for _, a in rates(t).values())]
    t = min(ok, key=lambda t: (-min(u for u, _ in rates(t).values()), t)) if ok else 0.5
    return f"weight {weight:g}, threshold {t}: " + ", ".join(
        f"{d} unanswerable {u:.3f} / answerable {a:.3f} refused" for d, (u, a) in rates(t).items()
    )


def shipped_on_examples(data: dict[str, np.ndarray]) -> str:
    """How many of the examples the shipped model refuses, per domain."""
    m = refusal.model()
    z = (data["x"] - m["mean"]) / m["scale"]
    p = 1 / (1 + np.exp(-(z @ m["weights"] + m["bias"])))
    refused = p >= m["threshold"]
    out = []
    for d in SUITES:
        mine = data["synthetic"] & (data["domains"] == d)
        out.append(f"{d} {int(refused[mine].sum())} of {int(mine.sum())}")
    return "shipped model, examples refused: " + ", ".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", default="eval-data")
    ap.add_argument("--max-answerable", type=float, default=0.04, help="per domain, on dev")
    ap.add_argument("--l2", type=float, default=1.0)
    args = ap.parse_args()
    data = collect(Commune(args.home))
    real = ~data["synthetic"]
    print(
        f"dev: {int(real.sum())} questions ({int(data['y'][real].sum())} unanswerable), "
        + ", ".join(
            f"{d} {int((data['synthetic'] & (data['domains'] == d)).sum())} examples of "
            f"{int((real & (data['domains'] == d) & (data['y'] == 0)).sum())} answerable"
            for d in SUITES
        )
    )
    other, none = (int(n) for n in data["skipped"])
    print(f"no example: {other} still answered by another page, {none} with no passage left")
    print(shipped_on_examples(data))
    for weight in WEIGHTS:
        print(five_fold(data, weight, args.l2, args.max_answerable), flush=True)


if __name__ == "__main__":
    main()
