"""How many threads OpenBLAS should start in a Commune process: one, or one per core.

numpy's OpenBLAS starts a thread per core in every process by default. Commune's products are
small (a question's vector against a few hundred passages, the embedder's layers over a few
sentences), and a server answers several questions at once from its own threads. Each setting
runs in its own process over the same home and questions, side by side in one run:

- ``sequential``: one question at a time (``commune ask``, a quiet server);
- ``concurrent``: two threads answering at once (``commune serve`` under load), per answer;
- ``embed``: 256 passages embedded in one call (``commune add``'s batches).

Wall time and CPU time (every thread of the process, what energy.py bills) per answer, cache
off, models loaded before the clock starts. CPU time is what the energy figure counts.

    python bench/blas_threads.py --home eval-data
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {"one thread": "1", "one per core (OpenBLAS's default)": None}
EVERY = 5  # every fifth of the first 600 questions of each suite, both languages: 213


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _questions() -> list[str]:
    out: list[str] = []
    for suite in ("fiches", "debian"):
        lines = (ROOT / "eval" / "suites" / f"{suite}.jsonl").read_text("utf-8").splitlines()
        out += [json.loads(line)["question"] for line in lines[:600:EVERY]]
    return out


def probe(home: Path) -> dict[str, Any]:
    """In this process, with whatever OPENBLAS_NUM_THREADS it was started with."""
    sys.path.insert(0, str(ROOT / "src"))
    from commune.core import Commune

    questions = _questions()
    c = Commune(home)

    def ask(part: list[str]) -> None:
        for q in part:
            c.ask(q, use_cache=False, credit=False)

    ask(questions[:1])  # loads the models, opens the index
    figures: dict[str, Any] = {"questions": len(questions)}
    t0, c0 = time.perf_counter(), _cpu()
    ask(questions)
    figures["sequential"] = _per(t0, c0, len(questions))
    half = len(questions) // 2
    workers = [
        threading.Thread(target=ask, args=(p,)) for p in (questions[:half], questions[half:])
    ]
    t0, c0 = time.perf_counter(), _cpu()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    figures["concurrent"] = _per(t0, c0, len(questions))
    texts = [q * 4 for q in questions * 3][:256]
    t0, c0 = time.perf_counter(), _cpu()
    c.embedder.embed_passages(texts)
    figures["embed"] = _per(t0, c0, 1)
    c.close()
    return figures


def _per(t0: float, c0: float, n: int) -> dict[str, float]:
    return {
        "wall_ms": round(1000 * (time.perf_counter() - t0) / n, 1),
        "cpu_ms": round(1000 * (_cpu() - c0) / n, 1),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--home", type=Path, required=True, help="a home with both suites ingested")
    p.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.probe:
        print(json.dumps(probe(args.home)))
        return
    results: dict[str, Any] = {"cores": os.cpu_count()}
    for name, value in SETTINGS.items():
        env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
        if value is not None:
            env["OPENBLAS_NUM_THREADS"] = value
        run = subprocess.run(
            [sys.executable, __file__, "--home", str(args.home), "--probe"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        results[name] = json.loads(run.stdout.strip().splitlines()[-1])
    (ROOT / "bench" / "results" / "blas_threads.json").write_text(
        json.dumps(results, indent=1) + "\n", "utf-8"
    )
    print(
        f"| OpenBLAS threads ({results['cores']} cores) | sequential wall / CPU ms "
        "| concurrent (2) wall / CPU ms | embed 256 passages wall / CPU ms |"
    )
    print("|---|---|---|---|")
    for name in SETTINGS:
        r = results[name]
        print(
            f"| {name} | "
            + " | ".join(
                f"{r[k]['wall_ms']} / {r[k]['cpu_ms']}"
                for k in ("sequential", "concurrent", "embed")
            )
            + " |"
        )


if __name__ == "__main__":
    main()
