"""Guarantee 8 (logs): no secret, token or password hash in any log line of the servers this suite
started. The file name sorts last in the directory, so it reads what every other test made the
servers write."""

from __future__ import annotations

from tests.crm.conftest import CrmProcess
from tests.reliability.conftest import Stack, leaked_secrets, reliability_logs


def test_no_secret_in_any_log_line(rel: Stack, rel_crm: CrmProcess) -> None:
    logs = reliability_logs() + [rel_crm.log_path]
    assert logs and all(path.exists() for path in logs)
    for path in logs:
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
            leaks = leaked_secrets(line, rel.fake)
            assert not leaks, f"{path.name}:{number} leaks {leaks}"
