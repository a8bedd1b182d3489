"""The round trips one `POST /bookings` makes to PostgreSQL, captured from the app's own engine.

Each benchmark run captures them afresh (`capture_for_bench`: a throwaway database, one booking
through the app's service layer) and both baselines replay exactly those statements: the
minimal service (bench/minimal_service.py) and pgbench (the generated pgbench_booking.sql). So
"app / minimal" measures the app's Python, not a different amount of SQL, and the baselines
cannot drift from the app. tests/perf/test_like_for_like.py checks the replay against a capture.

Values are given roles by what they equal in the capture (the attendee's id, the event's, the
new booking's; every timestamp is "now"); the capture uses ids far apart so no two roles share
a value.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import event

PLACEHOLDER = re.compile(r"%\(([A-Za-z_0-9]+)\)s")
# Ids of the capture's attendee, event and booking: far apart, so a value names one role.
CAPTURE_IDS = {"uid": 7_100_003, "eid": 7_200_005, "bid": 7_300_007}
ROLES = ("uid", "eid", "bid")


@dataclass
class Captured:
    """One round trip: BEGIN, COMMIT or a statement (psycopg2 placeholders, with its values)."""

    sql: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> str:
        return normalise(self.sql)


def normalise(sql: str) -> str:
    """The statement with every placeholder as `?` and whitespace collapsed."""
    sql = PLACEHOLDER.sub("?", sql)
    sql = re.sub(r"\$\d+", "?", sql)
    return " ".join(sql.split()).rstrip(";")


@contextmanager
def capturing(*engines: Any) -> Iterator[list[Captured]]:
    """Every statement and transaction boundary the engines send to the server, in order."""
    sent: list[Captured] = []

    # An autocommit connection (the app's reads) sends neither BEGIN nor COMMIT to the server,
    # although SQLAlchemy still reports its begin.
    def sent_to_server(conn: Any) -> bool:
        return not getattr(conn.connection.dbapi_connection, "autocommit", False)

    def on_begin(conn: Any) -> None:
        if sent_to_server(conn):
            sent.append(Captured("BEGIN"))

    def on_commit(conn: Any) -> None:
        if sent_to_server(conn):
            sent.append(Captured("COMMIT"))

    def on_statement(_conn: Any, _cursor: Any, statement: str, params: Any, _context: Any,
                     _many: bool) -> None:
        sent.append(Captured(statement, dict(params or {})))

    listeners = (("begin", on_begin), ("commit", on_commit), ("before_cursor_execute", on_statement))
    for engine in engines:
        for name, listener in listeners:
            event.listen(engine, name, listener)
    try:
        yield sent
    finally:
        for engine in engines:
            for name, listener in listeners:
                event.remove(engine, name, listener)


def booking_round_trips(*, user_id: int, event_id: int) -> list[Captured]:
    """Book `event_id` as `user_id` through the app, as `POST /bookings` does: the token decoded
    (no database), then the booking service's transaction, which checks the token's holder on
    the attendee row it reads."""
    from crm_booking.db import all_engines
    from crm_booking.models import User
    from crm_booking.services import auth, booking

    token = auth.issue_access_token(User(id=user_id, email="", name="", role="user"))
    with capturing(*all_engines()) as sent:
        booking.book_as_token_holder(auth.access_claims(token), event_id=event_id)
    return sent


# --- replay -----------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"now": True}
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "decimal" in value:
        return Decimal(value["decimal"])
    return value


@dataclass
class Replay:
    """A captured booking as a template: statements with `$n` placeholders, values with roles."""

    steps: list[dict[str, Any]]  # {"sql": "...$1...", "args": [...], "asyncpg": True} or BEGIN/COMMIT
    ids: dict[str, int]

    @classmethod
    def from_capture(cls, sent: list[Captured], ids: dict[str, int]) -> Replay:
        steps = []
        for item in sent:
            if item.sql in ("BEGIN", "COMMIT"):
                steps.append({"sql": item.sql, "args": []})
                continue
            names: list[str] = []

            def number(match: re.Match[str], names: list[str] = names) -> str:
                if match.group(1) not in names:
                    names.append(match.group(1))
                return f"${names.index(match.group(1)) + 1}"

            sql = PLACEHOLDER.sub(number, item.sql)
            args = [_encode(item.params[name]) for name in names]
            if sql.lstrip().upper().startswith("INSERT INTO OUTBOX") and "status" in names:
                # Already delivered: otherwise the app's outbox worker would post the baselines'
                # thousands of notices to the CRM during the app's own runs.
                args[names.index("status")] = "sent"
            steps.append({"sql": sql, "args": args,
                          "returns_booking_id": sql.lstrip().upper().startswith("INSERT INTO BOOKINGS")})
        return cls(steps, ids)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"steps": self.steps, "ids": self.ids}, indent=1))

    @classmethod
    def load(cls, path: Path) -> Replay:
        data = json.loads(path.read_text())
        return cls(data["steps"], data["ids"])

    def statements(self) -> list[str]:
        return [step["sql"] for step in self.steps]

    def bind(self, args: list[Any], values: dict[str, Any]) -> list[Any]:
        """The captured values with each role's value of this request (`values`: uid, eid,
        bid when known, now)."""
        return [self._bind_one(_decode(arg), values) for arg in args]

    def _bind_one(self, value: Any, values: dict[str, Any]) -> Any:
        if isinstance(value, dict) and value.get("now"):
            return values["now"]
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int):
            for role in ROLES:
                if value == self.ids[role]:
                    return values[role]
            return value
        if isinstance(value, str):
            for role in ROLES:
                if role in values and str(self.ids[role]) in value:
                    value = value.replace(str(self.ids[role]), str(values[role]))
            return value
        return value

    def pgbench_script(self) -> str:
        """The same round trips for pgbench: :uid from a sequence, :eid defined, :booking_id
        from the INSERT's RETURNING (\\gset)."""
        lines = ["-- Generated by bench/capture.py from the app's own engine (one POST /bookings):",
                 "-- the same round trips the minimal service replays. :eid comes from `pgbench -D`,",
                 "-- the attendee from a sequence over the seeded attendees.",
                 "SELECT nextval('bench_pgbench_uid') AS uid \\gset"]
        variables = {"uid": ":uid", "eid": ":eid", "bid": ":booking_id"}
        for step in self.steps:
            if step["sql"] in ("BEGIN", "COMMIT"):
                lines.append(step["sql"] + ";")
                continue
            sql = step["sql"]
            for index in range(len(step["args"]), 0, -1):
                literal = self._sql_literal(_decode(step["args"][index - 1]), variables)
                sql = re.sub(rf"\${index}(?!\d)", lambda _m, lit=literal: lit, sql)
            sql = " ".join(sql.split())
            if step.get("returns_booking_id"):
                sql += " \\gset booking_"
            else:
                sql += ";"
            lines.append(sql)
        return "\n".join(lines) + "\n"

    def _sql_literal(self, value: Any, variables: dict[str, str]) -> str:
        if isinstance(value, dict) and value.get("now"):
            return "now()"
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            for role in ROLES:
                if value == self.ids[role]:
                    return variables[role]
            return str(value)
        if isinstance(value, Decimal | float):
            return str(value)
        text = str(value)
        pieces = [text]
        for role in ROLES:
            marker = str(self.ids[role])
            pieces = [part for piece in pieces
                      for part in _split_keep(piece, marker, variables[role])]
        return " || ".join(p if p in variables.values() else "'" + p.replace("'", "''") + "'"
                           for p in pieces if p != "") or "''"


