"""The line database's roles, made by an admin connection (``particle-station line init``).

One LOGIN role per station, ``line_station_<name>``, mapped to its station in ``line.station_roles`` so row-level
security lets it write only its own station's rows; ``line_dashboard``, which may only read. Passwords are never
stored by the station software: the admin gives each role's password to its station's OS keyring or environment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from station.line.schema import DASHBOARD_ROLE, STATION_ROLE_PREFIX, LineDatabaseError, grant_statements

_MAX_ROLE = 63  # PostgreSQL's NAMEDATALEN - 1


@dataclass(frozen=True)
class MadeRole:
    role: str
    station: str | None
    created: bool
    """False when the role existed already (its password left as it was unless one was given)."""


def station_role(station: str) -> str:
    """``line_station_<name>``: the station's name in lower case, other characters as underscores."""
    slug = re.sub(r"[^a-z0-9]+", "_", station.lower()).strip("_")
    if not slug:
        raise LineDatabaseError(f"station name {station!r} has no letter or digit to name its database role")
    return (STATION_ROLE_PREFIX + slug)[:_MAX_ROLE]


def make_station_role(conn: psycopg.Connection[Any], station: str, password: str | None) -> MadeRole:
    """Create (or update) the station's role, map it to ``station`` and grant it its own rows."""
    role = station_role(station)
    created = _login_role(conn, role, password)
    with conn.transaction():
        conn.execute("INSERT INTO line.station_roles (role, station) VALUES (%s, %s) "
                     "ON CONFLICT (role) DO UPDATE SET station = excluded.station", (role, station))
        for statement in grant_statements(role, write=True):
            conn.execute(statement.encode())
    return MadeRole(role, station, created)


def make_dashboard_role(conn: psycopg.Connection[Any], password: str | None) -> MadeRole:
    """Create (or update) the read-only dashboard role."""
    created = _login_role(conn, DASHBOARD_ROLE, password)
    with conn.transaction():
        for statement in grant_statements(DASHBOARD_ROLE, write=False):
            conn.execute(statement.encode())
    return MadeRole(DASHBOARD_ROLE, None, created)


def _login_role(conn: psycopg.Connection[Any], role: str, password: str | None) -> bool:
    """CREATE ROLE ... LOGIN when missing; set the password when one is given. True when created."""
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is not None
    verb = "ALTER" if exists else "CREATE"
    statement = sql.SQL(verb + " ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS").format(
        role=sql.Identifier(role))
    if password is not None:
        # The server hashes it (scram-sha-256); utility statements take no parameters, hence a quoted literal.
        statement = sql.SQL("{} PASSWORD {}").format(statement, sql.Literal(password))
    try:
        with conn.transaction():
            conn.execute(statement)
    except psycopg.errors.InsufficientPrivilege:
        raise LineDatabaseError(f"this connection may not create the role {role}: run line init as the database's "
                                "admin (a role with CREATEROLE)") from None
    return not exists
