#!/usr/bin/env bash
# Debian's Chromium and ChromeDriver for the browser test (npx playwright install cannot
# download a browser here). Installs them when missing and this user may; never fails.
command -v chromium >/dev/null && command -v chromedriver >/dev/null && exit 0
command -v apt-get >/dev/null || exit 0
[ "$(id -u)" = 0 ] || { echo "browser test: run as root or install chromium chromium-driver" >&2; exit 0; }
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 \
  || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium chromium-driver >/dev/null 2>&1; } \
  || echo "browser test: could not install chromium" >&2
exit 0
