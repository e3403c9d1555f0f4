"""Calibrate the "nothing relevant" decision on the shipped suite's dev split.

For every dev question, the hits Commune retrieves are judged by the relevance rule of
:func:`commune.answer.is_relevant` over a grid of its three thresholds; a question is
refused when no hit passes. Printed: the settings that keep at least 90% of the
unanswerable questions refused with the fewest answerable ones refused. The test split
is never read here.

    python bench/calibrate.py --home eval-data
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from commune.core import Commune  # noqa: E402
from commune.evaluation import load_suite  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", default="eval-data")
    ap.add_argument("--suite", default=str(ROOT / "eval" / "suites" / "debian.jsonl"))
    ap.add_argument("--recall", type=float, default=0.9, help="unanswerable refused, at least")
    args = ap.parse_args()
    commune = Commune(args.home)
    data = []
    for case in load_suite(args.suite).select("dev"):
        hits = commune.search(case.question, case.collection, k=8)
        unknown = hits[0].unknown_terms if hits else 0
        data.append((case.unanswerable, [(h.coverage, h.cosine) for h in hits], unknown))
    unans = [d for d in data if d[0]]
    ans = [d for d in data if not d[0]]
    results = []
    for min_cov in np.arange(0.30, 1.01, 0.05):
        for min_cos in np.arange(0.25, 0.61, 0.01):
            for min_cos_unknown in np.arange(0.30, 0.71, 0.02):

                def refused(hits, unknown, mc=min_cov, c1=min_cos, c2=min_cos_unknown) -> bool:
                    if unknown:
                        return not any(cs >= c2 for _, cs in hits)
                    return not any(cv >= mc or cs >= c1 for cv, cs in hits)

                r_un = float(np.mean([refused(h, u) for _, h, u in unans]))
                r_an = float(np.mean([refused(h, u) for _, h, u in ans]))
                results.append((r_un, r_an, min_cov, min_cos, min_cos_unknown))
    ok = sorted((r for r in results if r[0] >= args.recall), key=lambda r: (r[1], -r[0]))
    print(f"dev: {len(unans)} unanswerable, {len(ans)} answerable questions")
    for r in ok[:10]:
        print(
            f"unanswerable refused {r[0]:.3f}  answerable refused {r[1]:.3f}  "
            f"MIN_COVERAGE {r[2]:.2f}  MIN_COSINE {r[3]:.2f}  MIN_COSINE_UNKNOWN_WORD {r[4]:.2f}"
        )


if __name__ == "__main__":
    main()
