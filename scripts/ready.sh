#!/usr/bin/env bash
# Readiness of scripts/run.sh, sourced by it once every server is started. ready: every
# server answers (Rasa with its model and its tracker store). wait_until_ready: polls
# for up to 4 minutes, stops with the logs' last lines if a server dies while starting,
# prints how to chat, writes RUN_DIR/ready, and then waits for any server to stop.
# Uses run.sh's ports, pids, rasa_ports, RUN_DIR, MODE, INSTANCES and EDITOR_HINT.

ready() {
  curl -sf "http://localhost:$ACTIONS_PORT/health" >/dev/null || return 1
  curl -sf "http://localhost:$WEB_PORT/health" >/dev/null || return 1
  curl -sf "http://localhost:$CONTENT_PORT/health" >/dev/null || return 1
  for port in "${rasa_ports[@]}"; do
    curl -sf "http://localhost:$port/status?token=$HSG_API_TOKEN" | grep -q '"model_file"' || return 1
    # reading a conversation proves the tracker store answers
    curl -sf "http://localhost:$port/conversations/ready-check/tracker?token=$HSG_API_TOKEN" >/dev/null || return 1
  done
  curl -sf "http://localhost:$RASA_PORT/" >/dev/null
}

wait_until_ready() {
  for _ in $(seq 1 240); do
    for pid in "${pids[@]}"; do
      if ! kill -0 "$pid" 2>/dev/null; then
        echo "A server stopped while starting. Last lines of its log:" >&2
        tail -n 20 "$RUN_DIR"/rasa*.log "$RUN_DIR/actions.log" "$RUN_DIR/content.log" >&2
        exit 1
      fi
    done
    if ready; then
      cat <<MSG

The HSG assistant is running$([ "$MODE" = "--prod" ] && echo " (production profile: $INSTANCES Rasa servers, PostgreSQL, Redis)").
  Web chat (demo clinic page): http://localhost:$WEB_PORT/
  Chat over REST:
    curl -s -X POST http://localhost:$RASA_PORT/webhooks/rest/webhook \\
         -H 'Content-Type: application/json' -d '{"sender": "me", "message": "What is an HSG?"}'
  Chat in a terminal instead:  make shell
  HTTP API (token in ${ENV_FILES[0]}): http://localhost:$RASA_PORT/status?token=...
  Action server health:        http://localhost:$ACTIONS_PORT/health
  Answers editor (login):      http://localhost:$CONTENT_PORT/editor
$EDITOR_HINT
Press Ctrl-C to stop all the servers.
MSG
      echo ready > "$RUN_DIR/ready"
      wait -n "${pids[@]}" || true
      echo "A server stopped; see $RUN_DIR/*.log" >&2
      exit 1
    fi
    sleep 1
  done
  echo "The servers did not start within 4 minutes; see $RUN_DIR/*.log" >&2
  exit 1
}
