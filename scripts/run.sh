#!/usr/bin/env bash
# Runs the product: Booking app (REST API + web UI) on :5000 and the CRM service on :5001,
# on an embedded SQLite database with demo data. Ctrl-C stops both.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
exec python -m crm_booking serve "$@"
