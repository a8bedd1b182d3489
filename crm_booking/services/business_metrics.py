"""Business state for /metrics, counted from the tables at scrape time: bookings, payments and
refunds by state, the outbox backlog and the age of its oldest row. The database is the one truth
every worker shares, so these need no cross-process bookkeeping and survive restarts."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlmodel import col, select

from crm_booking import clock
from crm_booking.db import transaction
from crm_booking.models import Booking, OutboxMessage, OutboxStatus, Payment, Refund


class DatabaseCollector(Collector):
    """Business state, counted from the tables at scrape time (a few indexed GROUP BYs)."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("crm_booking_metrics_database_up",
                               "1 when the database answered this scrape's queries")
        try:
            families = list(self._read())
        except sa.exc.SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self) -> Iterator[Metric]:
        with transaction(write=False) as session:
            bookings = GaugeMetricFamily("crm_booking_bookings", "Bookings by status and payment status",
                                         labels=["status", "payment_status"])
            for status, payment_status, count in session.exec(
                select(Booking.status, Booking.payment_status, sa.func.count())
                .group_by(Booking.status, Booking.payment_status)
            ).all():
                bookings.add_metric([status, payment_status], count)
            payments = GaugeMetricFamily("crm_booking_payments", "Payments by status", labels=["status"])
            for status, count in session.exec(
                select(Payment.status, sa.func.count()).group_by(Payment.status)
            ).all():
                payments.add_metric([status], count)
            refunds = GaugeMetricFamily("crm_booking_refunds", "Refunds by status", labels=["status"])
            for status, count in session.exec(
                select(Refund.status, sa.func.count()).group_by(Refund.status)
            ).all():
                refunds.add_metric([status], count)
            outbox = GaugeMetricFamily("crm_booking_outbox_messages", "Outbox rows by status",
                                       labels=["status"])
            for status, count in session.exec(
                select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
            ).all():
                outbox.add_metric([status], count)
            pending = OutboxMessage.status == OutboxStatus.PENDING.value
            backlog, oldest = session.exec(
                select(sa.func.count(), sa.func.min(col(OutboxMessage.created_at))).where(pending)
            ).one()
        yield from (bookings, payments, refunds, outbox)
        yield GaugeMetricFamily("crm_booking_outbox_backlog", "Notifications not yet delivered to the CRM",
                                value=backlog)
        age = 0.0
        if oldest is not None:
            if oldest.tzinfo is None:  # SQLite hands back naive UTC
                oldest = oldest.replace(tzinfo=clock.now().tzinfo)
            age = max((clock.now() - oldest).total_seconds(), 0.0)
        yield GaugeMetricFamily("crm_booking_outbox_oldest_age_seconds",
                                "Age of the oldest undelivered notification (0 when none)", value=age)



registry = CollectorRegistry(auto_describe=False)
registry.register(DatabaseCollector())
