#!/usr/bin/env bash
# Starts the assistant: the action server, the content service (answers and the
# editor page), the web chat demo and Rasa; prints how to chat; stops them all on
# Ctrl-C. The action server and the content service are started again if they stop.
#
#   scripts/run.sh           embedded default: one Rasa server, conversations in SQLite
#   scripts/run.sh --prod    production profile: HSG_INSTANCES Rasa servers (default 2)
#                            behind nginx on RASA_PORT, conversations in PostgreSQL,
#                            locks in Redis (HSG_PG_*, HSG_REDIS_*; when HSG_PG_HOST is
#                            unset, scripts/services.sh starts local ones); the answers,
#                            editor accounts, report and SMS opt-outs in the same
#                            PostgreSQL (HSG_STORE=postgresql), and nothing written into
#                            this checkout: logs, secrets (.env), the bot's last-known-good
#                            copy and local services' data go to HSG_STATE_DIR (outside
#                            the checkout; default /var/lib/hsg for root, else
#                            ${XDG_STATE_HOME:-~/.local/state}/hsg)
#   scripts/run.sh --shell   chat in this terminal instead of serving HTTP
#
# Ports and paths can be changed (tests do): RASA_PORT, ACTIONS_PORT, WEB_PORT,
# CONTENT_PORT, HSG_RUN_DIR, HSG_MODEL, HSG_TRACKER_DB, HSG_STATE_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-}
RASA_PORT=${RASA_PORT:-5005}
ACTIONS_PORT=${ACTIONS_PORT:-5055}
WEB_PORT=${WEB_PORT:-8080}
CONTENT_PORT=${CONTENT_PORT:-5056}
# Pages allowed to talk to the bot from a browser (CORS): the demo page, plus the
# clinic's own site(s) from HSG_ALLOWED_ORIGINS (space-separated origins).
ALLOWED_ORIGINS="http://localhost:${WEB_PORT} ${HSG_ALLOWED_ORIGINS:-}"
MODEL=${HSG_MODEL:-models/hsg.tar.gz}
TRACKER_DB=$(realpath -m "${HSG_TRACKER_DB:-var/tracker.sqlite3}")
ENV_FILES=(.env)   # where secrets are read from; new ones go to the first
# Demo values in the clinic settings (common/demo_settings.py: fictional 555-01xx phone
# numbers, the example booking link). The production profile refuses to start with any,
# naming each, before it writes or starts anything; the embedded default runs as a demo
# and says so in one line. (-B: no byte code written into the checkout.)
if [ "$MODE" = "--prod" ]; then
  .venv/bin/python -B -m common.demo_settings --prod || exit 1
else
  .venv/bin/python -B -m common.demo_settings
fi
if [ "$MODE" = "--prod" ]; then
  # The production profile writes nothing into this checkout (a `git pull` deployment
  # never meets runtime data): everything it writes goes to the state folder.
  # Default: /var/lib/hsg for root (as for a system service; the postgres user of local
  # services can reach it), else ${XDG_STATE_HOME:-~/.local/state}/hsg.
  if [ "$(id -u)" = 0 ]; then default_state=/var/lib/hsg; else default_state=${XDG_STATE_HOME:-$HOME/.local/state}/hsg; fi
  STATE_DIR=$(realpath -m "${HSG_STATE_DIR:-$default_state}")
  case "$STATE_DIR/" in
    "$(pwd -P)/"*) echo "HSG_STATE_DIR ($STATE_DIR) must be outside the code checkout ($(pwd -P))" >&2; exit 1 ;;
  esac
  mkdir -p "$STATE_DIR"   # secrets in it are files of mode 600 (.env, made under umask 077)
  export HSG_STATE_DIR=$STATE_DIR
  ENV_FILES=("$STATE_DIR/.env" .env)   # a checkout's .env from before is still read, never written
  RUN_DIR=$(realpath -m "${HSG_RUN_DIR:-$STATE_DIR/run}")
  export HSG_CONTENT_LKG=${HSG_CONTENT_LKG:-$STATE_DIR/content-lkg.json}
  export PYTHONPYCACHEPREFIX=${PYTHONPYCACHEPREFIX:-$STATE_DIR/pycache}
  # Answers and their history, editor accounts and sessions, the report and the SMS
  # store: in PostgreSQL, shared by every host (common/pg.py).
  export HSG_STORE=postgresql
  mkdir -p "$RUN_DIR"
