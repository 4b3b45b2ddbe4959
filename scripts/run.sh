#!/usr/bin/env bash
# Runs the assistant: the action server, the Rasa server (REST, web chat and SMS channels), the
# escalation delivery worker, the staff console and the demo clinic page with the chat widget,
# on the embedded SQLite database under var/. Ctrl-C stops them all.
#   scripts/run.sh --scale N   (make scale): N Rasa replicas and two action servers behind nginx
#   (deploy/cluster.py), on this machine's PostgreSQL and Redis unless CLINIC_DATABASE_URL,
#   CLINIC_EVENTS_DATABASE_URL and CLINIC_REDIS_URL say otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
# A developer's machine: generated keys under var/, the REST channel open on loopback. A
# clinic's deployment leaves CLINIC_ENV unset (or sets it to production) and sets the secrets.
export CLINIC_ENV="${CLINIC_ENV:-local}"
# The secret the Rasa server sends to the action server (endpoints.yml), kept in var/.
mkdir -p var
if [ -z "${CLINIC_ACTION_TOKEN:-}" ]; then
  [ -s var/action-server.key ] || (umask 077; .venv/bin/python -c \
    'import secrets; print(secrets.token_hex(32))' > var/action-server.key)
  CLINIC_ACTION_TOKEN=$(cat var/action-server.key)
fi
export CLINIC_ACTION_TOKEN
REPLICAS=0
if [ "${1:-}" = "--scale" ]; then
  REPLICAS="${2:-2}"
  export CLINIC_DATABASE_URL="${CLINIC_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/clinic_assistant}"
  export CLINIC_EVENTS_DATABASE_URL="${CLINIC_EVENTS_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/clinic_events}"
  export CLINIC_REDIS_URL="${CLINIC_REDIS_URL:-redis://127.0.0.1:6379/0}"
fi

RASA_PORT="${RASA_PORT:-5005}"
STAFF_PORT="${STAFF_PORT:-5008}"  # scaled out: nginx's staff API port, the console's only
ACTION_PORT="${ACTION_PORT:-5055}"
DEMO_PORT="${DEMO_PORT:-8080}"
CONSOLE_PORT="${CONSOLE_PORT:-8000}"
mkdir -p var logs

cleanup() { kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

if [ "$REPLICAS" -gt 0 ]; then
  # PostgreSQL and Redis first (one line for what cannot be reached), the databases and tables
  # created once, before the console and the worker open them.
  .venv/bin/python -m deploy.cluster --prepare-only
  .venv/bin/python -m deploy.cluster --replicas "$REPLICAS" --port "$RASA_PORT" \
    --staff-port "$STAFF_PORT" \
    2>&1 | tee logs/cluster.log &
  ready_actions() { true; }  # the cluster waits for its action servers itself
else
  .venv/bin/python -m clinic.migrate  # the clinic's tables, at this release's schema
  .venv/bin/python -m clinic.action_server --port "$ACTION_PORT" >logs/actions.log 2>&1 &
  .venv/bin/rasa run --model models/assistant.tar.gz --endpoints endpoints.yml \
    --credentials credentials.yml --port "$RASA_PORT" --interface 127.0.0.1 >logs/rasa.log 2>&1 &
  ready_actions() { curl -fsS "http://127.0.0.1:$ACTION_PORT/health" >/dev/null 2>&1; }
fi
.venv/bin/python -m clinic.delivery >logs/delivery.log 2>&1 &
.venv/bin/python -m demo.server --port "$DEMO_PORT" \
  --assistant-url "http://127.0.0.1:$RASA_PORT" >logs/demo.log 2>&1 &
# The console takes conversations over through the Rasa server's staff API, with the bearer
# token both read from CLINIC_STAFF_API_TOKEN (in local mode, when unset, var/staff-api.key).
if [ "$REPLICAS" -gt 0 ]; then STAFF_API="http://127.0.0.1:$STAFF_PORT"
else STAFF_API="http://127.0.0.1:$RASA_PORT"; fi
CLINIC_RASA_URL="${CLINIC_RASA_URL:-$STAFF_API}" \
  .venv/bin/python -m console run --port "$CONSOLE_PORT" >logs/console.log 2>&1 &

echo "run: starting (logs in logs/) ..."
started=$(jobs -p | wc -l)
for _ in $(seq 1 300); do
  if [ "$(jobs -rp | wc -l)" -lt "$started" ]; then
    echo "run: a server stopped while starting; see logs/" >&2
    exit 1
  fi
  if curl -fsS "http://127.0.0.1:$RASA_PORT/" >/dev/null 2>&1 && \
     ready_actions && \
     curl -fsS "http://127.0.0.1:$DEMO_PORT/" >/dev/null 2>&1 && \
     curl -fsS "http://127.0.0.1:$CONSOLE_PORT/login" >/dev/null 2>&1; then
    if [ -n "${TWILIO_AUTH_TOKEN:-}" ]; then
      sms="Twilio posts to $TWILIO_WEBHOOK_URL (-> http://127.0.0.1:$RASA_PORT/webhooks/twilio/webhook)"
    else
      sms="off (set TWILIO_AUTH_TOKEN and TWILIO_WEBHOOK_URL; docs/channels.md)"
    fi
    cat <<MSG
run: the assistant is ready.
  Demo clinic page with the chat widget: http://127.0.0.1:$DEMO_PORT/
  Staff console: http://127.0.0.1:$CONSOLE_PORT/   (first account: .venv/bin/python -m console users add NAME --role admin)
  SMS webhook:   $sms
  REST channel:  curl -s -XPOST http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook \\
                   -H 'Content-Type: application/json' -d '{"sender":"me","message":"how long is a session?"}'
  Terminal chat: make shell   (in another terminal)
  Escalations:   .venv/bin/python -m clinic.escalations list   (delivery log: logs/delivery.log)
  Stop:          Ctrl-C
MSG
    wait -n
    echo "run: a server stopped; see logs/" >&2
    exit 1
  fi
  sleep 1
done
echo "run: the servers did not become ready in 300 s; see logs/" >&2
exit 1
