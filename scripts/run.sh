#!/usr/bin/env bash
# Start the action server and Rasa (REST channel and HTTP API), wait until
# they answer, print where to talk to them, and stop both on Ctrl-C.
# Called by `make run`, which has installed the environment and trained
# the model named in $MODEL.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${MODEL:?set MODEL to a trained model}"
: "${RASA_VENV:=.venv/rasa}"
RASA_VENV=$(cd "$RASA_VENV" && pwd)
MODEL=$(cd "$(dirname "$MODEL")" && pwd)/$(basename "$MODEL")
RASA_PORT=${RASA_PORT:-5005}
ACTIONS_PORT=${ACTIONS_PORT:-5055}
export ACTION_ENDPOINT_URL="http://localhost:${ACTIONS_PORT}/webhook"
mkdir -p logs
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

wait_for() { # url name seconds
  for _ in $(seq "$3"); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    sleep 1
  done
  echo "$2 did not start in $3 s: see logs/" >&2
  return 1
}

(cd chatbot && exec "$RASA_VENV/bin/rasa" run actions --actions actions \
  --port "$ACTIONS_PORT") >logs/actions.log 2>&1 &
pids+=($!)
(cd chatbot && exec "$RASA_VENV/bin/rasa" run --model "$MODEL" --enable-api \
  --port "$RASA_PORT" --endpoints endpoints.yml --credentials credentials.yml \
  --cors "http://localhost:8000") >logs/rasa.log 2>&1 &
pids+=($!)

wait_for "http://localhost:${ACTIONS_PORT}/health" "The action server" 60
wait_for "http://localhost:${RASA_PORT}/status" "Rasa" 180

cat <<MSG

  The assistant is running.
  REST channel:  http://localhost:${RASA_PORT}/webhooks/rest/webhook
  Chat in a terminal:  make chat      (or: python3 scripts/chat.py)
  Logs: logs/rasa.log, logs/actions.log.  Stop with Ctrl-C.

MSG
wait -n "${pids[@]}"
