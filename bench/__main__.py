"""`python -m bench`: the whole benchmark, one command (see bench/README.md).

Every figure is printed beside baselines measured in the same run on the same database
(pgbench with the app's own SQL, a minimal Starlette + asyncpg service), because absolute
numbers on a shared 2-core machine move several-fold between runs; the goals are ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from bench import capture, dbsetup, load, report, scenarios, servers, web_sessions
from bench.dbsetup import BenchDatabase
from bench.load import Measurement

BENCH_DIR = Path(__file__).resolve().parent
USERS = 40_000
SMALL_EVENTS = 20
BOOKING_CLIENTS = (8, 32, 64)
PGBENCH_CLIENTS = (1, 4, 16, 32)
WEB_SESSIONS = (1, 10, 50, 200)
PACED_SESSIONS = 50
CLICK_EVERY = 1.0  # seconds between one person's clicks: a brisk browser, not a stress loop


class Bench:
    def __init__(self, seconds: float, out_dir: Path, profile: bool) -> None:
        self.seconds = seconds
        self.out = out_dir
        self.profile = profile
        self.results = report.Results()
        self.cleanup: list[BenchDatabase] = []
        self.tokens_file = out_dir / "tokens.txt"
        self.tokens: list[str] = []
        self.replay_file = out_dir / "booking_round_trips.json"
        self.pgbench_file = out_dir / "pgbench_booking.sql"

    # --- set-up -----------------------------------------------------------------------------

    def database(self, label: str, *, events: int, bookings: bool = False) -> BenchDatabase:
        started = time.monotonic()
        database = dbsetup.migrated_database(label)
        self.cleanup.append(database)
        dbsetup.seed_people(database, USERS)
        dbsetup.seed_events(database, events, with_bookings=bookings)
        report.say(f"database {label}: {events} events"
                   f"{f' + {events * dbsetup.BOOKINGS_PER_EVENT} bookings' if bookings else ''}"
                   f" in {time.monotonic() - started:.1f}s")
        return database

    @contextmanager
    def app(self, database_url: str, *, workers: int, crm_url: str, name: str,
            redis: bool = True, jobs: bool = True) -> Iterator[servers.Server]:
        extra = {} if jobs else {"JOBS_ENABLED": "false"}
        server = servers.booking_app(database_url=database_url, workers=workers, log_dir=self.out,
                                     crm_url=crm_url, name=name, redis=redis, extra=extra).start()
        try:
            yield server
        finally:
            server.stop()

    # --- measurements -------------------------------------------------------------------------

    def bookings(self, server: servers.Server, database: BenchDatabase, clients: int) -> Measurement:
        event_id = dbsetup.create_hot_event(database)
        return load.wrk_bookings(server.base_url, tokens_file=self.tokens_file, event_id=event_id,
                                 clients=clients, seconds=self.seconds, cpu=server.cpu_seconds)

    def events_page(self, server: servers.Server, clients: int = 32) -> Measurement:
        return load.wrk_get(f"{server.base_url}/events?limit=20", clients=clients,
                            seconds=self.seconds, cpu=server.cpu_seconds)

    def capture(self) -> None:
        """The app's booking round trips, captured from its engine, for both baselines."""
        replay = capture.capture_for_bench(self.out)
        self.pgbench_file.write_text(replay.pgbench_script())
        self.results.booking_round_trips = len(replay.steps)
        report.say(f"captured the app's booking: {len(replay.steps)} round trips")

    def pgbench(self, database: BenchDatabase) -> None:
        load.prepare_pgbench_attendees(database)
        for clients in PGBENCH_CLIENTS:
            event_id = dbsetup.create_hot_event(database, title="pgbench hot event")
            self.results.pgbench_booking[clients] = load.pgbench(
                database, self.pgbench_file, clients=clients, seconds=int(self.seconds),
                defines={"eid": event_id})
        self.results.pgbench_events = load.pgbench(database, "pgbench_events.sql", clients=8,
                                                   seconds=int(self.seconds))
        report.say("pgbench done")

    def minimal(self, database: BenchDatabase) -> None:
        server = servers.minimal_service(dsn=database.asyncpg_dsn, log_dir=self.out,
                                         replay=self.replay_file).start()
        try:
            for clients in BOOKING_CLIENTS:
                self.results.minimal_booking[clients] = self.bookings(server, database, clients)
            self.results.minimal_events = self.events_page(server)
        finally:
            server.stop()
        report.say("minimal service done")

    def full_pipeline(self, database: BenchDatabase, crm: servers.Server) -> None:
        """Production as it runs: jobs on, every booking's notice posted to the CRM, which
        stores it and writes the email, all on the same cores."""
        with self.app(database.url, workers=1, crm_url=crm.base_url, name="app-1-worker-full") as app:
            # First, while the outbox is empty: later runs leave thousands of notifications queued.
            self.results.notifications = self.notifications_under_load(app, database, crm)
            self.results.full_booking = self.bookings(app, database, 32)
        report.say("app, 1 worker, full pipeline done")

    def one_worker(self, database: BenchDatabase, crm: servers.Server) -> None:
        """Like for like with the minimal service: the same round trips, the outbox rows written
        but not delivered (jobs off), as the minimal service's are not."""
        with self.app(database.url, workers=1, crm_url=crm.base_url, name="app-1-worker",
                      jobs=False) as app:
            for clients in BOOKING_CLIENTS:
                self.results.app_booking[clients] = self.bookings(app, database, clients)
            self.results.app_events = self.events_page(app)
            if self.profile:
                self.results.profile = self.py_spy(app, database)
        report.say("app, 1 worker done")

    def notifications_under_load(self, app: servers.Server, database: BenchDatabase,
                                 crm: servers.Server) -> tuple[scenarios.LatencyResult, Measurement]:
        paid_event = dbsetup.create_hot_event(database, price=500, title="Paid hot event")
        # Attendees from the end of the pool: the hot-event load uses it from the start.
        driver = scenarios.PaymentDriver(app.base_url, database.url, self.tokens[-400:], paid_event,
                                         count=60, spacing=max(0.05, self.seconds * 1.5 / 60))
        driver.start()
        background = self.bookings(app, database, 32)
        driver.join(timeout=120)
        if driver.error is not None:
            raise driver.error
        return scenarios.notification_latency(driver, crm.env["CRM_DATABASE_URL"]), background

    def py_spy(self, app: servers.Server, database: BenchDatabase) -> str:
        from bench import profile

        return profile.profile_bookings(app, lambda: self.bookings(app, database, 32),
                                        self.out, self.seconds)

    def two_workers(self, database: BenchDatabase, crm: servers.Server) -> None:
        # Jobs off as in the 1-worker run it is compared with (CPU per request).
        with self.app(database.url, workers=2, crm_url=crm.base_url, name="app-2-workers",
                      jobs=False) as app:
            self.results.app2_booking = self.bookings(app, database, 32)
            self.results.app2_events = self.events_page(app)
            for sessions in WEB_SESSIONS:
                self.results.web[sessions] = web_sessions.browse(app.base_url, sessions=sessions,
                                                                 seconds=self.seconds)
            self.results.web_paced = self.paced_sessions(app.base_url, web_sessions.HOME)
            self.results.oversell_pg = scenarios.oversell(
                app.base_url, database.url, self.tokens, facilitator_id=database.facilitator_ids[0])
        report.say("app, 2 workers done (scale-out, web sessions, oversell)")
        bare = servers.bare_reflex(database_url=database.url, workers=2, log_dir=self.out).start()
        try:
            for sessions in WEB_SESSIONS:
                self.results.web_bare[sessions] = web_sessions.browse(
                    bare.base_url, sessions=sessions, seconds=self.seconds, home=web_sessions.BARE_HOME)
            self.results.web_bare_paced = self.paced_sessions(bare.base_url, web_sessions.BARE_HOME)
        finally:
            bare.stop()
        report.say("bare Reflex app done")

    def paced_sessions(self, base_url: str, home: str) -> web_sessions.WebResult:
        """People rather than a stress loop: each clicks once every CLICK_EVERY seconds, for
        long enough that the p99 rests on a few hundred round trips."""
        return web_sessions.browse(base_url, sessions=PACED_SESSIONS, home=home, pace=CLICK_EVERY,
                                   seconds=max(self.seconds, 8.0))

    def sqlite_oversell(self, crm: servers.Server) -> None:
        from bench import sqlite_setup

        url, facilitator, tokens = sqlite_setup.prepare(self.out / "bench-sqlite.db", users=2000)
        with self.app(url, workers=1, crm_url=crm.base_url, name="app-sqlite", redis=False) as app:
            self.results.oversell_sqlite = scenarios.oversell(app.base_url, url, tokens,
                                                              facilitator_id=facilitator)
        report.say("SQLite oversell done")

    def growth(self, crm: servers.Server) -> None:
        for label, events, bookings in (("1k", 1_000, False), ("100k", 100_000, True)):
            database = self.database(f"growth_{label}", events=events, bookings=bookings)
            # Jobs off, as in the small database's run it is compared with (like for like).
            with self.app(database.url, workers=1, crm_url=crm.base_url, name=f"app-{label}",
                          jobs=False) as app:
                self.results.growth[label] = (self.events_page(app),
                                              self.bookings(app, database, 32))
            if label == "100k":
                self.results.plans = report.query_plans(database)
            dbsetup.drop_database(database)
            self.cleanup.remove(database)
        report.say("growth done")

    # --- the run ------------------------------------------------------------------------------

    def run(self) -> report.Results:
        started = time.monotonic()
        small = self.database("small", events=SMALL_EVENTS)
        self.tokens = dbsetup.mint_tokens(small, self.tokens_file)
        crm_db = dbsetup.create_database("crm")
        self.cleanup.append(crm_db)
        crm = servers.crm_service(database_url=crm_db.url, log_dir=self.out).start()
        try:
            self.capture()
            self.pgbench(small)
            self.minimal(small)
            self.full_pipeline(small, crm)
            self.one_worker(small, crm)
            self.two_workers(small, crm)
            self.sqlite_oversell(crm)
            self.growth(crm)
        finally:
            crm.stop()
            for database in list(self.cleanup):
                dbsetup.drop_database(database)
        self.results.elapsed = time.monotonic() - started
        return self.results


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))) // 1024 // 1024
    postgres = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} vCPU ({cpu}), {memory} GiB RAM, {platform.platform()}, "
            f"Python {platform.python_version()}, {postgres}, fsync on (shared virtual disk)")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each load run")
    parser.add_argument("--profile", action="store_true", help="py-spy the booking path too")
    parser.add_argument("--write-results", action="store_true", help="write bench/RESULTS.md")
    parser.add_argument("--note", default="", help="a line for RESULTS.md (e.g. how busy the machine was)")
    args = parser.parse_args()
    out = Path(f"/tmp/crm-bench-{datetime.now(UTC):%Y%m%d-%H%M%S}")
    out.mkdir(parents=True)
    report.say(f"logs in {out}")
    results = Bench(args.seconds, out, args.profile).run()
    text = report.render(results, machine(), args.note)
    print(text)
    if args.write_results:
        (BENCH_DIR / "RESULTS.md").write_text(text)
        # The statements of this run's baselines, for reading (the run regenerates them).
        (BENCH_DIR / "pgbench_booking.sql").write_text((out / "pgbench_booking.sql").read_text())


if __name__ == "__main__":
    main()
