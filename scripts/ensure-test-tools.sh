#!/usr/bin/env bash
# What the tests need beside the Python packages: Debian's Chromium and nginx, and axe-core.
# `make test` runs this beside the package install: both mostly wait on downloads, and on a
# fresh machine each took minutes one after the other. Chromium, then nginx: both use apt,
# whose lists one `apt-get update` at a time may write. axe-core comes from npm meanwhile.
# Fails if nginx is missing (ensure-nginx.sh says why); the others only warn.
set -u
cd "$(dirname "$0")/.."
bash scripts/ensure-axe.sh &
axe=$!
bash scripts/ensure-chromium.sh
bash scripts/ensure-nginx.sh
nginx=$?
wait "$axe"
exit "$nginx"
