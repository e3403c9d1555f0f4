#!/usr/bin/env bash
# `make eval`: build the evaluation home from the Debian archive, run the shipped suite's
# test split, write the report and compare it with the reference committed in eval/reports/.
set -euo pipefail
commune="${COMMUNE_BIN:-commune}"
home="${COMMUNE_HOME:-eval-data}"
out="$home/reports/latest"
COMMUNE_HOME="$home" bash scripts/eval-home.sh
"$commune" --home "$home" eval eval/suites/debian.jsonl --split test \
  --out "$out" --compare eval/reports/reference-test
