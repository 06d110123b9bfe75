#!/usr/bin/env bash
# Start the action server, Rasa (REST channel and HTTP API) and the web
# gateway, wait until they answer, print where to talk to them, and stop
# them all on Ctrl-C. Called by `make run`, which has installed the
# environments and trained the model named in $MODEL.
#
# With REDIS_URL set (redis://[:password@]host:port/db), Rasa keeps its
# conversations and locks in Redis (chatbot/endpoints.redis.yml) and so
# does the gateway, and RASA_PROCESSES Rasa processes (2 by default) serve
# behind the gateway; without it, both keep them in memory, one Rasa process.
#
# The staff records (inbox, feedback, audit log, LINE dead letters, the masked
# turn log) go to DATABASE_URL (PostgreSQL, e.g.
# postgresql://postgres@127.0.0.1:5432/soudan) when it is set, else to the
# SQLite file var/records.sqlite; their migrations run here, before anything
# starts (python -m staffops.records upgrade).
#
# Rasa and the action server listen on 127.0.0.1 only: only the gateway and
# staff tools on this machine reach them. Rasa's HTTP API needs RASA_TOKEN
# (a random one is made when it is not set, and never printed); the gateway
# gets it from the environment, and so does staffops (`RASA_TOKEN=...
# python -m staffops promote ...`). The REST channel takes no token.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${MODEL:?set MODEL to a trained model}"
: "${RASA_VENV:=.venv/rasa}"
: "${GATEWAY_VENV:=.venv/gateway}"
RASA_VENV=$(cd "$RASA_VENV" && pwd)
GATEWAY_VENV=$(cd "$GATEWAY_VENV" && pwd)
# The records' schema at alembic's head revision (DATABASE_URL, else var/records.sqlite).
"$GATEWAY_VENV/bin/python" -m staffops.records upgrade
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
export ACTION_ENDPOINT_URL="http://127.0.0.1:${ACTIONS_PORT}/webhook"
RASA_TOKEN_SOURCE="from your environment"
if [ -z "${RASA_TOKEN:-}" ]; then
  RASA_TOKEN=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
  RASA_TOKEN_SOURCE="a random one for this run; set RASA_TOKEN to choose it"
fi
export RASA_TOKEN
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

# rasa_sdk binds to SANIC_HOST (default 0.0.0.0).
(cd chatbot && SANIC_HOST=127.0.0.1 exec "$RASA_VENV/bin/rasa" run actions --actions actions \
  --port "$ACTIONS_PORT") >logs/actions.log 2>&1 &
pids+=($!)
# Several Rasa processes share the conversations through Redis, so only with
# REDIS_URL; two by default there: one process answers one message at a time,
# and ten people typing at once queue behind it (docs/measurements.md).
if [ -z "${REDIS_URL:-}" ]; then
  [ "${RASA_PROCESSES:-1}" = 1 ] || echo "== RASA_PROCESSES needs REDIS_URL: one Rasa process" >&2
  RASA_PROCESSES=1
fi
RASA_PROCESSES=${RASA_PROCESSES:-2}
rasa_urls=()
for ((i = 0; i < RASA_PROCESSES; i++)); do
  port=$((RASA_PORT + i))
  log=logs/rasa.log
  [ "$i" = 0 ] || log=logs/rasa-$((i + 1)).log
  # The token goes in from the environment, not on the command line, so
  # that `ps` does not show it (docker/rasa_serve.py: rasa with --auth-token added).
  (cd chatbot && exec "$RASA_VENV/bin/python" ../docker/rasa_serve.py \
    run --model "$MODEL" --enable-api --interface 127.0.0.1 \
    --port "$port" --endpoints "$ENDPOINTS" --credentials credentials.yml) >"$log" 2>&1 &
  pids+=($!)
  rasa_urls+=("http://127.0.0.1:${port}")
done

wait_for "http://127.0.0.1:${ACTIONS_PORT}/health" "The action server" 180
for url in "${rasa_urls[@]}"; do
  wait_for "$url/" "Rasa at $url" 240
done

# --no-proxy-headers: X-Forwarded-For is believed only from TRUSTED_PROXIES
# (the gateway's setting), never from any local client.
(cd gateway && RASA_URLS=$(IFS=,; echo "${rasa_urls[*]}") \
  ACTIONS_URL="http://127.0.0.1:${ACTIONS_PORT}" \
  exec "$GATEWAY_VENV/bin/uvicorn" app.main:app --host 127.0.0.1 --port "$GATEWAY_PORT" \
  --no-server-header --no-proxy-headers) >logs/gateway.log 2>&1 &
pids+=($!)
wait_for "http://localhost:${GATEWAY_PORT}/health-check/live" "The gateway" 30

cat <<MSG

  The assistant is running.
  Web chat:      http://localhost:${GATEWAY_PORT}
  Health:        http://localhost:${GATEWAY_PORT}/health-check/
  REST channel:  http://127.0.0.1:${RASA_PORT}/webhooks/rest/webhook (Rasa processes: ${RASA_PROCESSES}; on 127.0.0.1 only)
  Rasa HTTP API: needs RASA_TOKEN (${RASA_TOKEN_SOURCE})
  Chat in a terminal:  make chat      (or: python3 scripts/chat.py)
  Conversations: $([ "$ENDPOINTS" = endpoints.redis.yml ] && echo "in Redis (REDIS_URL)" || echo "in memory")
  Staff records: $([ -n "${DATABASE_URL:-}" ] && echo "in DATABASE_URL's database" || echo "in var/records.sqlite")
  Logs: logs/rasa*.log, logs/actions.log, logs/gateway.log.  Stop with Ctrl-C.

MSG
wait -n "${pids[@]}"
