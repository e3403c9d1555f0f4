#!/usr/bin/env bash
# `make bench`: rebuild the evaluation set, run every benchmark, render bench/README.md's tables.
set -euo pipefail
cd "$(dirname "$0")/.."
py=bench/.venv/bin/python
"$py" bench/build_eval.py --out bench/data
"$py" bench/run.py --data bench/data --peers
"$py" bench/ingest.py
"$py" bench/scale.py --sizes "${BENCH_SIZES:-10000,100000,1000000}"
"$py" bench/render.py
