#!/usr/bin/env bash
# Build the held-out evaluation home: Debian's French manual pages (manpages-fr), the corpus of
# eval/suites/manpages.jsonl. No model or threshold was chosen on it (the man page reader was
# written against these pages, before the questions): it checks that
# the answers' quality carries to documents no answering setting was chosen on
# (docs/evaluation.md). A home of
# its own, so that the other suites' figures do not move with it: the lexical statistics are
# a home's. Safe to run again: unchanged files are skipped.
set -euo pipefail
commune="${COMMUNE_BIN:-commune}"
man="$(bash scripts/fetch-corpus.sh .cache/corpus manpages-fr)"
if [ -z "$man" ]; then
  echo "the held-out corpus could not be fetched (apt-get download manpages-fr); check the" \
    "Debian archive is reachable" >&2
  exit 1
fi
got="$(cat "$man/.version" 2>/dev/null || echo unknown)"
if [ "$got" != "4.18.1-1" ]; then
  echo "note: manpages-fr is version $got here, the suite was written against 4.18.1-1" >&2
fi
# Each page's address is where Debian installs it, the same whichever checkout unpacked it:
# without --source it would be the unpacked file's path, and a second clone would add every
# page again as new documents.
"$commune" add "$man/usr/share/man/fr" --collection manpages-fr --licence GPL-3.0-or-later \
  --publisher "manpages-l10n" --source file:///usr/share/man/fr --visibility public | tail -n 3
"$commune" reindex | tail -n 1
