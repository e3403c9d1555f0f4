#!/usr/bin/env bash
# Fetch an openly licensed document package from the Debian archive and unpack it.
#   fetch-corpus.sh DEST             the Debian Administrator's Handbook; prints the directory
#                                    that holds html/fr-FR and html/en-US
#   fetch-corpus.sh DEST PACKAGE     any package (debian-reference-fr, maint-guide-fr...);
#                                    prints the directory it was unpacked into
# Prints nothing if the package cannot be had (no apt, no network).
set -uo pipefail
dest="${1:-.cache/corpus}"
pkg="${2:-debian-handbook}"
out="$dest/$pkg"
show() {
  if [ "$pkg" = debian-handbook ]; then echo "$out/usr/share/doc/debian-handbook"; else echo "$out"; fi
}
if [ -f "$out/.unpacked" ]; then show; exit 0; fi
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || exit 0
mkdir -p "$dest" && cd "$dest" || exit 0
if ! ls "${pkg}"_*.deb >/dev/null 2>&1; then
  # `apt-get download` needs package lists; a fresh machine may have none yet.
  apt-get download "$pkg" >/dev/null 2>&1 \
    || { apt-get update >/dev/null 2>&1 && apt-get download "$pkg" >/dev/null 2>&1; } \
    || exit 0
fi
deb=$(ls "${pkg}"_*.deb | head -n 1)
dpkg-deb -x "$deb" "$pkg" || exit 0
# The version unpacked, so that an evaluation can say what it was run against.
dpkg-deb -f "$deb" Version > "$pkg/.version" && touch "$pkg/.unpacked"
cd - >/dev/null && show
