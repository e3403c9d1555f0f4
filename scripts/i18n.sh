#!/usr/bin/env bash
# Refresh the French catalogue after changing the pages' messages: extract every message
# (templates and commune/web/*.py), merge into messages.po, then translate the new entries
# (msgstr "") by hand. tests/test_web.py fails while one is missing, and while the catalogue
# holds one the extractor does not find (this script drops it: mark it with N_ in
# commune/web/i18n.py). Then click's messages.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
trap 'rm -f "${POT:-}"' EXIT

# pybabel extract, quiet unless it fails: then the file it could not read and why, and the
# script stops before any catalogue is merged. A template the extractor could not parse (a
# tag left open mid-edit) was skipped without a word (babel.cfg: silent = false), and the
# merge below, which drops what the extraction did not find, dropped its translated
# entries: once the template was mended, they came back empty.
extract() {
  local log
  log=$(mktemp)
  if ! "$BIN/pybabel" extract "$@" >"$log" 2>&1; then
    grep 'extracting messages from' "$log" | tail -n 1 >&2 || true
    tail -n 1 "$log" >&2
    echo "scripts/i18n.sh: the messages could not be extracted (above: from which file, and" \
      "why); stopped before merging them into their catalogue" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
}

POT=$(mktemp --suffix=.pot)
extract -F src/commune/web/babel.cfg -k N_ --no-location --sort-output --project Commune \
  -o "$POT" .
PO=src/commune/web/locale/fr/LC_MESSAGES/messages.po
if [ -f "$PO" ]; then
  "$BIN/pybabel" update --no-fuzzy-matching --no-wrap -i "$POT" -o "$PO" -l fr --ignore-obsolete
else
  "$BIN/pybabel" init -i "$POT" -o "$PO" -l fr --no-wrap
fi
rm -f "$POT"

# click's own messages (usage errors, help headings; commune/cli/clicktext.py): the msgids
# of the installed click, merged into their catalogue the same way.
CLICK=$("$BIN/python" -c 'import click, os; print(os.path.dirname(click.__file__))')
POT=$(mktemp --suffix=.pot)
extract -k _ -k ngettext:1,2 --no-location --sort-output --project Commune -o "$POT" "$CLICK"
# click marks a required option "[required]" through _(extra["required"]), a variable the
# extractor cannot read: add its msgid by hand so that the update keeps it.
printf '\nmsgid "required"\nmsgstr ""\n' >>"$POT"
"$BIN/pybabel" update --no-fuzzy-matching --no-wrap -i "$POT" -D click \
  -o src/commune/cli/locale/fr/LC_MESSAGES/click.po -l fr --ignore-obsolete
rm -f "$POT"

# The commands' own help (docstrings, help= strings; commune/cli/helptext.py): the English
# texts read from the CLI itself, merged into their catalogue; tests/test_french.py fails
# while one has no French.
POT=$(mktemp --suffix=.pot)
PYTHONPATH=src "$BIN/python" scripts/cli_help_pot.py "$POT"
PO=src/commune/cli/locale/fr/LC_MESSAGES/help.po
if [ -f "$PO" ]; then
  "$BIN/pybabel" update --no-fuzzy-matching --no-wrap -i "$POT" -D help -o "$PO" -l fr --ignore-obsolete
else
  "$BIN/pybabel" init -i "$POT" -D help -o "$PO" -l fr --no-wrap
fi
rm -f "$POT"
