#!/usr/bin/env bash
# Starts the action server, the content service (answers and the editor page), the
# web chat demo and the Rasa server, prints how to chat, and stops them all on
# Ctrl-C. `--shell` chats in this terminal instead of serving HTTP.
# Ports and paths can be changed for tests: RASA_PORT, ACTIONS_PORT, WEB_PORT,
# CONTENT_PORT, HSG_RUN_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
RASA_PORT=${RASA_PORT:-5005}
ACTIONS_PORT=${ACTIONS_PORT:-5055}
WEB_PORT=${WEB_PORT:-8080}
CONTENT_PORT=${CONTENT_PORT:-5056}
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
# The content service's token (the bot's answer requests carry the conversation) and
# the key that signs editor logins: from the environment, else from .env.
for name in HSG_CONTENT_TOKEN HSG_EDITOR_SECRET; do
  if [ -z "${!name:-}" ]; then
    if ! grep -q "^$name=" .env 2>/dev/null; then
      echo "$name=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')" >> .env
      chmod 600 .env
    fi
    export "$name=$(grep "^$name=" .env | tail -n 1 | cut -d= -f2-)"
  fi
done
export HSG_CONTENT_TOKEN HSG_EDITOR_SECRET
[ -z "${TWILIO_AUTH_TOKEN:-}" ] && [ -f .env ] && grep -q '^TWILIO_AUTH_TOKEN=' .env \
  && export TWILIO_AUTH_TOKEN=$(grep '^TWILIO_AUTH_TOKEN=' .env | tail -n 1 | cut -d= -f2-)

# The endpoints file with this run's action server and content service ports.
sed -e "s|localhost:5055|localhost:${ACTIONS_PORT}|" -e "s|localhost:5056|localhost:${CONTENT_PORT}|" \
  endpoints.yml > "$RUN_DIR/endpoints.yml"

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "==> Stopping"
  for pid in "${pids[@]}" ${content_pid:-}; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

echo "==> Starting the action server on port $ACTIONS_PORT (log: $RUN_DIR/actions.log)"
.venv/bin/rasa run actions --actions actions --port "$ACTIONS_PORT" > "$RUN_DIR/actions.log" 2>&1 &
pids+=($!)

# The content service is restarted when it stops; meanwhile the bot answers from
# its last-known-good copy, so its stopping does not stop the others.
content_service() {
  local child=""
  trap '[ -n "$child" ] && kill "$child" 2>/dev/null; exit 0' TERM INT
  while true; do
    .venv/bin/python editor/service.py --port "$CONTENT_PORT" >> "$RUN_DIR/content.log" 2>&1 &
    child=$!
    wait "$child" || true
    echo "$(date -u +%FT%TZ) the content service stopped; starting it again in 2 s" >> "$RUN_DIR/content.log"
    sleep 2
  done
}
echo "==> Starting the content service and editor on port $CONTENT_PORT (log: $RUN_DIR/content.log)"
: > "$RUN_DIR/content.log"
content_service &
content_pid=$!

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

EDITOR_HINT="    Editor accounts: make editor-user NAME=jane.doe"
.venv/bin/python -c 'import sys; sys.path.insert(0, "."); from editor.accounts import load_accounts; sys.exit(0 if load_accounts() else 1)' \
  || EDITOR_HINT="    No editor account yet. Create one with: make editor-user NAME=jane.doe"

for _ in $(seq 1 180); do
  for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "A server stopped while starting. Last lines of its log:" >&2
      tail -n 20 "$RUN_DIR/rasa.log" "$RUN_DIR/actions.log" "$RUN_DIR/content.log" >&2
      exit 1
    fi
  done
  if curl -sf "http://localhost:$ACTIONS_PORT/health" >/dev/null && curl -sf "http://localhost:$RASA_PORT/" >/dev/null \
     && curl -sf "http://localhost:$WEB_PORT/health" >/dev/null \
     && curl -sf "http://localhost:$CONTENT_PORT/health" >/dev/null \
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
  Answers editor (login):      http://localhost:$CONTENT_PORT/editor
$EDITOR_HINT
Press Ctrl-C to stop all four servers.
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
