"""The line database's schema (PostgreSQL, schema ``line``): numbered steps, created or upgraded on start.

Every replicated table is keyed by ``(station, local_id)``, the station's name and the row's id in its own SQLite
journal, so a resend is an upsert and never a duplicate (TMI's store-and-forward into one PostgreSQL per LAN is the
model: mgagcode/tmi_scripts). Times are epoch seconds (``double precision``) like the journal.

Row-level security: a station's role (``line_station_<name>``, mapped to its station in ``line.station_roles``)
reads and writes only the rows whose ``station`` is its own; the policies are FORCEd so even the tables' owner
goes through them. Roles that are not station roles (the admin that owns the schema, ``line_dashboard``, which is
only granted SELECT) see every row. Stations read across the line only through two SECURITY DEFINER functions:
``line.units_elsewhere`` (the scan-time check) and ``line.lot_units`` (a lot's units at every station).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from station.errors import StationError

SCHEMA = "line"
DASHBOARD_ROLE = "line_dashboard"
STATION_ROLE_PREFIX = "line_station_"

REPLICATED_TABLES = ("lots", "units", "steps", "refused_scans", "outbox", "measurements")
"""Tables keyed by (station, local_id); ``stations`` and ``lot_summaries`` are keyed by station (and lot)."""

_RLS_TABLES = ("stations", *REPLICATED_TABLES, "lot_summaries")

_STEP_1 = (
    "CREATE SCHEMA IF NOT EXISTS line",
    "CREATE TABLE line.meta (key text PRIMARY KEY, value text NOT NULL)",
    "CREATE TABLE line.station_roles (role name PRIMARY KEY, station text NOT NULL)",
    """CREATE TABLE line.stations (
        station text PRIMARY KEY, software_version text, last_seen double precision,
        slots jsonb NOT NULL DEFAULT '[]', backlog integer NOT NULL DEFAULT 0, lag_seconds double precision,
        replicated_change bigint NOT NULL DEFAULT 0, api_requests jsonb NOT NULL DEFAULT '{}')""",
    """CREATE TABLE line.lots (
        station text NOT NULL, local_id bigint NOT NULL, name text NOT NULL, product_id bigint,
        profile text, operator text, created_at double precision, closed_at double precision,
        PRIMARY KEY (station, local_id))""",
    """CREATE TABLE line.units (
        station text NOT NULL, local_id bigint NOT NULL, lot text NOT NULL, unit_key text NOT NULL,
        serial text, device_id text, platform text, device_os text, state text NOT NULL, reason_code text,
        reason text, attempts integer, first_result text, slot integer, operator text,
        started_at double precision, ended_at double precision, cycle_seconds double precision,
        updated_at double precision, PRIMARY KEY (station, local_id))""",
    """CREATE TABLE line.steps (
        station text NOT NULL, local_id bigint NOT NULL, unit_local_id bigint NOT NULL, step text NOT NULL,
        status text NOT NULL, started_at double precision, ended_at double precision, error text,
        PRIMARY KEY (station, local_id))""",
    """CREATE TABLE line.refused_scans (
        station text NOT NULL, local_id bigint NOT NULL, lot text NOT NULL, label text NOT NULL,
        reason_code text, reason text, at double precision, PRIMARY KEY (station, local_id))""",
    """CREATE TABLE line.outbox (
        station text NOT NULL, local_id bigint NOT NULL, unit_local_id bigint, operation text NOT NULL,
        state text NOT NULL, attempts integer, error_code text, created_at double precision,
        done_at double precision, PRIMARY KEY (station, local_id))""",
    """CREATE TABLE line.measurements (
        station text NOT NULL, local_id bigint NOT NULL, unit_local_id bigint NOT NULL, attempt integer,
        test text, name text NOT NULL, value_num double precision, value_text text, units text,
        lower double precision, upper double precision, outcome text, marginal boolean,
        started_at double precision, duration_s double precision, PRIMARY KEY (station, local_id))""",
    """CREATE TABLE line.lot_summaries (
        station text NOT NULL, lot text NOT NULL, summary jsonb NOT NULL, PRIMARY KEY (station, lot))""",
    # the dashboard's queries and the scan-time check
    "CREATE INDEX units_serial ON line.units (serial)",
    "CREATE INDEX units_device_id ON line.units (device_id)",
    "CREATE INDEX units_lot ON line.units (lot)",
    "CREATE INDEX units_station_ended ON line.units (station, ended_at)",
    "CREATE INDEX units_ended ON line.units (ended_at)",
    "CREATE INDEX units_failed_reason ON line.units (reason_code) WHERE state = 'FAIL'",
    "CREATE INDEX steps_unit ON line.steps (station, unit_local_id)",
    "CREATE INDEX measurements_name ON line.measurements (name)",
    # the station a login role stands for; NULL for every role that is not a station's
    """CREATE FUNCTION line.role_station() RETURNS text LANGUAGE sql STABLE
        AS $$ SELECT station FROM line.station_roles WHERE role = current_user $$""",
    """CREATE FUNCTION line.is_station_role() RETURNS boolean LANGUAGE sql STABLE
        AS $$ SELECT EXISTS (SELECT 1 FROM line.station_roles WHERE role = current_user) $$""",
    # a label or device id at any other station: the units a scan must not start again
    """CREATE FUNCTION line.units_elsewhere(p_station text, p_serial text, p_device_id text)
        RETURNS TABLE (station text, unit_key text, serial text, device_id text, state text,
                       started_at double precision, ended_at double precision)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = line, pg_temp
        AS $$ SELECT u.station, u.unit_key, u.serial, u.device_id, u.state, u.started_at, u.ended_at
              FROM line.units u
              WHERE u.station <> p_station
                AND ((p_serial IS NOT NULL AND u.serial = p_serial)
                     OR (p_device_id IS NOT NULL AND u.device_id = p_device_id)) $$""",
    # a lot spans stations: its units wherever they were provisioned
    """CREATE FUNCTION line.lot_units(p_lot text) RETURNS SETOF line.units
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = line, pg_temp
        AS $$ SELECT * FROM line.units WHERE lot = p_lot ORDER BY station, local_id $$""",
    "REVOKE EXECUTE ON FUNCTION line.units_elsewhere(text, text, text), line.lot_units(text) FROM PUBLIC",
    *(statement for table in _RLS_TABLES for statement in (
        f"ALTER TABLE line.{table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE line.{table} FORCE ROW LEVEL SECURITY",
        f"""CREATE POLICY own_station ON line.{table} FOR ALL
            USING (NOT line.is_station_role() OR station = line.role_station())
            WITH CHECK (NOT line.is_station_role() OR station = line.role_station())""",
    )),
)

# The policy's test as uncorrelated scalar subqueries: PostgreSQL evaluates them once per query (an InitPlan),
# where the step 1 function calls ran for every row (a dashboard count over a million units took seconds).
_OWN_ROWS = ("(SELECT NOT line.is_station_role()) OR station = (SELECT line.role_station())")

_STEP_2 = tuple(statement for table in _RLS_TABLES for statement in (
    f"DROP POLICY own_station ON line.{table}",
    f"CREATE POLICY own_station ON line.{table} FOR ALL USING ({_OWN_ROWS}) WITH CHECK ({_OWN_ROWS})",
))

_STEPS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (1, "stations, lots, units, steps, refused scans, outbox, measurements, lot summaries; roles and policies",
     _STEP_1),
    (2, "the row-level security test evaluated once per query, not once per row", _STEP_2),
    (3, "which journal feeds a station's rows (a fresh journal under an old name must not overwrite them)",
     ("ALTER TABLE line.stations ADD COLUMN journal_id text",)),
    (4, "the dashboard's Cpk panel reads the window's measurements by time, from the index alone",
     # what capability() in station/line/dashboard/queries.py reads, so the window's rows are an index-only scan
     # (the station column: the row-security policy reads it)
     ("CREATE INDEX measurements_started ON line.measurements (started_at) "
      "INCLUDE (station, name, units, lower, upper, value_num, outcome)",)),
    (5, "when the last replicated change was made, so a journal restored from a backup is told from one that "
        "crashed before moving its cursor",
     ("ALTER TABLE line.stations ADD COLUMN replicated_at double precision",)),
)
"""Numbered schema steps, applied in order to an older database; a step never edits an earlier one."""

SCHEMA_VERSION = max(version for version, _, _ in _STEPS)

# Serialises two stations creating or upgrading the schema at the same moment (any constant works; this is
# "line" in ASCII).
_SCHEMA_LOCK = 0x6C696E65


class LineDatabaseError(StationError):
    """The line database cannot be reached, is not usable, or refused an operation."""


class LineSchemaError(LineDatabaseError):
    """The line database's schema is newer than this software understands, or cannot be created or upgraded."""


