"""Load from separate processes on loopback: wrk (HTTP) and pgbench (the database ceiling)."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bench.dbsetup import BenchDatabase

BENCH_DIR = Path(__file__).resolve().parent
WRK_THREADS = 2  # one per core: more only adds scheduling noise on a 2-core machine


@dataclass(frozen=True)
class Measurement:
    clients: int
    requests: int
    seconds: float
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    failed: int = 0
    avg_ms: float | None = None
    cpu_ms_per_request: float | None = None  # of the server under load (all its processes)

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


CpuClock = Callable[[], float]


def settle(cpu: CpuClock, *, idle_share: float = 0.1, longest: float = 15.0) -> None:
    """Wait until the server is idle: the previous run's queued requests, still being answered
    after wrk stopped, would otherwise be charged to the next run's CPU per request."""
    deadline = time.monotonic() + longest
    while time.monotonic() < deadline:
        before = cpu()
        time.sleep(0.3)
        if cpu() - before < 0.3 * idle_share:
            return


def _wrk(url: str, *, clients: int, seconds: float, script: str, args: list[str],
         cpu: CpuClock | None = None) -> Measurement:
    if cpu:
        settle(cpu)
    before = cpu() if cpu else 0.0
    measurement = _run_wrk(url, clients=clients, seconds=seconds, script=script, args=args)
    if cpu and measurement.requests:
        used_ms = (cpu() - before) * 1000
        measurement = replace(measurement, cpu_ms_per_request=used_ms / measurement.requests)
    return measurement


def _run_wrk(url: str, *, clients: int, seconds: float, script: str, args: list[str]) -> Measurement:
    threads = min(WRK_THREADS, clients)
    command = ["wrk", f"-t{threads}", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
               "-s", str(BENCH_DIR / script), url, "--", *args]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    match = re.search(r"WRK_JSON (\{.*\})", output)
    if match is None:
        raise RuntimeError(f"wrk printed no summary:\n{output}")
    data = json.loads(match.group(1))
    return Measurement(
        clients=clients, requests=data["requests"], seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000, p95_ms=data["p95_us"] / 1000, p99_ms=data["p99_us"] / 1000,
        failed=data["non_expected"] + data["socket_errors"],
    )


def wrk_bookings(base_url: str, *, tokens_file: Path, event_id: int, clients: int,
                 seconds: float, cpu: CpuClock | None = None) -> Measurement:
    threads = min(WRK_THREADS, clients)
    return _wrk(f"{base_url}/bookings", clients=clients, seconds=seconds, script="wrk_booking.lua",
                args=[str(tokens_file), str(event_id), str(threads)], cpu=cpu)


def wrk_get(url: str, *, clients: int, seconds: float, cpu: CpuClock | None = None) -> Measurement:
    return _wrk(url, clients=clients, seconds=seconds, script="wrk_get.lua", args=[], cpu=cpu)


def pgbench(database: BenchDatabase, script: str | Path, *, clients: int, seconds: int,
            defines: dict[str, int] | None = None) -> Measurement:
    command = ["pgbench", "-n", "-h", "127.0.0.1", "-U", "postgres", "-M", "prepared",
               f"-c{clients}", f"-j{min(clients, 2)}", f"-T{seconds}", "-f", str(BENCH_DIR / script)]
    for name, value in (defines or {}).items():
        command += ["-D", f"{name}={value}"]
    command.append(database.name)
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"pgbench failed:\n{result.stdout}\n{result.stderr}")
    done = re.search(r"number of transactions actually processed: (\d+)", result.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", result.stdout)
    latency = re.search(r"latency average = ([\d.]+) ms", result.stdout)
    assert done is not None, result.stdout
    requests = int(done.group(1))
    return Measurement(clients=clients, requests=requests, seconds=float(seconds),
                       avg_ms=float(latency.group(1)) if latency else None,
                       failed=int(failed.group(1)) if failed else 0)


def prepare_pgbench_attendees(database: BenchDatabase) -> None:
    """Each pgbench transaction books as the next attendee (a fresh hot event per run)."""
    last = database.first_user_id + database.user_count - 1
    database.execute(
        f"DROP SEQUENCE IF EXISTS bench_pgbench_uid; CREATE SEQUENCE bench_pgbench_uid "
        f"MINVALUE {database.first_user_id} MAXVALUE {last} START {database.first_user_id} CYCLE")
