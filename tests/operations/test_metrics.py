"""/metrics: Prometheus text from prometheus_client, behind METRICS_TOKEN, summed over workers."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.api.test_attendee_capabilities import pay_in_sandbox
from tests.notifications.conftest import current_database
from tests.support.api import book, create_event, new_attendee, new_facilitator
from tests.support.servers import booking_app, free_port

TOKEN = "metrics-token-for-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def samples(client: httpx.Client) -> dict[tuple[str, frozenset], float]:
    answer = client.get("/metrics", headers=AUTH)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def total(found: dict, name: str, **labels: str) -> float:
    """Sum over every series of `name` whose labels include these."""
    wanted = set(labels.items())
    return sum(v for (n, series), v in found.items() if n == name and wanted <= series)


def test_metrics_are_not_public_without_a_token(api):
    hidden = api.get("/metrics")
    assert hidden.status_code == 404 and hidden.json()["error"]


def test_business_and_request_metrics(start_booking, tmp_path: Path):
    clock = tmp_path / "clock"
    clock.write_text("0")
    # CRM down: the notifications wait in the outbox, and the failed deliveries are counted.
    app = start_booking(f"http://127.0.0.1:{free_port()}", name="booking-metrics", METRICS_TOKEN=TOKEN,
                        CRM_BOOKING_CLOCK_FILE=str(clock), BOOKING_HOLD_MINUTES="1")
    with httpx.Client(base_url=app.base_url, timeout=30) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        before = samples(client)

        for _ in range(3):
            assert client.get("/events").status_code == 200
        facilitator = new_facilitator(client, database_url=current_database())
        paid_event = create_event(client, facilitator, price=499)
        paid, unpaid = new_attendee(client), new_attendee(client)
        booked = book(client, paid, paid_event["id"])
        pay_in_sandbox(client, booked.json()["payment_url"])
        booking_id = booked.json()["booking"]["id"]
        assert client.post(f"/bookings/{booking_id}/cancel", headers=paid.headers).status_code == 200
        held = book(client, unpaid, paid_event["id"])
        assert held.status_code == 201
        assert client.get(f"/bookings/{booking_id}", headers=paid.headers).status_code == 200

        clock.write_text(str(2 * 60))  # the one-minute hold lapses; the job releases the seat
        deadline = time.monotonic() + 30
        while total(samples(client), "crm_booking_hold_expiries_total") < 1:
            assert time.monotonic() < deadline, "no hold expiry counted"
            time.sleep(0.3)
        after = samples(client)

    # Requests by route template (never the raw path) and method, with latency.
    assert (value(after, "crm_booking_http_requests_total", route="/events", method="GET", status="200")
            - value(before, "crm_booking_http_requests_total", route="/events", method="GET", status="200")) == 3
    assert value(after, "crm_booking_http_requests_total", route="/bookings/{booking_id}", method="GET",
                 status="200") >= 1
    assert value(after, "crm_booking_http_request_duration_seconds_count", route="/events", method="GET") >= 3
    assert not any("/bookings/" + str(booking_id) in str(series) for _, series in after)
    # Business state from the database.
    assert value(after, "crm_booking_bookings", status="cancelled", payment_status="refunded") >= 1
    assert value(after, "crm_booking_payments", status="captured") >= 1
    assert value(after, "crm_booking_refunds", status="processed") >= 1
    assert value(after, "crm_booking_metrics_database_up") == 1
    # The outbox waits for the CRM: backlog, its age (the clock moved 2 minutes), gateway errors.
    assert value(after, "crm_booking_outbox_backlog") >= 3
    assert value(after, "crm_booking_outbox_oldest_age_seconds") >= 100
    assert total(after, "crm_booking_gateway_errors_total", gateway="crm", operation="notify") >= 1
    assert total(after, "crm_booking_hold_expiries_total") >= 1


def test_two_workers_report_the_same_totals(database_url, clock_file, tmp_path: Path):
    """Whichever worker answers the scrape, it counts every worker's requests."""
    port = free_port()
    server = booking_app(database_url=database_url, port=port, clock_file=clock_file, workers=2,
                         name="booking-metrics-2w",
                         extra_env={"METRICS_TOKEN": TOKEN, "REDIS_URL": "redis://127.0.0.1:6379/0",
                                    "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "CRM_URL": "http://127.0.0.1:9"}
                         ).start()
    try:
        pids, counts = set(), []
        for _ in range(40):
            # A new connection each time, so the kernel spreads them over both workers.
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                assert client.get("/events", params={"limit": 1}).status_code == 200
        for _ in range(12):
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                counts.append(value(samples(client), "crm_booking_http_requests_total",
                                    route="/events", method="GET", status="200"))
        pids = {p.name for p in tmp_path.iterdir()}
        assert len({name.rsplit("_", 1)[-1] for name in pids}) >= 2, pids  # both workers wrote counters
        assert min(counts) >= 40 and len(set(counts)) == 1, counts
    finally:
        server.stop()
