"""The results table (Markdown, printed and optionally written to bench/RESULTS.md)."""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.dbsetup import BenchDatabase
from bench.load import Measurement
from bench.scenarios import LatencyResult, OversellResult
from bench.web_sessions import WebResult

_STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - _STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


@dataclass
class Results:
    pgbench_booking: dict[int, Measurement] = field(default_factory=dict)
    pgbench_events: Measurement | None = None
    minimal_booking: dict[int, Measurement] = field(default_factory=dict)
    minimal_events: Measurement | None = None
    app_booking: dict[int, Measurement] = field(default_factory=dict)
    app_events: Measurement | None = None
    app2_booking: Measurement | None = None
    app2_events: Measurement | None = None
    full_booking: Measurement | None = None  # jobs on: CRM delivery and email on the same cores
    booking_round_trips: int = 0
    web_bare: dict[int, WebResult] = field(default_factory=dict)
    notifications: tuple[LatencyResult, Measurement] | None = None
    web: dict[int, WebResult] = field(default_factory=dict)
    web_paced: WebResult | None = None  # 50 sessions, each clicking once a second
    web_bare_paced: WebResult | None = None
    oversell_pg: OversellResult | None = None
    oversell_sqlite: OversellResult | None = None
    growth: dict[str, tuple[Measurement, Measurement]] = field(default_factory=dict)
    plans: str = ""
    profile: str = ""
    elapsed: float = 0.0


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def _ms(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.0f}"


def _cpu(m: Measurement | None) -> str:
    return "-" if m is None or m.cpu_ms_per_request is None else f"{m.cpu_ms_per_request:.2f}"


def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


# Statements of GET /events and POST /bookings whose plans matter as tables grow.
PLANNED = {
    "events page (GET /events?limit=20)": (Path(__file__).parent / "pgbench_events.sql")
    .read_text().split("BEGIN;\n")[1].split(";\nCOMMIT")[0],
    "already booked? (POST /bookings)": "SELECT bookings.id FROM bookings WHERE user_id = {user} "
    "AND event_id = {event} AND status = 'confirmed'",
    "lapsed holds of the event (POST /bookings)": "SELECT bookings.id FROM bookings WHERE "
    "status = 'confirmed' AND payment_status IN ('pending', 'failed') AND hold_expires_at IS NOT NULL "
    "AND hold_expires_at <= now() AND event_id = {event} FOR UPDATE",
    "take the seat (POST /bookings)": "UPDATE events SET seats_taken = seats_taken + 1 WHERE id = {event} "
    "AND seats_taken < max_participants",
}


def query_plans(database: BenchDatabase) -> str:
    [(event,)] = database.execute("SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET 50")
    user = database.first_user_id + 5
    parts = []
    for title, sql in PLANNED.items():
        statement = sql.format(user=user, event=event)
        # ANALYZE really runs the statement: the UPDATE is rolled back afterwards.
        rows = database.execute(f"BEGIN; EXPLAIN (ANALYZE, COSTS OFF) {statement}; ")
        database.execute("ROLLBACK")
        parts.append(f"**{title}**\n```\n" + "\n".join(r[0] for r in rows) + "\n```")
    return "\n\n".join(parts)


def render(r: Results, machine: str, note: str = "") -> str:
    lines = ["# Benchmark results", "", f"Machine: {machine}.", "", *([note, ""] if note else []),
             f"Whole run: {r.elapsed:.0f} s. Each load run lasts a few seconds after warm-up-free "
             "start; every ratio compares figures taken minutes apart in this same run.", ""]
    lines += _baselines(r) + _booking(r) + _events(r) + _scale(r) + _oversell(r) + _growth(r)
    lines += _notifications(r) + _web(r) + _goals(r)
    if r.plans:
        lines += ["## Query plans at 100,000 events and 1,000,000 bookings", "", r.plans, ""]
    if r.profile:
        lines += ["## py-spy: booking path, 1 worker, 32 clients (share of GIL-holding samples)", "",
                  "```", r.profile, "```", ""]
    return "\n".join(lines)


def _best_pgbench(r: Results) -> float:
    return max((m.throughput for m in r.pgbench_booking.values()), default=math.nan)


def _baselines(r: Results) -> list[str]:
    lines = ["## Baselines", "",
             f"pgbench, the app's booking round trips as captured from its engine in this run "
             f"({r.booking_round_trips}: BEGIN, the statements, the token's holder read with the event, "
             "COMMIT; "
             "bench/pgbench_booking.sql), free hot event:", "",
             "| clients | tx/s | avg latency ms |", "|---:|---:|---:|"]
    for clients, m in sorted(r.pgbench_booking.items()):
        lines.append(f"| {clients} | {m.throughput:.0f} | {_ms(m.avg_ms)} |")
    if r.pgbench_events:
        lines += ["", "pgbench, the events-page statement, 8 clients: "
                  f"{r.pgbench_events.throughput:.0f} tx/s."]
    return [*lines, ""]


