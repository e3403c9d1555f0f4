#!/usr/bin/env bash
# Fetch the Debian Administrator's Handbook (HTML, fr-FR and en-US) from the Debian archive.
# Prints the directory that holds html/fr-FR and html/en-US, or nothing if it cannot be had.
set -uo pipefail
dest="${1:-.cache/corpus}"
root="$dest/debian-handbook/usr/share/doc/debian-handbook"
if [ -d "$root/html/fr-FR" ]; then echo "$root"; exit 0; fi
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || exit 0
mkdir -p "$dest" && cd "$dest" || exit 0
if ! ls debian-handbook_*.deb >/dev/null 2>&1; then
  # `apt-get download` needs package lists; a fresh machine may have none yet.
  apt-get download debian-handbook >/dev/null 2>&1 \
    || { apt-get update >/dev/null 2>&1 && apt-get download debian-handbook >/dev/null 2>&1; } \
    || exit 0
fi
dpkg-deb -x debian-handbook_*.deb debian-handbook || exit 0
cd - >/dev/null && echo "$root"
