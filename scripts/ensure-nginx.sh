#!/usr/bin/env bash
# Debian's nginx, for the test that puts it in front of `commune serve` (tests/test_deploy.py):
# the packages nginx and nginx-common fetched with `apt-get download` (apt checks their
# signatures through the archive's Release file) and unpacked with `dpkg -x` into .cache/,
# never installed: the test runs it as this user, on loopback ports, with its own prefix.
# Fails loudly: a missing nginx must stop `make test`, not quietly skip the proxy test.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=.cache/nginx
[ -x "$DEST/root/usr/sbin/nginx" ] && exit 0
command -v apt-get >/dev/null && command -v dpkg >/dev/null \
  || { echo "nginx test: needs apt-get and dpkg (Debian or Ubuntu) to fetch nginx" >&2; exit 1; }
mkdir -p "$DEST/debs"
fetch() { (cd "$DEST/debs" && apt-get download -q nginx nginx-common >/dev/null 2>&1); }
if ! fetch; then
  # A fresh container has no package lists yet; only root may fetch them.
  if [ "$(id -u)" = 0 ]; then
    apt-get update -q >/dev/null 2>&1 || true
  fi
  fetch || { echo "nginx test: apt-get download nginx nginx-common failed" \
    "(no package lists? run apt-get update as root)" >&2; exit 1; }
fi
rm -rf "$DEST/root"
for deb in "$DEST"/debs/*.deb; do dpkg -x "$deb" "$DEST/root"; done
rm -rf "$DEST/debs"
missing=$(ldd "$DEST/root/usr/sbin/nginx" | grep 'not found' || true)
[ -z "$missing" ] || { echo "nginx test: nginx needs libraries not installed here:" \
  "$missing" >&2; exit 1; }
"$DEST/root/usr/sbin/nginx" -v
