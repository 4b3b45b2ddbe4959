# The two commands of the README are `make run` and `make test`; the rest are their parts.
SHELL := /bin/bash
VENV := .venv/bin
# Quieter TensorFlow; nothing is ever fetched from a model hub.
export TF_CPP_MIN_LOG_LEVEL := 2
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_OFFLINE := 1
# The developer's targets run in local mode (clinic/settings.py local_mode); unset, a server
# takes a deployment's settings.
run scale test unit shell: export CLINIC_ENV ?= local

CHROMIUM ?= /usr/bin/chromium
NGINX ?= /usr/sbin/nginx

.PHONY: setup train run scale test unit lint format browser nginx validate migrate shell lock clean

setup:  ## Python 3.10 venv, pinned packages, clinic profile check
	@scripts/setup.sh

train: setup  ## Train the model if it is missing or stale
	@scripts/train.sh

run: train  ## Action server + Rasa server (REST channel) on an embedded SQLite database
	@$(VENV)/python -m deploy.run

scale: train nginx  ## Rasa replicas and action servers behind nginx, on PostgreSQL and Redis
	@$(VENV)/python -m deploy.run --scale $(or $(REPLICAS),2)

test: lint train browser nginx  ## The whole test suite, against the trained model and real servers
	@$(VENV)/pytest

unit: lint  ## The fast loop: only the unit tests (-m unit) on every core, no trained model, no servers
	@$(VENV)/pytest -m unit -n auto --dist loadfile

lint: setup  ## ruff (ruff.toml): pyflakes, pycodestyle, import order, bugbear; the format
	@$(VENV)/ruff check --quiet . && $(VENV)/ruff format --check --quiet . && echo "lint: clean" \
	  || { echo "lint: see above (make format rewrites the layout)" >&2; exit 1; }

format: setup  ## ruff format: the code's layout
	@$(VENV)/ruff format --quiet .

browser:  ## Debian's Chromium for the widget tests
	@scripts/debian-package.sh chromium $(CHROMIUM) "the widget tests"

nginx:  ## Debian's nginx, the load balancer of `make scale` and its tests
	@scripts/debian-package.sh nginx-light $(NGINX) "the scale-out tests"

migrate: setup  ## Bring the database at CLINIC_DATABASE_URL (default: var/assistant.db) to this release's schema
	@$(VENV)/python -m clinic.migrate

validate: setup
	@$(VENV)/python scripts/validate_data.py

shell: train  ## Chat in the terminal (needs `make run` in another terminal for custom actions)
	@CLINIC_ACTION_TOKEN=$${CLINIC_ACTION_TOKEN:-$$(cat var/action-server.key 2>/dev/null || echo "start make run first, which makes var/action-server.key")} \
	  $(VENV)/rasa shell --endpoints endpoints.yml --port 5006 -m models/assistant.tar.gz

lock:  ## Re-resolve requirements.in and requirements-dev.in into their locks (in a throwaway venv)
	@scripts/lock.sh

clean:
	rm -rf models/*.tar.gz models/.fingerprint reports .pytest_cache
