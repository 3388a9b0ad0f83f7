"""The line database's schema: created on start, idempotent, refuses a newer database."""

from __future__ import annotations

import pytest

from station.line.schema import SCHEMA_VERSION, LineSchemaError, database_version, ensure_schema
from tests.line.conftest import LineDb


def test_a_new_database_gets_the_schema_at_the_current_version(line_db: LineDb) -> None:
    with line_db.connect() as conn:
        assert database_version(conn) == 0
        assert ensure_schema(conn) == SCHEMA_VERSION
        assert database_version(conn) == SCHEMA_VERSION
        tables = {row[0] for row in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'line'")}
    assert {"meta", "stations", "lots", "units", "steps", "refused_scans", "outbox", "measurements",
            "lot_summaries", "station_roles"} <= tables


def test_starting_again_on_a_current_database_changes_nothing(line_db_with_schema: LineDb) -> None:
    with line_db_with_schema.connect() as conn:
        assert ensure_schema(conn) == SCHEMA_VERSION


def test_a_database_newer_than_the_software_is_refused_in_one_sentence(line_db_with_schema: LineDb) -> None:
    with line_db_with_schema.connect() as conn:
        conn.execute("UPDATE line.meta SET value = %s WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
        with pytest.raises(LineSchemaError, match="newer than the .* update the station software"):
            ensure_schema(conn)


def test_a_resent_row_is_an_upsert_not_a_duplicate(line_db_with_schema: LineDb) -> None:
    with line_db_with_schema.connect() as conn:
        for state in ("RUNNING", "PASS"):
            conn.execute(
                "INSERT INTO line.units (station, local_id, lot, unit_key, state) VALUES ('a', 1, 'L1', 'k', %s) "
                "ON CONFLICT (station, local_id) DO UPDATE SET state = excluded.state", (state,))
        rows = conn.execute("SELECT state FROM line.units").fetchall()
    assert rows == [("PASS",)]


def test_an_older_database_is_upgraded_through_the_steps_it_misses(line_db: LineDb) -> None:
    from station.line import schema

    with line_db.connect() as conn:
        with conn.transaction():  # a database as the first release of the schema left it
            for statement in schema._STEPS[0][2]:
                conn.execute(statement.encode())
            conn.execute("INSERT INTO line.meta (key, value) VALUES ('schema_version', '1')")
        assert database_version(conn) == 1
        assert ensure_schema(conn) == SCHEMA_VERSION
        assert database_version(conn) == SCHEMA_VERSION
        policy = conn.execute("SELECT qual FROM pg_policies WHERE schemaname = 'line' AND tablename = 'units'"
                              ).fetchone()
    assert policy is not None and "SELECT" in str(policy[0]), "the step 2 policy: evaluated once per query"