def database_version(conn: psycopg.Connection[Any]) -> int:
    """The schema version the database holds (0 when there is no ``line`` schema yet)."""
    row = conn.execute("SELECT to_regclass('line.meta') IS NOT NULL").fetchone()
    if row is None or not row[0]:
        return 0
    found = conn.execute("SELECT value FROM line.meta WHERE key = 'schema_version'").fetchone()
    return int(found[0]) if found else 0


def ensure_schema(conn: psycopg.Connection[Any]) -> int:
    """Create the schema or apply the steps it misses; refuse a database newer than ``SCHEMA_VERSION``.

    Returns the version now in the database. A role that may not create (a station's) gets one sentence naming
    ``particle-station line init`` instead of a traceback.
    """
    try:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            found = database_version(conn)
            if found > SCHEMA_VERSION:
                raise LineSchemaError(
                    f"the line database has schema version {found}, newer than the {SCHEMA_VERSION} this station "
                    "understands: update the station software")
            for version, _why, statements in _STEPS:
                if version > found:
                    for statement in statements:
                        conn.execute(statement)  # fixed text from this module
                    conn.execute("INSERT INTO line.meta (key, value) VALUES ('schema_version', %s) "
                                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(version),))
            return max(found, SCHEMA_VERSION)
    except pg_errors.InsufficientPrivilege:
        raise LineSchemaError(
            f"the line database's schema is older than version {SCHEMA_VERSION} and this role may not upgrade "
            "it: run 'particle-station line init' with an admin connection") from None
    except psycopg.Error as exc:
        raise LineSchemaError(f"cannot create the line database's schema: {_first_line(exc)}") from None


def grant_statements(role: str, *, write: bool) -> Sequence[str]:
    """What a station's role (``write``) or the dashboard's may do on the schema's tables and functions."""
    quoted = _ident(role)
    privileges = "SELECT, INSERT, UPDATE, DELETE" if write else "SELECT"
    statements = [
        f"GRANT USAGE ON SCHEMA line TO {quoted}",
        f"GRANT SELECT ON line.meta, line.station_roles TO {quoted}",
        *(f"GRANT {privileges} ON line.{table} TO {quoted}" for table in _RLS_TABLES),
    ]
    if write:
        statements.append(f"GRANT EXECUTE ON FUNCTION line.units_elsewhere(text, text, text), "
                          f"line.lot_units(text) TO {quoted}")
    return statements


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum() or not name.isascii():
        raise LineDatabaseError(f"{name!r} is not a usable PostgreSQL role name (letters, digits, underscores)")
    return f'"{name}"'


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
