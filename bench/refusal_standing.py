"""How the best passage stands against the rest of the commons, as a sign for "nothing relevant".

Item 31 of bench/README.md found that the refusal model does not carry from one corpus to
another: its features are raw scores (a cosine, a coverage), whose scale moves with the
corpus, and it suggested relative signs instead. This tries the query performance
predictors of the search literature (Shtok et al.'s NQC, Zhou and Croft's WIG, Cronen-Townsend
et al.'s clarity in spirit): how far the best passage's score stands above the scores of the
passages ranked after it, for the same question over the same commons.

For every dev question of both suites, the passages are searched as `commune ask` does (60
deep instead of 8; the first 8 are the same), and each sign is added to the shipped model's
nine features (answering/refusal.py). Two readings, as bench/calibrate.py makes them:

- five-fold over dev (its folds, its rule: the threshold refusing the most unanswerable
  questions of the weaker domain with at most ``cap`` of the answerable refused in each);
- across (``calibrate.py --across``): fitted on one domain, read on the other, at several L2.

On a home enriched by `commune enrich`, two more signs: e5-small's cosine of the best passage
judged, and the highest of the five (item 20 had read a gain from the first).

Nothing is written. About 20 s on the evaluation home, a minute on an enriched copy:

    python bench/refusal_standing.py --home eval-data
    cp -a eval-data /tmp/enriched && commune --home /tmp/enriched enrich   # about 45 min
    python bench/refusal_standing.py --home /tmp/enriched
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from calibrate import SUITES, _rates, carried, out_of_fold  # noqa: E402
from folds import FOLD_SEEDS  # noqa: E402

from commune.answering import refusal  # noqa: E402
from commune.answering.answer import relevant_hits  # noqa: E402
from commune.answering.licensing import usable_for_answers  # noqa: E402
from commune.answering.retrieve import prepare_query  # noqa: E402
from commune.core import Commune  # noqa: E402
from commune.embed import get_embedder  # noqa: E402
from commune.evaluation import load_suite  # noqa: E402
from commune.evaluation.refusals import GRID  # noqa: E402
from commune.evaluation.suite import document_groups  # noqa: E402
from commune.govern.policy import OPERATOR  # noqa: E402
from commune.store import repository as repo  # noqa: E402
from commune.text.lang import detect  # noqa: E402

DEEP = 60  # passages read for the rest of the list
SIGNS = (
    "stand_out",  # best cosine minus the mean cosine of the passages after the tenth (WIG-like)
    "z_top",  # the same, in standard deviations of those passages' cosines
    "nqc10",  # deviation of the ten best cosines over the mean of the rest (NQC-like)
    "coverage_out",  # best coverage minus the mean coverage after the tenth
    "top_minus_5",  # best cosine minus the fifth's
    "dense_z",  # z_top over USE's own list of 100 (what the searcher could carry for free)
)
# On a home enriched by `commune enrich` (docs/retrieval.md), the second embedder's meaning of
# the passages judged: e5-small's cosine of the best one, and the highest of the five.
ENRICHED_SIGNS = ("e5_top", "e5_max")


def collect(commune: Commune) -> tuple[np.ndarray, ...]:
    catalog, embedder = commune.searcher.catalog(), commune.searcher.embedder()
    model = commune.settings.enrich.model
    enriched = bool(model) and commune.searcher.enriched_vectors.view(catalog) is not None
    xs, signs, ys, domains, groups = [], [], [], [], []
    for name in SUITES:
        suite = load_suite(ROOT / "eval" / "suites" / f"{name}.jsonl")
        group_of = document_groups(suite.cases)
        for case in suite.select("dev"):
            deep = commune.search(case.question, case.collection, k=DEEP)
            # The model's own hits exactly as calibrate.py takes them: the first 8, then the
            # charter's TDM rule (which may leave fewer).
            reserved = commune.settings.charter.tdm_reserved
            hits, _ = usable_for_answers(deep[:8], None, reserved)
            deep, _ = usable_for_answers(deep, None, reserved)
            lang = detect(case.question, default="en")
            xs.append(refusal.features(case.question, lang, hits, bool(relevant_hits(hits, lang))))
            # A question with few passages (a small collection, TDM-reserved ones left out)
            # reads its tail from what there is, padded with zeros: never an empty mean.
            cos = np.pad(np.sort([h.cosine for h in deep])[::-1], (0, max(0, 15 - len(deep))))
            cov = np.pad(np.sort([h.coverage for h in deep])[::-1], (0, max(0, 15 - len(deep))))
            tail, ctail = cos[10:], cov[10:]
            ids = commune.library.scope(case.collection, OPERATOR)
            mask = catalog.in_collections(ids) if ids is not None else None
            if catalog.live is not None:
                mask = catalog.live if mask is None else mask & catalog.live
            _, dense = catalog.dense.search(
                prepare_query(case.question, embedder).vector, 100, mask
            )
            row = [
                cos[0] - tail.mean(),
                (cos[0] - tail.mean()) / (tail.std() + 1e-3),
                cos[:10].std() / (abs(tail.mean()) + 1e-3),
                cov[0] - ctail.mean(),
                cos[0] - cos[4],
                (dense[0] - dense[10:].mean()) / (dense[10:].std() + 1e-3),
            ]
            if enriched:
                q = get_embedder(model).embed_query(case.question)
                with commune.library.engine.connect() as conn:
                    stored = repo.vectors_for(conn, [h.chunk_id for h in hits[:5]], model)
                e5 = [
                    float(np.frombuffer(stored[h.chunk_id], dtype="<f4") @ q)
                    if h.chunk_id in stored
                    else 0.0
                    for h in hits[:5]
                ]
                row += [e5[0] if e5 else 0.0, max(e5, default=0.0)]
            signs.append(row)
            ys.append(float(case.unanswerable))
            domains.append(name)
            groups.append(f"{name}/{group_of[case.id]}")
    return (
        np.vstack(xs),
        np.asarray(signs),
        np.asarray(ys),
        np.asarray(domains),
        np.asarray(groups),
    )


def five_fold(
    x: np.ndarray, y: np.ndarray, domains: np.ndarray, groups: np.ndarray, cap: float, l2: float
) -> str:
    z = (x - x.mean(0)) / (x.std(0) + 1e-9)
    p_all = out_of_fold(z, y, groups, l2, FOLD_SEEDS)
    y_all, d_all = np.tile(y, len(FOLD_SEEDS)), np.tile(domains, len(FOLD_SEEDS))

    def rates(t: float) -> dict[str, tuple[float, float]]:
        return {d: _rates(p_all, y_all, t, d_all == d) for d in SUITES}

    ok = [t for t in GRID if all(a <= cap for _, a in rates(t).values())]
    # As calibrate.best: 0.5 when no threshold keeps the answerable refused within the cap.
    t = min(ok, key=lambda t: (-min(u for u, _ in rates(t).values()), t)) if ok else 0.5
    return " | ".join(f"{u:.3f} / {a:.3f}" for u, a in rates(t).values())


def across(x: np.ndarray, y: np.ndarray, domains: np.ndarray, cap: float, l2: float) -> str:
    out = []
    for here in SUITES:
        (ou, oa), (xu, xa) = carried(x, y, domains, here, l2, cap)
        out.append(f"{ou:.3f} / {oa:.3f} -> {xu:.3f} / {xa:.3f}")
    return " | ".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", default="eval-data")
    args = ap.parse_args()
    x, s, y, domains, groups = collect(Commune(args.home))
    names = SIGNS + (ENRICHED_SIGNS if s.shape[1] > len(SIGNS) else ())
    variants = {"shipped": x, **{f"+ {n}": np.hstack([x, s[:, [i]]]) for i, n in enumerate(names)}}
    variants["+ all"] = np.hstack([x, s[:, : len(SIGNS)]])
    if len(names) > len(SIGNS):
        variants["+ e5_top, e5_max"] = np.hstack([x, s[:, len(SIGNS) :]])
    print(f"dev: {int(y.sum())} unanswerable, {int((y == 0).sum())} answerable questions")
    print("sign | mean over Debian's answerable / unanswerable | the fiches'")
    for i, n in enumerate(names):
        means = []
        for d in SUITES:
            answerable, unanswerable = (s[(domains == d) & (y == k), i].mean() for k in (0, 1))
            means.append(f"{answerable:.3f} / {unanswerable:.3f}")
        print(f"{n} | " + " | ".join(means))
    for cap in (0.04, 0.05):
        print(f"\nfive-fold, cap {cap}: Debian | fiches, unanswerable / answerable refused")
        for label, v in variants.items():
            print(f"{label:<16} {five_fold(v, y, domains, groups, cap, 1.0)}")
    print(
        "\nacross, cap 0.04: Debian -> fiches | fiches -> Debian, "
        "own (in-sample) -> other, unanswerable / answerable refused"
    )
    for l2 in (0.3, 1.0, 3.0, 10.0):
        for label in ("shipped", "+ z_top", "+ dense_z", "+ all", "+ e5_top"):
            if label not in variants:
                continue
            print(f"L2 {l2:<4} {label:<10} {across(variants[label], y, domains, 0.04, l2)}")


if __name__ == "__main__":
    main()
