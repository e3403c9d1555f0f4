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
# Approximate dense search against exact, on realistic vectors (bench/vectors.py).
"$py" bench/ann.py --sizes 200000,1000000
"$py" bench/postgres_search.py --n 100000
# The evaluation suite on SQLite and on PostgreSQL, side by side (builds eval-data first).
COMMUNE_BIN=bench/.venv/bin/commune COMMUNE_HOME=eval-data bash scripts/eval-home.sh
"$py" bench/postgres_eval.py --home eval-data
# One OpenBLAS thread against one per core, over the evaluation home's questions.
"$py" bench/blas_threads.py --home eval-data
# An answer's CPU time without and with what it keeps between questions.
"$py" bench/answer_cpu.py --home eval-data
# The first answer after a start, with and without the server's warm-up.
"$py" bench/first_answer.py --home eval-data
"$py" bench/ray_ingest.py
"$py" bench/render.py
