#!/usr/bin/env bash
# PostgreSQL (conversations) and Redis (conversation locks) for the production
# profile, on loopback, for trying it on one machine and for the tests. Installs
# Debian's packages when missing. A real deployment points HSG_PG_* and HSG_REDIS_*
# at its own servers and never needs this script.
#
#   scripts/services.sh start    install if missing, start both, create the database
#   scripts/services.sh stop     stop both
#   scripts/services.sh env      print the settings the production profile reads
#   scripts/services.sh nginx-check              install nginx if missing
#   scripts/services.sh nginx-conf DIR PORT P..  write DIR/nginx.conf: PORT in front of ports P..
#
# Settings: HSG_SERVICES_DIR (default HSG_STATE_DIR/services), HSG_PG_PORT (5433),
# HSG_REDIS_PORT (6380), HSG_PG_PASSWORD (random, kept in .env).
set -euo pipefail
cd "$(dirname "$0")/.."
# The production profile's state folder (as in scripts/run.sh), so `make services-stop`
# finds what `make run-prod` started.
if [ "$(id -u)" = 0 ]; then default_state=/var/lib/hsg; else default_state=${XDG_STATE_HOME:-$HOME/.local/state}/hsg; fi
DIR=$(realpath -m "${HSG_SERVICES_DIR:-${HSG_STATE_DIR:-$default_state}/services}")
PG_PORT=${HSG_PG_PORT:-5433}
REDIS_PORT=${HSG_REDIS_PORT:-6380}
PG_DB=${HSG_PG_DB:-hsg}
PG_USER=${HSG_PG_USER:-hsg}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

install_packages() {
  local missing=()
  [ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/postgres" ] || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> Installing ${missing[*]} from Debian's packages"
  local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# PostgreSQL refuses to run as root: as root, its files belong to the postgres user.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

password() {
  if [ -z "${HSG_PG_PASSWORD:-}" ]; then
    if ! grep -q '^HSG_PG_PASSWORD=' .env 2>/dev/null; then
      (umask 077; echo "HSG_PG_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')" >> .env)
    fi
    HSG_PG_PASSWORD=$(grep '^HSG_PG_PASSWORD=' .env | tail -n 1 | cut -d= -f2-)
  fi
  echo "$HSG_PG_PASSWORD"
}

start_postgres() {
  local bin data="$DIR/postgres" pw
  bin=$(pg_bin); pw=$(password)
  mkdir -p "$DIR"
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data"; [ "$(id -u)" = 0 ] && chown postgres: "$data" "$DIR"
    as_pg "$bin/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  fi
  if ! as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start \
      -o "-p $PG_PORT -k $data -c listen_addresses=127.0.0.1" >/dev/null
  fi
  # Names and the password reach psql as variables (quoted by psql: :'x' a literal,
  # format %I an identifier); the password comes from the environment, never from
  # the command line.
  HSG_PG_NEW_PASSWORD="$pw" as_pg "$bin/psql" -h "$data" -p "$PG_PORT" -U postgres -qtA -v ON_ERROR_STOP=1 \
    -v user="$PG_USER" -v db="$PG_DB" postgres >/dev/null <<'SQL'
\getenv pw HSG_PG_NEW_PASSWORD
SELECT format('CREATE ROLE %I LOGIN', :'user') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'user', :'pw') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL
  echo "==> PostgreSQL on 127.0.0.1:$PG_PORT (database $PG_DB, data in $data)"
}

start_redis() {
  mkdir -p "$DIR/redis"
  if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --dir "$DIR/redis" \
      --pidfile "$DIR/redis/redis.pid" --logfile "$DIR/redis/redis.log" --save "" --appendonly no >/dev/null
    for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  echo "==> Redis on 127.0.0.1:$REDIS_PORT"
}

case "${1:-start}" in
  start)
    install_packages
    start_postgres
    start_redis
    ;;
  stop)
    [ -f "$DIR/postgres/PG_VERSION" ] && as_pg "$(pg_bin)/pg_ctl" -D "$DIR/postgres" -m fast stop >/dev/null 2>&1 || true
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    echo "==> Stopped PostgreSQL and Redis"
    ;;
  env)
    cat <<ENV