def _booking(r: Results) -> list[str]:
    best = _best_pgbench(r)
    lines = ["## Hot-event booking (POST /bookings, distinct attendees, 1 worker)", "",
             "Like for like: the minimal service replays the app's own round trips (captured from "
             "its engine in this run); the app runs with jobs off, so its outbox rows are written "
             "but not delivered, as the minimal service's are not. CPU is the server's own "
             "(all its processes), per request.", "",
             "| clients | app req/s | p50 | p95 | p99 ms | errors | app CPU ms/req | minimal req/s | "
             "minimal p99 | minimal CPU ms/req | app / minimal | app / pgbench best |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for clients, m in sorted(r.app_booking.items()):
        base = r.minimal_booking.get(clients)
        base_rate = base.throughput if base else math.nan
        lines.append(
            f"| {clients} | {m.throughput:.0f} | {_ms(m.p50_ms)} | {_ms(m.p95_ms)} | {_ms(m.p99_ms)} | "
            f"{m.failed} | {_cpu(m)} | {base_rate:.0f} | {_ms(base.p99_ms if base else None)} | "
            f"{_cpu(base)} | {_ratio(m.throughput, base_rate):.2f} | {_ratio(m.throughput, best):.2f} |")
    full, min32 = r.full_booking, r.minimal_booking.get(32)
    if full:
        lines += ["", "Full pipeline (jobs on: each booking's notice posted to the CRM service, which "
                  "stores it and writes the email, on the same cores), 32 clients: "
                  f"{full.throughput:.0f} req/s, p99 {_ms(full.p99_ms)} ms, app CPU "
                  f"{_cpu(full)} ms/req, {full.failed} errors; "
                  f"app / minimal = {_ratio(full.throughput, min32.throughput if min32 else math.nan):.2f}."]
    return [*lines, ""]


def _events(r: Results) -> list[str]:
    app, base = r.app_events, r.minimal_events
    if not app or not base:
        return []
    return ["## Events page (GET /events?limit=20, 32 clients, 1 worker)", "",
            "| | req/s | p50 | p99 ms | CPU ms/req |", "|---|---:|---:|---:|---:|",
            f"| app | {app.throughput:.0f} | {_ms(app.p50_ms)} | {_ms(app.p99_ms)} | {_cpu(app)} |",
            f"| minimal service | {base.throughput:.0f} | {_ms(base.p50_ms)} | {_ms(base.p99_ms)} | "
            f"{_cpu(base)} |",
            "", f"app / minimal = {_ratio(app.throughput, base.throughput):.2f}", ""]


def _cpu_ratio(one: Measurement | None, two: Measurement | None) -> float:
    if not one or not two or not one.cpu_ms_per_request or two.cpu_ms_per_request is None:
        return math.nan
    return two.cpu_ms_per_request / one.cpu_ms_per_request


def _scale(r: Results) -> list[str]:
    one_b, two_b = r.app_booking.get(32), r.app2_booking
    if not one_b or not two_b or not r.app_events or not r.app2_events:
        return []
    return ["## Scale-out: 1 vs 2 workers (REDIS_URL set, jobs off, 32 clients)", "",
            "Two cores already run the load generator, PostgreSQL and the app, so a second worker "
            "cannot add throughput here; what it must not add is cost per request.", "",
            "| | 1 worker req/s | 2 workers req/s | ratio | 1 worker CPU ms/req | 2 workers CPU ms/req "
            "| CPU ratio |", "|---|---:|---:|---:|---:|---:|---:|",
            f"| hot-event booking | {one_b.throughput:.0f} | {two_b.throughput:.0f} | "
            f"{_ratio(two_b.throughput, one_b.throughput):.2f} | {_cpu(one_b)} | {_cpu(two_b)} | "
            f"{_cpu_ratio(one_b, two_b):.2f} |",
            f"| events page | {r.app_events.throughput:.0f} | {r.app2_events.throughput:.0f} | "
            f"{_ratio(r.app2_events.throughput, r.app_events.throughput):.2f} | {_cpu(r.app_events)} | "
            f"{_cpu(r.app2_events)} | {_cpu_ratio(r.app_events, r.app2_events):.2f} |", ""]


def _oversell(r: Results) -> list[str]:
    lines = ["## Oversell: 200 concurrent attendees, 10 seats, 10 repetitions", "",
             "| database | sold per repetition | oversold | undersold | rows/seats_taken disagree |",
             "|---|---|---:|---:|---:|"]
    runs = (("PostgreSQL (2 workers)", r.oversell_pg), ("SQLite file (1 worker)", r.oversell_sqlite))
    for name, result in runs:
        if result:
            lines.append(f"| {name} | {' '.join(map(str, result.sold))} | {result.oversold} | "
                         f"{result.undersold} | {result.inconsistent} |")
    return [*lines, ""]


def _growth(r: Results) -> list[str]:
    small_events, small_booking = r.app_events, r.app_booking.get(32)
    if not small_events or not small_booking:
        return []
    lines = ["## Growth (1 worker, 32 clients)", "",
             "| dataset | events page req/s | small / this | booking req/s | small / this |",
             "|---|---:|---:|---:|---:|",
             f"| small (20 events) | {small_events.throughput:.0f} | 1.00 | "
             f"{small_booking.throughput:.0f} | 1.00 |"]
    for label, (events, booking) in r.growth.items():
        name = "1,000 events" if label == "1k" else "100,000 events + 1,000,000 bookings"
        events_ratio = _ratio(small_events.throughput, events.throughput)
        booking_ratio = _ratio(small_booking.throughput, booking.throughput)
        lines.append(f"| {name} | {events.throughput:.0f} | {events_ratio:.2f} | "
                     f"{booking.throughput:.0f} | {booking_ratio:.2f} |")
    return [*lines, ""]


def _notifications(r: Results) -> list[str]:
    if not r.notifications:
        return []
    latency, background = r.notifications
    return ["## Notification latency (payment success -> CRM row), under booking load", "",
            f"{latency.payments} paid bookings, one success callback each, while 32 clients booked the hot "
            f"event ({background.throughput:.0f} req/s). Delivered {latency.delivered}/{latency.payments}; "
            f"p50 {_ms(latency.p50_ms)} ms, p99 {_ms(latency.p99_ms)} ms, max {_ms(latency.max_ms)} ms.", ""]


def _web(r: Results) -> list[str]:
    lines = ["## Web app: Reflex websocket sessions browsing the home page (2 workers, state in Redis)", "",
             "Each session loads the home page (hydrate + on_load: the events list) and then switches "
             "the event-type filter, each a round trip. The bare Reflex app (bench/bare_reflex: one "
             "state, the same events read in plain SQL, same workers and Redis) runs the same "
             "sessions right after.", "",
             "| sessions | events/s | round trip p50 | p95 | p99 ms | page load p50 ms | failed sessions "
             "| bare Reflex events/s | bare p99 ms | bare page load p50 ms |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for sessions, w in sorted(r.web.items()):
        bare = r.web_bare.get(sessions)
        bare_cells = (f"{bare.events_per_second:.0f} | {_ms(bare.p99_ms)} | {_ms(bare.load_p50_ms)}"
                      if bare else "- | - | -")
        lines.append(f"| {sessions} | {w.events_per_second:.0f} | {_ms(w.p50_ms)} | {_ms(w.p95_ms)} | "
                     f"{_ms(w.p99_ms)} | {_ms(w.load_p50_ms)} | {w.failures} | {bare_cells} |")
    return [*lines, "", *_web_paced(r)]


def _web_paced(r: Results) -> list[str]:
    w, bare = r.web_paced, r.web_bare_paced
    if w is None:
        return []
    bare_cells = f"{_ms(bare.p50_ms)} | {_ms(bare.p99_ms)}" if bare else "- | -"
    return ["The table above is a stress loop: every session clicks again the moment its answer "
            "arrives, so its round trip is the queue of all the others' clicks. Paced like people "
            "(each session clicks once a second, starting at a random moment):", "",
            "| sessions | events/s | round trip p50 | p95 | p99 ms | failed sessions "
            "| bare Reflex p50 | bare p99 ms |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {w.sessions} | {w.events_per_second:.0f} | {_ms(w.p50_ms)} | {_ms(w.p95_ms)} | "
            f"{_ms(w.p99_ms)} | {w.failures} | {bare_cells} |", ""]


def _goals(r: Results) -> list[str]:
    return ["## Goals", "", *_booking_goals(r), *_correctness_goals(r), *_web_goals(r),
            *_scale_goals(r), ""]


def _booking_goals(r: Results) -> list[str]:
    goals = []
    book32, min32 = r.app_booking.get(32), r.minimal_booking.get(32)
    if book32 and min32:
        ratio = _ratio(book32.throughput, min32.throughput)
        goals.append(f"- Booking >= 0.5 x the like-for-like minimal service at 32 clients, 1 worker: "
                     f"{ratio:.2f} {_verdict(ratio >= 0.5)} (app {_cpu(book32)} CPU ms/request, "
                     f"minimal {_cpu(min32)})")
        goals.append(f"- Booking p99 < 150 ms at 32 clients: {_ms(book32.p99_ms)} ms "
                     f"{_verdict((book32.p99_ms or 1e9) < 150)} (minimal service: {_ms(min32.p99_ms)} ms)")
    if r.app_events and r.minimal_events:
        ratio = _ratio(r.app_events.throughput, r.minimal_events.throughput)
        goals.append(f"- GET /events >= 0.5 x minimal: {ratio:.2f} {_verdict(ratio >= 0.5)} "
                     f"(app {_cpu(r.app_events)} CPU ms/request, minimal {_cpu(r.minimal_events)})")
    if r.notifications:
        latency, background = r.notifications
        complete = latency.delivered == latency.payments
        goals.append(f"- Payment -> CRM row p99 < 2 s under booking load: {_ms(latency.p99_ms)} ms "
                     f"{_verdict(latency.p99_ms < 2000 and complete)} (delivered {latency.delivered}/"
                     f"{latency.payments}; booking load {_cpu(background)} CPU ms/request)")
    return goals


def _correctness_goals(r: Results) -> list[str]:
    goals = []
    for name, result in (("PostgreSQL", r.oversell_pg), ("SQLite", r.oversell_sqlite)):
        if result:
            exact = result.oversold == result.undersold == result.inconsistent == 0
            goals.append(f"- Exactly 10 sold every time on {name}: {_verdict(exact)}")
    if "100k" in r.growth and r.app_events and r.app_booking.get(32):
        events, booking = r.growth["100k"]
        worst = max(_ratio(r.app_events.throughput, events.throughput),
                    _ratio(r.app_booking[32].throughput, booking.throughput))
        goals.append(f"- Growth within 1.5x of the small database: worst {worst:.2f}x "
                     f"{_verdict(worst <= 1.5)}")
    return goals


def _web_goals(r: Results) -> list[str]:
    goals = []
    if r.web_paced is not None:
        w = r.web_paced
        goals.append(f"- 50 web sessions, round trip p99 < 250 ms, people (one click a second "
                     f"each): {_ms(w.p99_ms)} ms {_verdict(w.p99_ms < 250 and w.failures == 0)}")
    if 50 in r.web:
        p99 = r.web[50].p99_ms
        bare = r.web_bare.get(50)
        goals.append(f"- 50 web sessions, round trip p99 < 250 ms, stress loop (back-to-back "
                     f"clicks): {_ms(p99)} ms {_verdict(p99 is not None and p99 < 250)}"
                     + (f" (bare Reflex {_ms(bare.p99_ms)} ms)" if bare else ""))
    if 200 in r.web:
        w = r.web[200]
        ok = w.load_p50_ms is not None and w.load_p50_ms < 1500 and w.failures == 0
        goals.append(f"- 200 web sessions, page load p50 < 1.5 s and no failed session: "
                     f"{_ms(w.load_p50_ms)} ms, {w.failures} failed {_verdict(ok)}")
    for sessions in (50, 200):
        if sessions in r.web and sessions in r.web_bare:
            ratio = _ratio(r.web[sessions].events_per_second, r.web_bare[sessions].events_per_second)
            goals.append(f"- UI events/s >= 0.5 x a bare Reflex app doing the same database read, "
                         f"{sessions} sessions: {ratio:.2f} {_verdict(ratio >= 0.5)} "
                         f"({r.web[sessions].events_per_second:.0f} vs "
                         f"{r.web_bare[sessions].events_per_second:.0f}; a filter change is several "
                         f"events in the app, one in the bare app: round trip p99 "
                         f"{_ms(r.web[sessions].p99_ms)} vs {_ms(r.web_bare[sessions].p99_ms)} ms)")
    return goals


def _scale_goals(r: Results) -> list[str]:
    goals = []
    for name, one, two in (("booking", r.app_booking.get(32), r.app2_booking),
                           ("GET /events", r.app_events, r.app2_events)):
        ratio = _cpu_ratio(one, two)
        if not math.isnan(ratio):
            # "A second worker costs nothing per request": at most 10% more (less is fine).
            goals.append(f"- CPU ms/request, 2 workers at most 10% above 1 worker ({name}): "
                         f"{_cpu(one)} vs {_cpu(two)} ({ratio:.2f}x) {_verdict(ratio <= 1.10)}")
    return goals