def _split_keep(piece: str, marker: str, variable: str) -> list[str]:
    if piece.startswith(":"):
        return [piece]
    parts = piece.split(marker)
    out: list[str] = []
    for index, part in enumerate(parts):
        if index:
            out.append(variable)
        out.append(part)
    return out


# --- the bench step -----------------------------------------------------------------------------


def capture_for_bench(out_dir: Path) -> Replay:
    """Capture one booking in a throwaway database (a subprocess: the app's settings are
    process-wide), save the template for the minimal service and pgbench."""
    path = out_dir / "booking_round_trips.json"
    subprocess.run([sys.executable, "-m", "bench.capture", str(path)], check=True,
                   cwd=Path(__file__).resolve().parent.parent)
    return Replay.load(path)


def _capture_into(path: Path) -> None:
    from bench import dbsetup

    database = dbsetup.migrated_database("capture")
    try:
        database.execute(f"SELECT setval('users_id_seq', {CAPTURE_IDS['uid'] - 2})")
        dbsetup.seed_people(database, 2)
        [(attendee,)] = database.execute("SELECT max(id) FROM users")
        database.execute(f"SELECT setval('events_id_seq', {CAPTURE_IDS['eid'] - 1})")
        database.execute(f"SELECT setval('bookings_id_seq', {CAPTURE_IDS['bid'] - 1})")
        event_id = dbsetup.create_hot_event(database)
        ids = {"uid": int(attendee), "eid": event_id, "bid": CAPTURE_IDS["bid"]}
        os.environ["DATABASE_URL"] = database.url
        from crm_booking.settings import get_settings

        get_settings.cache_clear()
        sent = booking_round_trips(user_id=ids["uid"], event_id=ids["eid"])
        Replay.from_capture(sent, ids).save(path)
    finally:
        from crm_booking.db import all_engines

        for engine in all_engines():
            engine.dispose()
        dbsetup.drop_database(database)


if __name__ == "__main__":
    _capture_into(Path(sys.argv[1]))
