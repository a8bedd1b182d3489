#!/usr/bin/env bash
# The whole benchmark in one command: bash bench/run.sh [--write-results] [--profile] [--seconds N]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

# Kept load tools from Debian: wrk (HTTP load) and pgbench (the database ceiling).
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v pgbench >/dev/null || missing+=(postgresql-contrib)
if ((${#missing[@]})); then
  apt-get update -qq && apt-get install -y -qq "${missing[@]}"
fi
# Benchmark-only Python packages (asyncpg for the minimal service, aiohttp for the websocket
# sessions, py-spy for the profile); the product never imports them.
"$PY" -m pip install -q -r bench/requirements.txt
# The app's UI build is mounted under /app as in production.
"$PY" -c "from crm_booking.launcher import build_frontend; build_frontend()" \
  || echo "UI build failed; the previous build stays mounted (the API and websocket do not need it)"
exec "$PY" -m bench "$@"
