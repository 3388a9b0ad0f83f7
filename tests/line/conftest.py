"""The line database for tests: one throwaway PostgreSQL server per session, a fresh database per test.

Skipped (with the install hint) where PostgreSQL is not installed; `.ci/setup --tests` installs it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from station.line.connection import PASSWORD_ENV
from station.line.schema import ensure_schema
from station.line.throwaway_pg import PostgresNotInstalled, ThrowawayServer, throwaway_postgres


@dataclass(frozen=True)
class LineDb:
    """One test's database on the session's server."""

    server: ThrowawayServer
    name: str

    @property
    def admin(self) -> str:
        """The superuser's conninfo for this database (password included: tests only)."""
        return self.server.conninfo(self.name)

    def url(self, user: str) -> str:
        """A password-less URL for ``user`` (the shape a profile holds)."""
        return self.server.url(self.name, user=user)

    def conninfo(self, user: str, password: str) -> str:
        return self.server.conninfo(self.name, user=user, password=password)

    def connect(self) -> psycopg.Connection[tuple[object, ...]]:
        """An autocommit superuser connection to this database."""
        return psycopg.connect(self.admin, autocommit=True)


@pytest.fixture(autouse=True)
def _no_line_password_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts without a line database password in the environment (a test that sets one, or runs a
    demo that does, must not decide which password the next test's stations send)."""
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    monkeypatch.delenv("PGPASSWORD", raising=False)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[ThrowawayServer]:
    """The session's PostgreSQL server (initdb in a temp folder; as the postgres user when run as root)."""
    try:
        with throwaway_postgres() as server:
            yield server
    except PostgresNotInstalled as exc:
        pytest.skip(str(exc))


@pytest.fixture
def line_db(pg_server: ThrowawayServer) -> Iterator[LineDb]:
    """A fresh, empty database for one test, dropped afterwards (no schema in it yet)."""
    name = f"line_{uuid.uuid4().hex[:12]}"
    pg_server.create_database(name)
    try:
        yield LineDb(pg_server, name)
    finally:
        if not pg_server.running:
            pg_server.start()
        pg_server.drop_database(name)


@pytest.fixture
def line_db_with_schema(line_db: LineDb) -> LineDb:
    """A fresh database with the line schema at the current version."""
    with line_db.connect() as conn:
        ensure_schema(conn)
    return line_db
