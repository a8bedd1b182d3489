"""The one-command run's demo data: a studio's recurring class and a class pass on sale come with
it (issue 17), made through the same services a facilitator uses; loading twice adds nothing.
Runs on an embedded SQLite file, as `scripts/run.sh` does, in a process of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json
from crm_booking.launcher import migrate
from crm_booking.demo import load_demo_data
from crm_booking.services import events, passes, series
migrate()
first, again = load_demo_data(), load_demo_data()
rows = events.list_events(upcoming_only=True, active=True, limit=200)
series_ids = {r.event.series_id for r in rows if r.event.series_id is not None}
shown = series.get_series(next(iter(series_ids))) if len(series_ids) == 1 else None
print(json.dumps({
    "first": first, "again": again, "series": len(series_ids),
    "summary": shown.summary if shown else None,
    "sessions": len(shown.event_ids) if shown else 0,
    "passes": [(p.product.name, p.product.credits, str(p.product.price)) for p in passes.active_products()],
}))
"""


def test_demo_data_has_a_recurring_class_and_a_pass(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}", "APP_ENV": "development"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["first"] > 0 and found["again"] == 0
    assert found["series"] == 1 and found["sessions"] == 8
    assert found["summary"].startswith("Every Mon & Wed, 6:30 AM"), found["summary"]
    assert found["passes"] == [["10-class pass", 10, "3999.00"]]
