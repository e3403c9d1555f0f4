#!/usr/bin/env bash
# Refresh the French catalogue after changing the pages' messages: extract every message
# (templates and commune/web/*.py), merge into messages.po, then translate the new entries
# (msgstr "") by hand. tests/test_web.py fails while one is missing, and while the catalogue
# holds one the extractor does not find (this script drops it: mark it with N_ in
# commune/web/i18n.py). Then click's messages.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
POT=$(mktemp --suffix=.pot)
"$BIN/pybabel" extract -F src/commune/web/babel.cfg -k N_ --no-location --sort-output \
  --project Commune -o "$POT" . >/dev/null 2>&1
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
"$BIN/pybabel" extract -k _ -k ngettext:1,2 --no-location --sort-output \
  --project Commune -o "$POT" "$CLICK" >/dev/null 2>&1
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
