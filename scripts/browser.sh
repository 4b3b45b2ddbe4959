#!/usr/bin/env bash
# The widget tests drive Debian's Chromium (never a browser downloaded by a test tool).
set -euo pipefail
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "browser: installing Debian's chromium for the widget tests (about a minute)"
  apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 || {
    apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
  exit 0
fi
cat >&2 <<'MSG'
browser: the widget tests need Chromium at /usr/bin/chromium (or CHROMIUM=/path/to/chromium).
  On Debian or Ubuntu: sudo apt-get install chromium
MSG
exit 1
