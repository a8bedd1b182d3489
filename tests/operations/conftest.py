"""Operations suite: readiness, request ids, metrics, backups. Reuses the outbox suite's
Booking app factory (its own database) and the CRM suite's CRM process factory."""

from tests.crm.conftest import crm_database_url, smtp_server, start_crm  # noqa: F401
from tests.notifications.conftest import outbox_database_url, start_booking  # noqa: F401
