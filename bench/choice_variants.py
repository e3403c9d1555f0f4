"""Variants of how an answer chooses among its scored candidates, read on dev (issue 20).

The sentence ranker's five-fold scores over the five assignments of the document groups to
folds (``bench/train_answer.py``'s ``every_assignment``, kept in ``--scores``), then the
answers the shipped budget (answer_model.json) quotes under each variant of
``answering.answer.choosing``: answers with every fact per domain (and per assignment), the
median answer's words, the share over 60, and how many listing lines are quoted.
bench/README.md, items 46 and 48. The test split is never read.

    python bench/train_answer.py --home eval-data --cache cand.pkl --five-fold-only
    python bench/choice_variants.py --home eval-data --cache cand.pkl --scores every.pkl

A variant's lines replace the shipped ones in a copy of ``choosing``; the script stops if
the shipped lines are no longer there to replace. ``--scores`` is read as it stands once
written: delete it when the candidates or the ranker's training change.
"""

from __future__ import annotations

import argparse
import inspect
import json
import pickle
import re
import statistics
import sys
import textwrap
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import train_answer as T  # noqa: E402

from commune.answering import answer as A  # noqa: E402
from commune.core import Commune  # noqa: E402
from commune.evaluation.metrics import contains_facts  # noqa: E402

MARGIN_LINE = "        if chosen and scores[i] < scores[chosen[0]] - margin:\n"
CAP = "per_hit.get(c.hit, 0) >= 2"
REPEATS = "        return key in seen if c.code else any(key in quoted for quoted in seen)\n"
_WORD = re.compile(r"\w+")


def _near(a: str, b: str) -> float:
    """The share of the shorter text's words that the other holds too."""
    x, y = set(_WORD.findall(a.lower())), set(_WORD.findall(b.lower()))
    return len(x & y) / max(min(len(x), len(y)), 1)


def variant(  # type: ignore[no-untyped-def]
    code_margin: float = float("inf"),
    per_passage: int = 2,
    sentences: int = 4,
    near: float = float("inf"),
):
    """``choosing`` with a listing line quoted only within ``code_margin`` of the best
    sentence's score, at most ``per_passage`` sentences of a passage and ``sentences`` in
    all, and a sentence passed over when ``near`` or more of its words (or of a quoted one's,
    the shorter) are a quoted sentence's."""
    src = inspect.getsource(A.choosing)
    if MARGIN_LINE not in src or CAP not in src or REPEATS not in src:
        raise SystemExit("answer.choosing changed: update bench/choice_variants.py")
    src = src.replace(
        REPEATS,
        "        if key in seen if c.code else any(key in quoted for quoted in seen):\n"
        "            return True\n"
        "        return any(NEAR_SHARE(c.text, cands[q].text) >= NEAR for q in chosen)\n",
    )
    src = src.replace(CAP, "per_hit.get(c.hit, 0) >= PER_PASSAGE")
    src = src.replace(
        MARGIN_LINE,
        "        if chosen and c.code and scores[i] < scores[chosen[0]] - CODE_MARGIN:\n"
        "            continue\n" + MARGIN_LINE,
    )
    ns = dict(vars(A))
    ns.update(
        CODE_MARGIN=code_margin,
        PER_PASSAGE=per_passage,
        MAX_SENTENCES=sentences,
        NEAR=near,
        NEAR_SHARE=_near,
    )
    exec(textwrap.dedent(src), ns)  # noqa: S102 -- the shipped function's own source
    return ns["choosing"]


def read(records, scores, choosing, words: int, uncertain_words: int, gap_at: float) -> dict:  # type: ignore[no-untyped-def]
    per: dict[str, tuple[list[bool], list[int], int]] = {}
    for r, s in zip(records, scores, strict=True):
        budget = words if A.gap(r["cands"], s) >= gap_at else uncertain_words
        chosen = list(choosing(r["cands"], s, budget, float("inf")))
        text = " ".join(f"{r['cands'][i].text} [1]" for i in chosen)
        ok, n, lines = per.setdefault(r["domain"], ([], [], 0))
        ok.append(contains_facts(text, r["facts"]))
        n.append(len(text.split()))
        per[r["domain"]] = (ok, n, lines + sum(r["cands"][i].code for i in chosen))
    return per


