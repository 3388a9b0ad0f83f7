"""Journal rows as line database rows: which columns each replicated table takes, and the upsert that sends one.

A row is keyed by (station, local_id): ``local_id`` is the row's id in the station's journal (its rowid), so a
resend after a crash or an outage is an upsert and never a duplicate. A journal column of the same name feeds each
line column; the only renames are the journal's ``unit_id`` (``unit_local_id`` on the line) and the rowid.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

_TYPED: dict[str, tuple[tuple[str, str], ...]] = {
    "lots": (("name", "text"), ("product_id", "bigint"), ("profile", "text"), ("operator", "text"),
             ("created_at", "float8"), ("closed_at", "float8")),
    "units": (("lot", "text"), ("unit_key", "text"), ("serial", "text"), ("device_id", "text"),
              ("platform", "text"), ("device_os", "text"), ("state", "text"), ("reason_code", "text"),
              ("reason", "text"), ("attempts", "int4"), ("first_result", "text"), ("slot", "int4"),
              ("operator", "text"), ("started_at", "float8"), ("ended_at", "float8"), ("cycle_seconds", "float8"),
              ("updated_at", "float8")),
    "steps": (("unit_local_id", "bigint"), ("step", "text"), ("status", "text"), ("started_at", "float8"),
              ("ended_at", "float8"), ("error", "text")),
    "refused_scans": (("lot", "text"), ("label", "text"), ("reason_code", "text"), ("reason", "text"),
                      ("at", "float8")),
    "outbox": (("unit_local_id", "bigint"), ("operation", "text"), ("state", "text"), ("attempts", "int4"),
               ("error_code", "text"), ("created_at", "float8"), ("done_at", "float8")),
    "measurements": (("unit_local_id", "bigint"), ("attempt", "int4"), ("test", "text"), ("name", "text"),
                     ("value_num", "float8"), ("value_text", "text"), ("units", "text"), ("lower", "float8"),
                     ("upper", "float8"), ("outcome", "text"), ("marginal", "bool"), ("started_at", "float8"),
                     ("duration_s", "float8")),
}
"""Line columns besides (station, local_id), per replicated table, with their types (station/line/schema.py)."""

COLUMNS: dict[str, tuple[str, ...]] = {table: tuple(name for name, _ in typed) for table, typed in _TYPED.items()}

_JOURNAL_NAME = {"unit_local_id": "unit_id"}


def line_values(table: str, row: Mapping[str, Any]) -> list[Any]:
    """The line columns' values, in ``COLUMNS`` order, from a journal row (a column it lacks is NULL)."""
    values = []
    for column in COLUMNS[table]:
        value = row.get(_JOURNAL_NAME.get(column, column), row.get(column))
        if column == "marginal" and value is not None:
            value = bool(value)
        values.append(value)
    return values


@functools.cache
def _upsert_statement(table: str) -> sql.Composed:
    """One statement for any number of rows: each column travels as one array (``unnest``), not a parameter per
    value, so a batch of thousands of rows is one short query."""
    typed = _TYPED[table]
    columns = [name for name, _ in typed]
    return sql.SQL(
        "INSERT INTO line.{table} (station, local_id, {columns}) "
        "SELECT %s::text, r.* FROM unnest(%s::bigint[], {arrays}) AS r "
        "ON CONFLICT (station, local_id) DO UPDATE SET {updates}").format(
        table=sql.Identifier(table),
        columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
        arrays=sql.SQL(", ").join(sql.SQL("%s::{}[]").format(sql.SQL(kind)) for _, kind in typed),
        updates=sql.SQL(", ").join(sql.SQL("{c} = excluded.{c}").format(c=sql.Identifier(c)) for c in columns),
    )


def upsert_many(conn: psycopg.Connection[Any], table: str, station: str,
                rows: list[tuple[int, Mapping[str, Any]]]) -> None:
    """Insert the rows (local id, journal row; each local id once), or bring the line's copies up to date."""
    if not rows:
        return
    values = [line_values(table, row) for _, row in rows]
    arrays = [list(column) for column in zip(*values, strict=True)]
    conn.execute(_upsert_statement(table), [station, [local_id for local_id, _ in rows], *arrays])
    if table == "lots":
        for _, row in rows:
            if row.get("sealed_summary"):
                _lot_summary(conn, station, str(row["name"]), str(row["sealed_summary"]))


def delete_many(conn: psycopg.Connection[Any], table: str, station: str, local_ids: list[int]) -> None:
    """The journal dropped these rows (a step that was only a poll): drop the line's copies too."""
    if local_ids:
        conn.execute(sql.SQL("DELETE FROM line.{table} WHERE station = %s AND local_id = ANY(%s)").format(
            table=sql.Identifier(table)), (station, local_ids))


def _lot_summary(conn: psycopg.Connection[Any], station: str, lot: str, sealed: str) -> None:
    """A closed lot's sealed summary (JSON text in the journal) as the line's lot_summaries row."""
    try:
        summary = json.loads(sealed)
    except ValueError:
        summary = {"text": sealed}
    conn.execute("INSERT INTO line.lot_summaries (station, lot, summary) VALUES (%s, %s, %s) "
                 "ON CONFLICT (station, lot) DO UPDATE SET summary = excluded.summary",
                 (station, lot, Jsonb(summary)))
