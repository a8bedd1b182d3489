#!/usr/bin/env bash
# Runs the whole test suite against PostgreSQL, installing whatever is missing first:
# Python deps, Debian's chromium (browser tests), and starting PostgreSQL/Redis if they are down.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/api -k booking).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's chromium for the browser tests ..."
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null
fi

# The deploy test (tests/deploy) runs Debian's Caddy as the TLS proxy.
if ! command -v caddy >/dev/null; then
  echo "Installing Debian's caddy for the deploy test ..."
  { as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq caddy >/dev/null; } \
    || echo "Could not install caddy: the deploy test will use nginx if it is installed."
fi

PGHOST=127.0.0.1 PGPORT=5432 PGUSER="${PGUSER:-postgres}"
export PGHOST PGPORT PGUSER
if ! pg_isready -q -h "$PGHOST" -p "$PGPORT"; then
  echo "Starting PostgreSQL ..."
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 1 30); do pg_isready -q -h "$PGHOST" -p "$PGPORT" && break; sleep 1; done
fi
# The suite keeps a dozen app and CRM servers alive at once, each with its own pool, on top of the
# test process's engines: Debian's default of 100 connections ran out once (a CI run on record).
if [ "$(psql -Atq -d postgres -c 'SHOW max_connections')" -lt 300 ]; then
  echo "Raising PostgreSQL max_connections to 300 (restarts the server) ..."
  psql -q -d postgres -c "ALTER SYSTEM SET max_connections = 300"
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main restart
  for _ in $(seq 1 30); do pg_isready -q -h "$PGHOST" -p "$PGPORT" && break; sleep 1; done
fi
if command -v redis-cli >/dev/null && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  echo "Starting Redis ..."
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /tmp --logfile /tmp/redis-crm-booking.log || true
fi

# A throwaway database per run, dropped at the end.
RUN_ID="$$_$(date +%s)"
BOOKING_DB="booking_test_$RUN_ID"
CRM_DB="crm_test_$RUN_ID"
psql -q -d postgres -c "CREATE DATABASE $BOOKING_DB" -c "CREATE DATABASE $CRM_DB"
cleanup() {
  psql -q -d postgres -c "DROP DATABASE IF EXISTS $BOOKING_DB WITH (FORCE)" \
    -c "DROP DATABASE IF EXISTS $CRM_DB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
export TEST_DATABASE_URL="postgresql+psycopg2://$PGUSER@$PGHOST:$PGPORT/$BOOKING_DB"
export TEST_CRM_DATABASE_URL="postgresql+psycopg2://$PGUSER@$PGHOST:$PGPORT/$CRM_DB"

echo "Linting (ruff, mypy) ..."
ruff check .
mypy crm_booking crm_service

echo "Building the web UI if it changed ..."
python -m crm_booking build-frontend

python -m pytest "$@"