else
  RUN_DIR=$(realpath -m "${HSG_RUN_DIR:-run}")
  export HSG_STORE=files
  mkdir -p "$RUN_DIR" "$(dirname "$TRACKER_DB")"
fi
rm -f "$RUN_DIR/ready"
export TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1 PYTHONUNBUFFERED=1 RASA_TELEMETRY_ENABLED=false PYTHONWARNINGS=ignore

# A missing or damaged model is a clear message, not a stack trace from Rasa.
if ! .venv/bin/python scripts/check_model.py "$MODEL"; then
  exit 1
fi

# Secrets (scripts/secrets.sh): the API, content and SMS keys, created once, random.
source scripts/secrets.sh
load_secrets

# Settings Rasa fills into endpoints.yml / endpoints.prod.yml (${...}) when it reads them.
export ACTIONS_PORT CONTENT_PORT HSG_TRACKER_DB="$TRACKER_DB"
# Request bodies to Rasa above 64 KB get a 413 from Sanic before any parsing, in every
# profile (Rasa's Sanic reads SANIC_* settings; only Rasa's, not the action server's:
# Rasa sends it whole conversations).
RASA_MAX_BODY=${HSG_MAX_BODY_BYTES:-65536}
ENDPOINTS=endpoints.yml
INSTANCES=1
if [ "$MODE" = "--prod" ]; then
  INSTANCES=${HSG_INSTANCES:-2}
  ENDPOINTS=endpoints.prod.yml
  if [ -z "${HSG_PG_HOST:-}" ]; then
    # Local PostgreSQL and Redis for trying the profile on one machine: their data in the
    # state folder, the database password in its .env (never in the checkout).
    export HSG_SERVICES_DIR=${HSG_SERVICES_DIR:-$STATE_DIR/services}
    if [ -z "${HSG_PG_PASSWORD:-}" ]; then
      setting HSG_PG_PASSWORD >/dev/null || new_secret HSG_PG_PASSWORD
      export HSG_PG_PASSWORD=$(setting HSG_PG_PASSWORD)
    fi
    bash scripts/services.sh start
    set -a; eval "$(bash scripts/services.sh env)"; set +a
  fi
  export HSG_REDIS_PASSWORD=${HSG_REDIS_PASSWORD:-}
  missing=$(for name in HSG_PG_HOST HSG_PG_PORT HSG_PG_DB HSG_PG_USER HSG_PG_PASSWORD HSG_REDIS_HOST HSG_REDIS_PORT; do
    [ -n "${!name:-}" ] || echo -n "$name "; done)
  if [ -n "$missing" ]; then
    echo "The production profile needs these settings: $missing" >&2; exit 1
  fi
  bash scripts/services.sh nginx-check
fi

