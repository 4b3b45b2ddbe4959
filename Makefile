# The two commands of the README are `make run` and `make test`; the rest are their parts.
SHELL := /bin/bash
VENV := .venv/bin
# Quieter TensorFlow; nothing is ever fetched from a model hub.
export TF_CPP_MIN_LOG_LEVEL := 2
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_OFFLINE := 1

.PHONY: setup train run test browser validate shell lock clean

setup:  ## Python 3.10 venv, pinned packages, clinic profile check
	@scripts/setup.sh

train: setup  ## Train the model if it is missing or stale
	@scripts/train.sh

run: train  ## Action server + Rasa server (REST channel) on an embedded SQLite database
	@scripts/run.sh

test: train browser  ## The whole test suite, against the trained model and real servers
	@$(VENV)/pytest

browser:  ## Debian's Chromium for the widget tests
	@scripts/browser.sh

validate: setup
	@$(VENV)/python scripts/validate_data.py

shell: train  ## Chat in the terminal (needs `make run` in another terminal for custom actions)
	@$(VENV)/rasa shell --endpoints endpoints.yml --port 5006 -m models/assistant.tar.gz

lock:  ## Re-resolve requirements.in into requirements.lock (in a throwaway venv)
	@scripts/lock.sh

clean:
	rm -rf models/*.tar.gz models/.fingerprint reports .pytest_cache
