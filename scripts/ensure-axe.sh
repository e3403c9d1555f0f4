#!/usr/bin/env bash
# axe-core (MPL-2.0), the accessibility engine the browser tests inject into every page:
# one pinned version from the npm registry, checked against its published integrity hash,
# kept in .cache/ (outside the package and the repository). Never fails: the browser test
# says what is missing.
set -u
cd "$(dirname "$0")/.."
VERSION=4.10.3
INTEGRITY="sha512-Xm7bpRXnDSX2YE2YFfBk2FnF0ep6tmG7xPh8iHee8MIcrgq762Nkce856dYtJYLkuIoYZvGfTs/PbZhideTcEg=="
DEST=.cache/axe-core-$VERSION
[ -f "$DEST/axe.min.js" ] && exit 0
mkdir -p "$DEST"
TGZ="$DEST/axe-core-$VERSION.tgz"
curl -fsSL --retry 3 -o "$TGZ" "https://registry.npmjs.org/axe-core/-/axe-core-$VERSION.tgz" \
  || { echo "axe-core: could not download $VERSION from the npm registry" >&2; exit 0; }
GOT="sha512-$(openssl dgst -sha512 -binary "$TGZ" | base64 -w0)"
if [ "$GOT" != "$INTEGRITY" ]; then
  echo "axe-core: the download does not match its published integrity hash; not used" >&2
  rm -f "$TGZ"; exit 0
fi
tar -xzf "$TGZ" -C "$DEST" --strip-components=1 package/axe.min.js package/LICENSE
rm -f "$TGZ"
