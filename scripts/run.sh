#!/usr/bin/env bash
# Starts the action server and the Rasa server, prints how to chat, and stops both
# on Ctrl-C. `--shell` chats in this terminal instead of serving HTTP.
# Ports and paths can be changed for tests: RASA_PORT, ACTIONS_PORT, HSG_RUN_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
RASA_PORT=${RASA_PORT:-5005}
ACTIONS_PORT=${ACTIONS_PORT:-5055}
WEB_PORT=${WEB_PORT:-8080}
# Pages allowed to talk to the bot from a browser (CORS): the demo page, plus the
# clinic's own site(s) from HSG_ALLOWED_ORIGINS (space-separated origins).
ALLOWED_ORIGINS="http://localhost:${WEB_PORT} ${HSG_ALLOWED_ORIGINS:-}"
RUN_DIR=${HSG_RUN_DIR:-run}
MODEL=${HSG_MODEL:-models/hsg.tar.gz}
mkdir -p "$RUN_DIR"; rm -f "$RUN_DIR/ready"
export TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1 PYTHONUNBUFFERED=1 RASA_TELEMETRY_ENABLED=false PYTHONWARNINGS=ignore

# The HTTP API token: from the environment, else from .env (created once, random).
if [ -z "${HSG_API_TOKEN:-}" ]; then
  if [ ! -f .env ] || ! grep -q '^HSG_API_TOKEN=' .env; then
    echo "HSG_API_TOKEN=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))')" >> .env
    chmod 600 .env
    echo "==> Created .env with a new random HSG_API_TOKEN"
  fi
  HSG_API_TOKEN=$(grep '^HSG_API_TOKEN=' .env | tail -n 1 | cut -d= -f2-)
fi

# The key that turns SMS phone numbers into conversation ids (never the number itself).
if [ -z "${HSG_SMS_HASH_KEY:-}" ]; then
  if ! grep -q '^HSG_SMS_HASH_KEY=' .env 2>/dev/null; then
    echo "HSG_SMS_HASH_KEY=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')" >> .env
    chmod 600 .env
  fi
  export HSG_SMS_HASH_KEY=$(grep '^HSG_SMS_HASH_KEY=' .env | tail -n 1 | cut -d= -f2-)
fi
[ -z "${TWILIO_AUTH_TOKEN:-}" ] && [ -f .env ] && grep -q '^TWILIO_AUTH_TOKEN=' .env \
  && export TWILIO_AUTH_TOKEN=$(grep '^TWILIO_AUTH_TOKEN=' .env | tail -n 1 | cut -d= -f2-)

# The endpoints file with this run's action server port.
sed "s|localhost:5055|localhost:${ACTIONS_PORT}|" endpoints.yml > "$RUN_DIR/endpoints.yml"

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "==> Stopping"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

echo "==> Starting the action server on port $ACTIONS_PORT (log: $RUN_DIR/actions.log)"
.venv/bin/rasa run actions --actions actions --port "$ACTIONS_PORT" > "$RUN_DIR/actions.log" 2>&1 &
pids+=($!)

if [ "${1:-}" = "--shell" ]; then
  :
else
  echo "==> Starting the web chat demo on port $WEB_PORT (log: $RUN_DIR/web.log)"
  HSG_BOT_URL="http://localhost:$RASA_PORT" .venv/bin/python web/server.py --port "$WEB_PORT" > "$RUN_DIR/web.log" 2>&1 &
  pids+=($!)
fi
if [ "${1:-}" = "--shell" ]; then
  .venv/bin/rasa shell -m "$MODEL" --endpoints "$RUN_DIR/endpoints.yml" --port "$RASA_PORT"
  exit 0
fi

echo "==> Starting Rasa on port $RASA_PORT (log: $RUN_DIR/rasa.log)"
.venv/bin/rasa run -m "$MODEL" --port "$RASA_PORT" --enable-api --auth-token "$HSG_API_TOKEN" \
  --credentials credentials.yml --endpoints "$RUN_DIR/endpoints.yml" --cors $ALLOWED_ORIGINS \
  > "$RUN_DIR/rasa.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 180); do
  for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "A server stopped while starting. Last lines of its log:" >&2
      tail -n 20 "$RUN_DIR/rasa.log" "$RUN_DIR/actions.log" >&2
      exit 1
    fi
  done
  if curl -sf "http://localhost:$ACTIONS_PORT/health" >/dev/null && curl -sf "http://localhost:$RASA_PORT/" >/dev/null \
     && curl -sf "http://localhost:$WEB_PORT/health" >/dev/null \
     && curl -sf "http://localhost:$RASA_PORT/status?token=$HSG_API_TOKEN" | grep -q '"model_file"'; then
    cat <<MSG

The HSG assistant is running.
  Web chat (demo clinic page): http://localhost:$WEB_PORT/
  Chat over REST:
    curl -s -X POST http://localhost:$RASA_PORT/webhooks/rest/webhook \\
         -H 'Content-Type: application/json' -d '{"sender": "me", "message": "What is an HSG?"}'
  Chat in a terminal instead:  make shell
  HTTP API (token in .env):    http://localhost:$RASA_PORT/status?token=...
  Action server health:        http://localhost:$ACTIONS_PORT/health
Press Ctrl-C to stop all three servers.
MSG
    echo ready > "$RUN_DIR/ready"
    wait -n "${pids[@]}" || true
    echo "A server stopped; see $RUN_DIR/*.log" >&2
    exit 1
  fi
  sleep 1
done
echo "The servers did not start within 3 minutes; see $RUN_DIR/*.log" >&2
exit 1
