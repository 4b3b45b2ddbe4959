#!/usr/bin/env bash
# Installs a Debian package some tests need when its program is missing:
#   scripts/debian-package.sh PACKAGE PROGRAM_PATH WHAT_FOR
# (Debian's Chromium for the widget tests, nginx for the scale-out tests; never a browser or
# server downloaded by a test tool.)
set -euo pipefail
package="$1" program="$2" purpose="$3"
[ -x "$program" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "$package: installing Debian's $package for $purpose (about a minute)"
  apt-get install -y -qq --no-install-recommends "$package" >/dev/null 2>&1 || {
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "$package" >/dev/null; }
  exit 0
fi
cat >&2 <<MSG
$package: $purpose need $program.
  On Debian or Ubuntu: sudo apt-get install $package
MSG
exit 1
