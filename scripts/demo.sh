#!/usr/bin/env bash
# The main job: ingest a real, openly licensed French and English corpus, then answer
# cited questions in both languages. Safe to run again: unchanged files are skipped.
set -euo pipefail
commune="${COMMUNE_BIN:-commune}"
root="$(bash scripts/fetch-corpus.sh .cache/corpus)"

if [ -n "$root" ]; then
  echo "== Corpus: The Debian Administrator's Handbook (Raphaël Hertzog, Roland Mas), fr-FR and en-US"
  for lang in fr-FR en-US; do
    "$commune" add "$root/html/$lang" --collection debian-handbook \
      --licence "GPL-2.0-or-later OR CC-BY-SA-3.0" \
      --publisher "Raphaël Hertzog, Roland Mas" --contributor "Debian" --visibility public \
      --source "https://debian-handbook.info/browse/$lang/stable"
  done
  collection=debian-handbook
  questions=(
    "Comment mettre à jour la liste des paquets disponibles ?"
    "Comment configurer un serveur DNS avec bind ?"
    "How do I configure a static IP address?"
    "How can I find which package contains a file?"
    "Quelle est la recette de la tarte aux pommes ?"
  )
else
  echo "== The Debian handbook could not be fetched; using Commune's own documentation instead"
  "$commune" add README.md docs --collection commune-docs --licence "AGPL-3.0-or-later" \
    --publisher "Commune contributors"
  collection=commune-docs
  questions=("Comment ajouter des documents ?" "How do I run the tests?")
fi

for q in "${questions[@]}"; do
  echo
  echo "== Question: $q"
  "$commune" ask "$q" --collection "$collection"
done

# The quality behind these answers: the last `make eval` on this machine, else the
# reference run committed with the code.
report="${EVAL_HOME:-eval-data}/reports/latest/report.json"
[ -f "$report" ] || report=eval/reports/reference-test/report.json
python="$(dirname "$commune")/python"
[ -x "$python" ] || python=python3
echo
"$python" -c 'import sys; from commune.evaluation.report import load, one_line; print(one_line(load(sys.argv[1])), "—", sys.argv[1])' "$report" || true
