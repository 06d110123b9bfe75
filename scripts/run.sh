#!/usr/bin/env bash
# Start the action server, Rasa (REST channel and HTTP API) and the web
# gateway, wait until they answer, print where to talk to them, and stop
# them all on Ctrl-C. Called by `make run`, which has installed the
# environments and trained the model named in $MODEL.
#
# With REDIS_URL set (redis://[:password@]host:port/db), Rasa keeps its
# conversations and locks in Redis (chatbot/endpoints.redis.yml) and so
# does the gateway; without it, both keep them in memory.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${MODEL:?set MODEL to a trained model}"
: "${RASA_VENV:=.venv/rasa}"
: "${GATEWAY_VENV:=.venv/gateway}"
RASA_VENV=$(cd "$RASA_VENV" && pwd)
MODEL=$(cd "$(dirname "$MODEL")" && pwd)/$(basename "$MODEL")
# A model that staff promoted (staffops: models/live.json) stays live across
# restarts; a candidate they did not promote never goes live by a restart.
LIVE=$(python3 -c 'import json,sys,os; p=json.load(open(sys.argv[1])).get("live") or ""; print(p if os.path.isfile(p) else "")' models/live.json 2>/dev/null || true)
if [ -n "$LIVE" ]; then
  echo "== the live model (models/live.json): $LIVE"
  MODEL=$LIVE
fi
RASA_PORT=${RASA_PORT:-5005}
ACTIONS_PORT=${ACTIONS_PORT:-5055}
GATEWAY_PORT=${GATEWAY_PORT:-8000}
export ACTION_ENDPOINT_URL="http://localhost:${ACTIONS_PORT}/webhook"
ENDPOINTS=endpoints.yml
if [ -n "${REDIS_URL:-}" ]; then
  # Rasa's endpoint files take ${VARIABLES}, not URLs: split REDIS_URL.
  eval "$(python3 - "$REDIS_URL" <<'PY'
import shlex, sys
from urllib.parse import urlsplit
url = urlsplit(sys.argv[1])
if url.scheme not in ("redis", "rediss") or not url.hostname:
    sys.exit(f"REDIS_URL must look like redis://host:port/db, not {sys.argv[1]!r}")
db = url.path.strip("/") or "0"
for name, value in {
    "RASA_REDIS_HOST": url.hostname,
    "RASA_REDIS_PORT": str(url.port or 6379),
    "RASA_REDIS_DB": db,
    "RASA_REDIS_PASSWORD": url.password or "",
}.items():
    print(f"export {name}={shlex.quote(value)}")
PY
)"
  export RASA_REDIS_KEY_PREFIX=${RASA_REDIS_KEY_PREFIX:-soudan}
  ENDPOINTS=endpoints.redis.yml
fi
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
  --port "$RASA_PORT" --endpoints "$ENDPOINTS" --credentials credentials.yml \
  --cors "http://localhost:${GATEWAY_PORT}") >logs/rasa.log 2>&1 &
pids+=($!)

wait_for "http://localhost:${ACTIONS_PORT}/health" "The action server" 60
wait_for "http://localhost:${RASA_PORT}/status" "Rasa" 180

GATEWAY_VENV=$(cd "$GATEWAY_VENV" && pwd)
(cd gateway && RASA_URLS="http://localhost:${RASA_PORT}" \
  ACTIONS_URL="http://localhost:${ACTIONS_PORT}" \
  exec "$GATEWAY_VENV/bin/uvicorn" app.main:app --host 127.0.0.1 --port "$GATEWAY_PORT" \
  --no-server-header) >logs/gateway.log 2>&1 &
pids+=($!)
wait_for "http://localhost:${GATEWAY_PORT}/health-check/live" "The gateway" 30

cat <<MSG

  The assistant is running.
  Web chat:      http://localhost:${GATEWAY_PORT}
  Health:        http://localhost:${GATEWAY_PORT}/health-check/
  REST channel:  http://localhost:${RASA_PORT}/webhooks/rest/webhook
  Chat in a terminal:  make chat      (or: python3 scripts/chat.py)
  Conversations: $([ "$ENDPOINTS" = endpoints.redis.yml ] && echo "in Redis (REDIS_URL)" || echo "in memory")
  Logs: logs/rasa.log, logs/actions.log, logs/gateway.log.  Stop with Ctrl-C.

MSG
wait -n "${pids[@]}"
