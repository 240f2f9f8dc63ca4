#!/usr/bin/env bash
# Supervision of the helper servers (action server, content service), sourced by
# scripts/run.sh. tests/test_operations.py runs keep_running on its own.

# Runs a server and starts it again when it stops, logging each restart: after 1 s,
# then 2, 4, 8... (at most 60 s) while it keeps stopping within a minute of starting.
# After 8 quick stops in a row it gives up with a clear message (for example, a
# content file with a YAML error), and the rest of the assistant keeps running.
keep_running() {
  local name=$1 log=$2; shift 2
  local child="" delay=1 quick=0 started
  trap '[ -n "$child" ] && kill "$child" 2>/dev/null; exit 0' TERM INT
  while true; do
    started=$(date +%s)
    "$@" >> "$log" 2>&1 &
    child=$!
    wait "$child" || true
    if [ $(( $(date +%s) - started )) -ge 60 ]; then delay=1; quick=0; else quick=$((quick + 1)); fi
    if [ "$quick" -ge "${HSG_RESTART_TRIES:-8}" ]; then
      echo "$(date -u +%FT%TZ) the $name stopped $quick times in a row within a minute of starting; not starting it again. Fix the error above, then run make run again." | tee -a "$log" >&2
      exit 1
    fi
    echo "$(date -u +%FT%TZ) the $name stopped; starting it again in $delay s" >> "$log"
    sleep "$delay"
    delay=$(( delay * 2 > 60 ? 60 : delay * 2 ))
  done
}
