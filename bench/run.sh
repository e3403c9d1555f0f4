#!/usr/bin/env bash
# `make bench`: rebuild the evaluation set, run every benchmark, render bench/README.md's tables.
set -euo pipefail
cd "$(dirname "$0")/.."
py=bench/.venv/bin/python
"$py" bench/build_eval.py --out bench/data
"$py" bench/run.py --data bench/data --peers
"$py" bench/ingest.py
"$py" bench/scale.py --sizes "${BENCH_SIZES:-10000,100000,1000000}"
# Growing without rebuilding (docs/scaling.md): add -> searchable, PostgreSQL's own search,
# ingestion on a Ray cluster.
"$py" bench/nrt.py --sizes "${BENCH_SIZES:-10000,100000,1000000}"
"$py" bench/postgres_search.py --n 100000
"$py" bench/ray_ingest.py
"$py" bench/render.py