pids=()        # servers whose stopping stops the assistant (Rasa, web, nginx)
helpers=()     # servers that are started again when they stop (actions, content)
stop() {
  trap - INT TERM EXIT
  echo; echo "==> Stopping"
  for pid in "${pids[@]}" "${helpers[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

# keep_running NAME LOG COMMAND...: restarts a helper with a growing delay.
source scripts/supervise.sh

# The action server answers on 127.0.0.1 only (actions/__main__.py), unless HSG_ACTIONS_HOST says otherwise.
echo "==> Starting the action server on ${HSG_ACTIONS_HOST:-127.0.0.1}:$ACTIONS_PORT (log: $RUN_DIR/actions.log)"
: > "$RUN_DIR/actions.log"
keep_running "action server" "$RUN_DIR/actions.log" \
  .venv/bin/python -m actions --port "$ACTIONS_PORT" &
helpers+=($!)

echo "==> Starting the content service and editor on port $CONTENT_PORT (log: $RUN_DIR/content.log)"
: > "$RUN_DIR/content.log"
keep_running "content service" "$RUN_DIR/content.log" \
  .venv/bin/python -m editor.service --port "$CONTENT_PORT" &
helpers+=($!)

# Retention (scripts/retention.sh): make purge every day in the production profile.
source scripts/retention.sh
schedule_purge

if [ "$MODE" = "--shell" ]; then
  .venv/bin/rasa shell -m "$MODEL" --endpoints "$ENDPOINTS" --port "$RASA_PORT"
  exit 0
fi

echo "==> Starting the web chat demo on port $WEB_PORT (log: $RUN_DIR/web.log)"
HSG_BOT_URL="http://localhost:$RASA_PORT" .venv/bin/python web/server.py --port "$WEB_PORT" > "$RUN_DIR/web.log" 2>&1 &
pids+=($!)

rasa_ports=()
if [ "$INSTANCES" -gt 1 ] || [ "$MODE" = "--prod" ]; then
  for i in $(seq 1 "$INSTANCES"); do rasa_ports+=($((RASA_PORT + 10 + i))); done
else
  rasa_ports=("$RASA_PORT")
fi
# Behind nginx (the production profile) each Rasa server listens on loopback only, so no
# client can get past nginx's per-address limit; the embedded default keeps Rasa's own
# interface (HSG_RASA_HOST overrides both).
RASA_HOST=${HSG_RASA_HOST:-}
[ -z "$RASA_HOST" ] && [ "$MODE" = "--prod" ] && RASA_HOST=127.0.0.1
RASA_HOST_ARGS=(); [ -n "$RASA_HOST" ] && RASA_HOST_ARGS=(--interface "$RASA_HOST")
for i in "${!rasa_ports[@]}"; do
  port=${rasa_ports[$i]}
  log="$RUN_DIR/rasa.log"; [ ${#rasa_ports[@]} -gt 1 ] && log="$RUN_DIR/rasa-$((i + 1)).log"
  echo "==> Starting Rasa on port $port (log: $log)"
  SANIC_REQUEST_MAX_SIZE=$RASA_MAX_BODY .venv/bin/rasa run -m "$MODEL" "${RASA_HOST_ARGS[@]}" --port "$port" --enable-api --auth-token "$HSG_API_TOKEN" \
    --credentials credentials.yml --endpoints "$ENDPOINTS" --cors $ALLOWED_ORIGINS \
    > "$log" 2>&1 &
  pids+=($!)
done
if [ "$MODE" = "--prod" ]; then
  echo "==> Starting nginx on port $RASA_PORT in front of ports ${rasa_ports[*]} (log: $RUN_DIR/nginx.log)"
  bash scripts/services.sh nginx-conf "$RUN_DIR" "$RASA_PORT" "${rasa_ports[@]}"
  nginx -c "$RUN_DIR/nginx.conf" -p "$RUN_DIR" -g "daemon off;" > "$RUN_DIR/nginx.log" 2>&1 &
  pids+=($!)
fi

PROFILE_ARG=""; [ "$MODE" = "--prod" ] && PROFILE_ARG=" PROFILE=prod"
EDITOR_HINT="    Editor accounts: make editor-user NAME=jane.doe$PROFILE_ARG"
.venv/bin/python -c 'import sys; sys.path.insert(0, "."); from editor.accounts import load_accounts; sys.exit(0 if load_accounts() else 1)' \
  || EDITOR_HINT="    No editor account yet. Create one with: make editor-user NAME=jane.doe$PROFILE_ARG"

# Go-live readiness (editor/readiness.py): the production profile says at start-up how
# many things still stand between it and patients (unapproved answers, failing checks...).
if [ "$MODE" = "--prod" ]; then
  echo "==> Go-live readiness: $(.venv/bin/python -B scripts/readiness.py --prod --count 2>&1 | tail -n 1) (the list: make readiness PROFILE=prod, or the editor's Readiness page)"
fi

# Readiness (scripts/ready.sh): wait for every server, say how to chat, then supervise.
source scripts/ready.sh
wait_until_ready
