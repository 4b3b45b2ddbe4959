#!/usr/bin/env bash
# Trains models/assistant.tar.gz when it is missing or stale: when anything that shapes it
# (config, domain, data, the pipeline's components and the crisis layer they run, the pinned
# packages) changed since it was trained. The server's other components (tracker store, lock store,
# …) are not in the model.
set -euo pipefail
cd "$(dirname "$0")/.."

MODEL=models/assistant.tar.gz
# The components config.yml names, and the components modules those import.
named=$(grep -oE 'components\.[a-z_]+' config.yml | sed 's|\.|/|; s|$|.py|' | sort -u)
pipeline=$(printf '%s\n' $named $(grep -ohE '^from components\.[a-z_]+' $named | \
  sed 's|from ||; s|\.|/|; s|$|.py|') | sort -u)
fingerprint=$(cat config.yml domain.yml requirements.lock $pipeline \
  $(find data -type f \( -name '*.yml' -o -name '*.jsonl' \) | sort) crisis/*.py | sha256sum | cut -d' ' -f1)
if [ -f "$MODEL" ] && [ "$(cat models/.fingerprint 2>/dev/null)" = "$fingerprint" ]; then
  echo "train: $MODEL is up to date"
  exit 0
fi

.venv/bin/python -m clinic.profile
.venv/bin/python scripts/validate_data.py
echo "train: training $MODEL (a few minutes on 2 cores; 10 more the first time, to encode the crisis examples)"
start=$(date +%s)
# --skip-validation: validate_data.py just ran `rasa data validate`, stricter than train's own.
# The sentence vectors of the examples are kept for the next training and the console's
# retrainings (components/sentence_encoder.py).
CLINIC_SENTENCE_VECTOR_CACHE=var/cache/sentence-vectors.npz .venv/bin/rasa train --force --skip-validation --fixed-model-name assistant --out models \
  >logs/train.log 2>&1 || {
  tail -n 40 logs/train.log >&2; echo "train: failed; see logs/train.log" >&2; exit 1; }
echo "$fingerprint" > models/.fingerprint
echo "train: trained $MODEL in $(( $(date +%s) - start )) s"
