"""The dashboard's one reader of the line database: a read-only connection (reopened after the database went away),
the schema check at start, the cheap change mark and the figures' snapshot."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg

from station.config.line_db import LineDbUrl, LineUrlError
from station.errors import StationError
from station.line.connection import conninfo_for
from station.line.dashboard.queries import Window, read_only_connection, read_snapshot
from station.line.schema import SCHEMA_VERSION, database_version

CHANGE_MARK = (
    "SELECT (SELECT md5(coalesce(string_agg(concat_ws('|', station, software_version, slots::text, backlog, "
    "replicated_change, api_requests::text, round(lag_seconds::numeric, 1)), '/' ORDER BY station), '')) "
    "FROM line.stations), (SELECT max(ended_at) FROM line.units)"
)
"""What changes when anything the page shows changes: what a station reports (slots, so a unit starting; backlog,
lag, API counts, its replicated change counter; not its heartbeat, which moves every fraction of a second) or a unit
ending (an indexed maximum: cheap on a million units). Ages and 'offline' follow from the ``refresh_s`` re-read."""

class DashboardError(StationError):
    """The dashboard cannot start (database unreachable, schema missing or newer, port taken)."""


def connection_string(db_url: str) -> str:
    """libpq parameters for the dashboard: a ``postgresql://`` URL (no password in it) gets its password from
    PARTICLE_STATION_LINE_DB_PASSWORD, PGPASSWORD or the OS keyring (station.line.connection), and its sslmode; any
    other text is a libpq connection string, used as it is."""
    if not db_url.startswith(("postgresql://", "postgres://")):
        return db_url
    try:
        return conninfo_for(LineDbUrl.parse(db_url))
    except LineUrlError as exc:
        raise DashboardError(str(exc)) from None


def redact(db_url: str) -> str:
    """The URL or conninfo without its password (for messages)."""
    text = re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", db_url)
    return re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", text)


class LineReader:
    """The one database reader of a server: a read-only connection, reopened after the database went away."""

    def __init__(self, db_url: str, *, clock: Callable[[], float] = time.time, window_hours: float = 24.0) -> None:
        self._db_url = db_url
        self._conninfo = connection_string(db_url)
        self._clock = clock
        self.window_hours = window_hours
        self._conn: psycopg.Connection[Any] | None = None
        self._lock = threading.RLock()

    def check(self) -> None:
        """Connect and check the schema once (startup): one sentence if that fails."""
        with self._lock:
            conn = self._connection()
            found = database_version(conn)
        if found == 0:
            raise DashboardError("the line database has no line schema yet: run 'particle-station line init' "
                                 "(or start a station that feeds it) first")
        if found > SCHEMA_VERSION:
            raise DashboardError(f"the line database has schema version {found}, newer than the {SCHEMA_VERSION} "
                                 "this dashboard understands: update the station software")

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            try:
                self._conn = read_only_connection(self._conninfo, connect_timeout=5)
            except psycopg.Error as exc:
                raise DashboardError(f"cannot reach the line database {redact(self._db_url)}: "
                                     f"{first_line(exc)}") from None
        return self._conn

    def _read(self, action: Callable[[psycopg.Connection[Any]], Any]) -> Any:
        with self._lock:
            try:
                return action(self._connection())
            except psycopg.OperationalError as exc:
                self.close()
                raise DashboardError(f"lost the line database: {first_line(exc)}") from None
            except psycopg.Error as exc:
                raise DashboardError(f"the line database refused a dashboard query: {first_line(exc)}") from None

    def change_mark(self) -> tuple[Any, ...]:
        return tuple(self._read(lambda conn: conn.execute(CHANGE_MARK).fetchone()) or ())

    def snapshot(self) -> dict[str, Any]:
        window = Window(now=self._clock(), hours=self.window_hours)
        return dict(self._read(lambda conn: read_snapshot(conn, window)))

    def close(self) -> None:
        """Close the connection (after a read in flight on a worker thread has finished)."""
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(psycopg.Error):
                    self._conn.close()
                self._conn = None



def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
