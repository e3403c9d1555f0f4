#!/usr/bin/env bash
# `make eval`: build the evaluation home (the Debian manuals and the service-public.fr fiches)
# and the two held-out ones (Debian's French manual pages; fiches no suite questions), run each
# shipped suite's test split and each held-out suite whole, write the reports and compare each
# with the reference
# committed in eval/reports/. With EVAL_UPDATE=1 (`make eval EVAL_UPDATE=1`), the new reports
# then replace the committed references: only from a clean tree, since a reference pins the
# commit and the code it was made by, and `make test` (tests/test_instrument.py) checks them.
set -euo pipefail
commune="${COMMUNE_BIN:-commune}"
home="${COMMUNE_HOME:-eval-data}"
update="${EVAL_UPDATE:-}"
if [ -n "$update" ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  echo "EVAL_UPDATE: the tree has uncommitted changes; commit them first, a reference must" \
    "pin the code it was made by" >&2
  exit 1
fi
# A report's report.html is written in its reader's language: the committed references are
# French (the product's first language) whoever's locale made them, so that two runs of the
# same code give the same files.
if [ -n "$update" ]; then
  export LANGUAGE=fr
fi
COMMUNE_HOME="$home" bash scripts/eval-home.sh
# The held-out corpora, each in a home of its own (scripts/eval-home-manpages.sh,
# scripts/eval-home-fiches-heldout.sh).
held_out="$home/held-out-manpages"
COMMUNE_HOME="$held_out" bash scripts/eval-home-manpages.sh
held_out_fiches="$home/held-out-fiches"
COMMUNE_HOME="$held_out_fiches" bash scripts/eval-home-fiches-heldout.sh
# suite, reference name, output directory, split, home: the reference keeps its name, so
# that history diffs line up; the Debian run stays in reports/latest, where `make demo` reads
# its headline. The held-out suites are asked whole: no model or threshold was chosen on them.
runs=(
  "debian reference-test latest test $home"
  "fiches reference-fiches-test latest-fiches test $home"
  "manpages reference-manpages-all latest-manpages all $held_out"
  "fiches-heldout reference-fiches-heldout-all latest-fiches-heldout all $held_out_fiches"
)
# `read` gives the last field the rest of the line: a home whose path holds spaces stays whole.
for run in "${runs[@]}"; do
  read -r suite reference dir split run_home <<<"$run"
  out="$home/reports/$dir"
  compare=()
  if [ -f "eval/reports/$reference/report.json" ]; then
    compare=(--compare "eval/reports/$reference")
  fi
  "$commune" --home "$run_home" eval "eval/suites/$suite.jsonl" --split "$split" --out "$out" \
    ${compare[@]+"${compare[@]}"}
done
# Only once every suite has run: a copied report makes the tree dirty for the next run's pins.
if [ -n "$update" ]; then
  for run in "${runs[@]}"; do
    read -r suite reference dir split run_home <<<"$run"
    mkdir -p "eval/reports/$reference"
    cp "$home/reports/$dir/report.json" "$home/reports/$dir/report.html" "eval/reports/$reference/"
    echo "eval/reports/$reference replaced: commit it"
  done
fi
