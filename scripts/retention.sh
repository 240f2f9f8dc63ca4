#!/usr/bin/env bash
# The retention schedule, sourced by scripts/run.sh. tests/test_operations.py runs
# purge_every on its own.
#
# schedule_purge: in the production profile, `make purge` (scripts/purge.py --prod) runs
# at start and then every HSG_PURGE_HOURS hours (default 24), logged to RUN_DIR/purge.log;
# HSG_PURGE_HOURS=0 turns it off. The embedded profile runs it only when HSG_PURGE_HOURS
# is set. Either way the start-up says whether it is scheduled. Uses run.sh's MODE,
# RUN_DIR and helpers.
schedule_purge() {
  local default=0 args=()
  if [ "$MODE" = "--prod" ]; then default=24; args=(--prod); fi
  local hours=${HSG_PURGE_HOURS:-$default}
  if awk -v h="$hours" 'BEGIN { exit !(h + 0 > 0) }'; then
    echo "==> Retention: make purge runs now and every $hours h (log: $RUN_DIR/purge.log)"
    purge_every "$hours" "$RUN_DIR/purge.log" "${args[@]}" &
    helpers+=($!)
  else
    echo "==> Retention: make purge is not scheduled (HSG_PURGE_HOURS=$hours); run it daily, e.g. from cron (README, Operations)"
  fi
}

# purge_every HOURS LOG [ARGS...]: scripts/purge.py ARGS now and every HOURS hours until
# stopped; each run's lines in LOG after a line with the time.
purge_every() {
  local hours=$1 log=$2; shift 2
  local child="" seconds
  seconds=$(awk -v h="$hours" 'BEGIN { s = h * 3600; printf "%.3f", (s < 1 ? 1 : s) }')
  trap '[ -n "$child" ] && kill "$child" 2>/dev/null; exit 0' TERM INT
  while true; do
    echo "$(date -u +%FT%TZ) make purge" >> "$log"
    .venv/bin/python -B scripts/purge.py "$@" >> "$log" 2>&1 &
    child=$!
    wait "$child" || echo "$(date -u +%FT%TZ) make purge failed; see the lines above" >> "$log"
    sleep "$seconds" &
    child=$!
    wait "$child"
  done
}
