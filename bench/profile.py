"""py-spy on a Booking app worker while it takes bookings: where the time goes, by function."""

from __future__ import annotations

import collections
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from bench.servers import Server

OURS = ("crm_booking/", "sqlalchemy/orm", "sqlalchemy/engine", "fastapi/", "starlette/", "reflex/",
        "pydantic", "jwt/", "httpx/")


def _py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return found


def profile_bookings(app: Server, run_load: Callable[[], object], out: Path, seconds: float) -> str:
    """Record the worker (only samples where a thread holds the GIL: CPU, not waiting) while
    `run_load` books; returns the top functions by inclusive share."""
    raw = out / "booking-profile.txt"
    load = threading.Thread(target=run_load)
    load.start()
    subprocess.run([_py_spy(), "record", "--gil", "--nonblocking", "-r", "200", "-d",
                    str(max(2, int(seconds) - 1)), "-p", str(app.worker_pids()[0]), "--format", "raw",
                    "-o", str(raw)], capture_output=True, check=False)
    load.join()
    return summarise(raw) if raw.exists() else "py-spy produced no profile"


def _key(frame: str) -> str:
    match = re.match(r"(.*) \((.*?)(:\d+)?\)$", frame)
    if not match:
        return frame
    return f"{match.group(1)} ({match.group(2).split('site-packages/')[-1]})"


def summarise(raw: Path, top: int = 18) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        total += samples
        for key in {_key(frame) for frame in stack.split(";")}:
            inclusive[key] += samples
    rows = [(share, key) for key, share in inclusive.most_common(400)
            if any(part in key for part in OURS)][:top]
    return "\n".join(f"{count / total:6.1%}  {key}" for count, key in rows)