def show(label: str, per: dict, assignments: int) -> None:  # type: ignore[type-arg]
    cells = []
    for domain, (ok, n, lines) in per.items():
        size = len(ok) // assignments
        counts = [int(sum(ok[k * size : (k + 1) * size])) for k in range(assignments)]
        over = float(np.mean([x > 60 for x in n]))
        cells.append(
            f"{domain} {np.mean(ok):.3f} {counts} median {statistics.median(n):g} "
            f"over 60 {over:.2f} lines {lines}"
        )
    print(f"{label:<34} " + "; ".join(cells), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", default="eval-data")
    ap.add_argument("--cache", required=True, help="bench/train_answer.py's candidate cache")
    ap.add_argument("--scores", required=True, help="the five-fold scores, kept here (pickle)")
    args = ap.parse_args()
    path = Path(args.scores)
    if path.exists():
        records, scores = pickle.loads(path.read_bytes())
    else:
        one_pass, _ = T.candidates_of(Commune(args.home), args.cache)
        records, scores = T.every_assignment(one_pass, T.SEEDS, T.FOLD_SEEDS)
        path.write_bytes(pickle.dumps((records, scores)))
    model = json.loads((ROOT / "src/commune/answering/answer_model.json").read_text())
    words, long, gap_at = model["max_words"], model["uncertain_words"], model["confident_gap"]
    n = len(T.FOLD_SEEDS)
    print(f"shipped budget: {words} words, {long} when the best stands less than {gap_at} out")
    show("shipped", read(records, scores, variant(), words, long, gap_at), n)
    for m in (4.0, 3.0, 2.5, 2.0, 1.5):
        per = read(records, scores, variant(code_margin=m), words, long, gap_at)
        show(f"listing lines within {m}", per, n)
    show("3 of a passage", read(records, scores, variant(per_passage=3), words, long, gap_at), n)
    for share in (0.9, 0.8, 0.7, 0.6):
        per = read(records, scores, variant(near=share), words, long, gap_at)
        show(f"no sentence {share:.0%} like a quoted one", per, n)
    for k in (5, 6):
        show(f"{k} sentences", read(records, scores, variant(sentences=k), words, long, gap_at), n)
    # More sentences with the budget chosen again by train_answer.py's rule: the most
    # answers with every fact in the weaker domain, each median at most 58 words on dev and
    # the longest quarter at most 100.
    gaps = np.asarray([A.gap(r["cands"], s) for r, s in zip(records, scores, strict=True)])
    gaps = gaps[np.isfinite(gaps)]
    for k in (4, 5, 6):
        choosing = variant(sentences=k)
        best: tuple[tuple[float, float], str, dict] | None = None  # type: ignore[type-arg]
        for b in (45, 50, 55):
            for longer, q in ((b, 0.0), (130, 0.3), (130, 0.5)):
                at = float(np.quantile(gaps, q)) if longer != b else -np.inf
                per = read(records, scores, choosing, b, longer, at)
                medians = [statistics.median(x[1]) for x in per.values()]
                if max(medians) > 58:
                    continue
                # As train_answer.py: the longest quarter is bounded for a second budget only.
                quarter = max(float(np.percentile(x[1], 75)) for x in per.values())
                if longer != b and quarter > 100:
                    continue
                means = [float(np.mean(x[0])) for x in per.values()]
                merit = (min(means), sum(means))
                label = f"{b} words" + (f", {longer} for the {q:.0%} least sure" if q else "")
                if best is None or merit > best[0]:
                    best = (merit, label, per)
        if best is not None:
            show(f"{k} sentences, {best[1]}", best[2], n)


if __name__ == "__main__":
    main()
