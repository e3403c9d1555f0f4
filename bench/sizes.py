"""Run a benchmark once per size, each size in a fresh process (its peak RSS its own, no
warm cache carried over), and keep the results side by side in bench/results/NAME.json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def run_sizes(script: str, sizes: list[int], extra: list[str], name: str) -> list[dict]:
    """``script --one SIZE *extra`` per size; its last stdout line is its JSON result."""
    results = []
    for n in sizes:
        out = subprocess.run(
            [sys.executable, script, "--one", str(n), *extra],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=1))
    return results
