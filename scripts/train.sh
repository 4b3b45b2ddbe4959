#!/usr/bin/env bash
# Trains the model when it is missing or stale: anything that shapes it (config, domain,
# data, our components, the pinned packages) changed since the last training.
set -euo pipefail
cd "$(dirname "$0")/.."

fingerprint=$(cat config.yml domain.yml requirements.lock $(find data components -type f \( -name '*.yml' -o -name '*.py' \) | sort) | sha256sum | cut -d' ' -f1)
latest=$(ls -t models/*.tar.gz 2>/dev/null | head -n 1 || true)
if [ -n "$latest" ] && [ "$(cat models/.fingerprint 2>/dev/null)" = "$fingerprint $(basename "$latest")" ]; then
  echo "train: model is up to date ($latest)"
  exit 0
fi

.venv/bin/python -m clinic.profile
.venv/bin/rasa data validate --fail-on-warnings --quiet
start=$(date +%s)
.venv/bin/rasa train --force --fixed-model-name assistant --out models --quiet
latest=models/assistant.tar.gz
echo "$fingerprint $(basename "$latest")" > models/.fingerprint
echo "train: trained $latest in $(( $(date +%s) - start )) s"
