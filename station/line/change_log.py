"""Journal rows as line database rows: which columns each replicated table takes, and the upsert that sends one.

A row is keyed by (station, local_id): ``local_id`` is the row's id in the station's journal (its rowid), so a
resend after a crash or an outage is an upsert and never a duplicate. A journal column of the same name feeds each
line column; the only renames are the journal's ``unit_id`` (``unit_local_id`` on the line) and the rowid.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

COLUMNS: dict[str, tuple[str, ...]] = {
    "lots": ("name", "product_id", "profile", "operator", "created_at", "closed_at"),
    "units": ("lot", "unit_key", "serial", "device_id", "platform", "device_os", "state", "reason_code", "reason",
              "attempts", "first_result", "slot", "operator", "started_at", "ended_at", "cycle_seconds",
              "updated_at"),
    "steps": ("unit_local_id", "step", "status", "started_at", "ended_at", "error"),
    "refused_scans": ("lot", "label", "reason_code", "reason", "at"),
    "outbox": ("unit_local_id", "operation", "state", "attempts", "error_code", "created_at", "done_at"),
    "measurements": ("unit_local_id", "attempt", "test", "name", "value_num", "value_text", "units", "lower",
                     "upper", "outcome", "marginal", "started_at", "duration_s"),
}
"""Line columns besides (station, local_id), per replicated table (station/line/schema.py)."""

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


def upsert(conn: psycopg.Connection[Any], table: str, station: str, local_id: int, row: Mapping[str, Any]) -> None:
    """Insert the row, or bring the line's copy up to date."""
    columns = COLUMNS[table]
    statement = sql.SQL(
        "INSERT INTO line.{table} (station, local_id, {columns}) VALUES (%s, %s, {marks}) "
        "ON CONFLICT (station, local_id) DO UPDATE SET {updates}").format(
        table=sql.Identifier(table),
        columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
        marks=sql.SQL(", ").join(sql.Placeholder() * len(columns)),
        updates=sql.SQL(", ").join(sql.SQL("{c} = excluded.{c}").format(c=sql.Identifier(c)) for c in columns),
    )
    conn.execute(statement, (station, local_id, *line_values(table, row)))
    if table == "lots" and row.get("sealed_summary"):
        _lot_summary(conn, station, str(row["name"]), str(row["sealed_summary"]))


def delete(conn: psycopg.Connection[Any], table: str, station: str, local_id: int) -> None:
    """The journal dropped the row (a step that was only a poll): drop the line's copy too."""
    conn.execute(sql.SQL("DELETE FROM line.{table} WHERE station = %s AND local_id = %s").format(
        table=sql.Identifier(table)), (station, local_id))


def _lot_summary(conn: psycopg.Connection[Any], station: str, lot: str, sealed: str) -> None:
    """A closed lot's sealed summary (JSON text in the journal) as the line's lot_summaries row."""
    try:
        summary = json.loads(sealed)
    except ValueError:
        summary = {"text": sealed}
    conn.execute("INSERT INTO line.lot_summaries (station, lot, summary) VALUES (%s, %s, %s) "
                 "ON CONFLICT (station, lot) DO UPDATE SET summary = excluded.summary",
                 (station, lot, Jsonb(summary)))
