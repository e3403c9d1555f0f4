"""What SQLite's synchronous=FULL costs a commit, beside NORMAL, on this machine's disk.

A home's database runs in WAL mode. With synchronous=NORMAL a commit is durable across a
killed process but not across a power cut: the transactions since the last checkpoint can
be rolled back (an answer billed and credited, an issued statement, an approval). FULL
syncs the write-ahead log at every commit, as PostgreSQL's default does. Side by side in one
run, over two databases opened by Commune's own engine (store/db.make_engine), the same
small transactions (a row of 500 characters each), alternating the settings by round:

    python bench/durability.py [--commits 200] [--rounds 5]

An answer writes one transaction (its ledger row, credits and decision record together), so
the difference per commit is what FULL adds to an answer.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from commune.store.db import make_engine

RESULTS = Path(__file__).parent / "results" / "durability.json"


def per_commit_ms(folder: Path, mode: str, commits: int) -> float:
    engine = make_engine(f"sqlite:///{folder / (mode + '.db')}")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"PRAGMA synchronous={mode}")
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS t (a INTEGER PRIMARY KEY, b TEXT)")
        conn.commit()
        start = time.perf_counter()
        for _ in range(commits):
            conn.execute(text("INSERT INTO t (b) VALUES (:b)"), {"b": "x" * 500})
            conn.commit()
        spent = time.perf_counter() - start
    engine.dispose()
    return spent / commits * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    seen: dict[str, list[float]] = {"NORMAL": [], "FULL": []}
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent) as tmp:
        for _ in range(args.rounds):
            for mode in seen:
                seen[mode].append(per_commit_ms(Path(tmp), mode, args.commits))
    result = {mode: round(statistics.median(ms), 3) for mode, ms in seen.items()}
    result["commits"] = args.commits
    result["rounds"] = args.rounds
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"ms per commit, median of {args.rounds} rounds of {args.commits}:")
    print(f"  NORMAL {result['NORMAL']}  FULL {result['FULL']}")


if __name__ == "__main__":
    main()
