"""An extractive answer's CPU time, with and without what it keeps between questions.

What an answer used to compute again for every question is kept once computed:

- each word's index term (text/analysis.py): Snowball's pure-Python stemmer was more than
  half an answer's time, on the same few thousand words;
- the vectors of the last candidate sentences and question words
  (Embedder.embed_sentences): of the 30,154 sentences the evaluation's 579 test questions
  embed, 53% had been embedded for an earlier question;
- each question word's neighbours in the other languages (index/lexicon.py), the kinds of
  fact a sentence holds (answering/answer_types.py) and whether it gives instructions
  (answering/instructions.py).

Each setting runs in its own process over the same home and the same questions (both
shipped suites' test split, cache of answers off, models loaded before the clock), side by
side in one run; ``without`` calls the functions underneath, unkept (what was kept before,
the last 64 questions' vectors and neighbour lists, stays in both). CPU time is what the
energy figure bills. The answers' digest shows that both give the same answers.

    python bench/answer_cpu.py --home eval-data
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ("without", "with")


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def probe(home: Path, setting: str) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "src"))
    from commune.answering import answer, answer_types, instructions
    from commune.core import Commune
    from commune.embed import base
    from commune.evaluation import load_suite
    from commune.index import lexicon
    from commune.text import analysis

    if setting == "without":
        analysis._term = analysis._stem  # type: ignore[assignment]
        analysis._folded = analysis.fold_accents  # type: ignore[assignment]
        base.SENTENCES_KEPT = 0
        lexicon.WORDS_KEPT = 0
        # Where the answer module reads them under its own names, too.
        answer.held = answer_types.held = answer_types.held.__wrapped__  # type: ignore[attr-defined]
        answer.gives_instructions = instructions.gives_instructions = (
            instructions.gives_instructions.__wrapped__  # type: ignore[attr-defined]
        )
    cases = []
    for suite in ("fiches", "debian"):
        cases += load_suite(ROOT / "eval" / "suites" / f"{suite}.jsonl").select("test")
    c = Commune(home)
    c.warm_up()
    digest = hashlib.sha256()
    t0, c0 = time.perf_counter(), _cpu()
    for case in cases:
        answer = c.ask(case.question, case.collection, use_cache=False, credit=False)
        digest.update(answer.text.encode())
    n = len(cases)
    figures = {
        "answers": n,
        "wall_ms": round(1000 * (time.perf_counter() - t0) / n, 1),
        "cpu_ms": round(1000 * (_cpu() - c0) / n, 1),
        "answers_sha256": digest.hexdigest(),
    }
    c.close()
    return figures


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--home", type=Path, required=True, help="a home with both suites ingested")
    p.add_argument("--probe", choices=SETTINGS, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.probe:
        print(json.dumps(probe(args.home, args.probe)))
        return
    # One OpenBLAS thread, as the `commune` command starts (stack/threads.py).
    env = os.environ | {"OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1")}
    results: dict[str, Any] = {}
    for setting in SETTINGS:
        run = subprocess.run(
            [sys.executable, __file__, "--home", str(args.home), "--probe", setting],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        results[setting] = json.loads(run.stdout.strip().splitlines()[-1])
    same = results["without"]["answers_sha256"] == results["with"]["answers_sha256"]
    results["same_answers"] = same
    (ROOT / "bench" / "results" / "answer_cpu.json").write_text(
        json.dumps(results, indent=1) + "\n", "utf-8"
    )
    print("| kept between questions | answers | wall ms per answer | CPU ms per answer |")
    print("|---|---|---|---|")
    for setting in SETTINGS:
        r = results[setting]
        label = "none of it" if setting == "without" else "all of it"
        print(f"| {label} | {r['answers']} | {r['wall_ms']} | {r['cpu_ms']} |")
    print(f"same answers: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