HSG_PG_HOST=127.0.0.1
HSG_PG_PORT=$PG_PORT
HSG_PG_DB=$PG_DB
HSG_PG_USER=$PG_USER
HSG_PG_PASSWORD=$(printf "%q" "$(password)")
HSG_REDIS_HOST=127.0.0.1
HSG_REDIS_PORT=$REDIS_PORT
ENV
    ;;
  nginx-check)
    command -v nginx >/dev/null && exit 0
    echo "==> Installing nginx from Debian's packages (the load balancer of the production profile)"
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nginx-light >/dev/null 2>&1 \
      || { $sudo apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nginx-light >/dev/null; }
    ;;
  nginx-conf)
    # Round robin over the Rasa servers; any of them can take any message, because
    # conversations live in PostgreSQL and the Redis lock store serialises each one.
    # The web chat's webhook is limited per client address (limit_req: HSG_RATE_CLIENT_PER_MINUTE
    # after a burst of HSG_RATE_CLIENT_BURST, as in components/channels.py; 0 turns it off),
    # 429 past it. The client address is the connection's, or, from a proxy on this machine
    # or in HSG_TRUSTED_PROXIES (a TLS proxy in front), the one it forwarded in
    # X-Forwarded-For; clients on this machine itself (tests, benchmarks) are not limited.
    run_dir=$2; port=$3; shift 3
    rate=${HSG_RATE_CLIENT_PER_MINUTE:-60}; burst=${HSG_RATE_CLIENT_BURST:-120}
    rate=${rate%%.*}; burst=${burst%%.*}
    mkdir -p "$run_dir/nginx-tmp"; chmod 0777 "$run_dir/nginx-tmp"
    {
      echo "worker_processes 1;"
      echo "pid $run_dir/nginx.pid;"
      echo "error_log $run_dir/nginx-error.log warn;"
      echo "events { worker_connections 1024; }"
      echo "http {"
      echo "  access_log off;  # request lines can hold the API token"
      for kind in client_body proxy fastcgi uwsgi scgi; do echo "  ${kind}_temp_path $run_dir/nginx-tmp/$kind;"; done
      # The scheme and host the client called, for the SMS webhook's signature check:
      # what a TLS proxy or tunnel in front already forwarded, else this request's own.
      echo "  map \$http_x_forwarded_proto \$forwarded_proto { default \$http_x_forwarded_proto; \"\" \$scheme; }"
      echo "  map \$http_x_forwarded_host \$forwarded_host { default \$http_x_forwarded_host; \"\" \$http_host; }"
      trusted=${HSG_TRUSTED_PROXIES:-}
      for proxy in 127.0.0.1 ::1 ${trusted//,/ }; do
        if [[ "$proxy" =~ ^[0-9A-Fa-f:.]+(/[0-9]+)?$ ]]; then echo "  set_real_ip_from $proxy;"; fi
      done
      echo "  real_ip_header X-Forwarded-For;"
      echo "  real_ip_recursive on;"
      echo "  geo \$rate_exempt { default 0; 127.0.0.1 1; ::1 1; }"
      echo "  map \$rate_exempt \$rate_key { 1 \"\"; default \$binary_remote_addr; }"
      if [ "$rate" -gt 0 ] 2>/dev/null; then
        echo "  limit_req_zone \$rate_key zone=webchat:10m rate=${rate}r/m;"
      fi
      echo "  limit_req_status 429;"
      echo "  upstream rasa {"
      for upstream in "$@"; do echo "    server 127.0.0.1:$upstream max_fails=1 fail_timeout=5s;"; done
      echo "    keepalive 32;"
      echo "  }"
      echo "  server {"
      echo "    listen $port;"
      echo "    client_max_body_size 64k;"
      echo "    proxy_http_version 1.1;"
      echo "    proxy_set_header Connection \"\";"
      echo "    proxy_set_header Host \$http_host;"
      echo "    proxy_set_header X-Forwarded-Proto \$forwarded_proto;"
      echo "    proxy_set_header X-Forwarded-Host \$forwarded_host;"
      echo "    proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;"
      echo "    proxy_read_timeout 120s;"
      echo "    proxy_next_upstream error timeout http_502 http_503;"
      echo "    location / {"
      echo "      proxy_pass http://rasa;"
      echo "    }"
      echo "    location = /webhooks/rest/webhook {"
      if [ "$rate" -gt 0 ] 2>/dev/null; then
        echo "      limit_req zone=webchat burst=$(( burst > 0 ? burst : 1 )) nodelay;"
      fi
      echo "      error_page 429 = @too_many_requests;"
      echo "      proxy_pass http://rasa;"
      echo "    }"
      echo "    location @too_many_requests {"
      echo "      default_type application/json;"
      echo "      add_header Retry-After 60 always;"
      echo "      return 429 '{\"error\": \"too_many_requests\", \"retry_after\": 60, \"messages\": []}';"
      echo "    }"
      echo "  }"
      echo "}"
    } > "$run_dir/nginx.conf"
    ;;
  *) echo "usage: $0 start|stop|env|nginx-check|nginx-conf" >&2; exit 2 ;;
esac
