"""CSV export of each line table (``/export/<table>.csv``), streamed through a server-side cursor in a read-only
transaction, so a table of a million units leaves the server in chunks instead of being held in memory.

Times are epoch seconds in the database; each ``*_at`` / ``last_seen`` column is followed by the same time in UTC
(ISO 8601) so a spreadsheet reads it. A text cell that a spreadsheet would run as a formula (it starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) is written with a leading apostrophe (OWASP, "CSV Injection").
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import psycopg
from psycopg import sql

TABLES: dict[str, tuple[str, ...]] = {
    "stations": ("station",),
    "lots": ("station", "local_id"),
    "units": ("station", "local_id"),
    "steps": ("station", "local_id"),
    "refused_scans": ("station", "local_id"),
    "outbox": ("station", "local_id"),
    "measurements": ("station", "local_id"),
    "lot_summaries": ("station", "lot"),
}
"""The tables one can export, each with the key it is ordered by (the primary key: an index scan)."""
LOT_COLUMN = {"lots": "name", "units": "lot", "refused_scans": "lot", "lot_summaries": "lot"}
"""The tables a ``?lot=`` filter applies to, and the column holding the lot's name."""
CHUNK_ROWS = 2000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_query(table: str, *, station: str | None = None,
                 lot: str | None = None) -> tuple[sql.Composed, dict[str, Any]]:
    """The SELECT of one export (``table`` must be one of TABLES: names never come from the request's text)."""
    key = TABLES[table]
    conditions: list[sql.Composable] = []
    params: dict[str, Any] = {}
    if station is not None:
        conditions.append(sql.SQL("station = %(station)s"))
        params["station"] = station
    if lot is not None and table in LOT_COLUMN:
        conditions.append(sql.SQL("{} = %(lot)s").format(sql.Identifier(LOT_COLUMN[table])))
        params["lot"] = lot
    where = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("")
    query = sql.SQL("SELECT * FROM line.{}{} ORDER BY {}").format(
        sql.Identifier(table), where, sql.SQL(", ").join(sql.Identifier(k) for k in key))
    return query, params


def _is_time(column: str) -> bool:
    return column.endswith("_at") or column == "last_seen"


def header(columns: Sequence[str]) -> list[str]:
    out: list[str] = []
    for column in columns:
        out.append(column)
        if _is_time(column):
            out.append(f"{column}_utc")
    return out


def cells(columns: Sequence[str], row: Sequence[Any]) -> list[str]:
    out: list[str] = []
    for column, value in zip(columns, row, strict=True):
        out.append(cell(value))
        if _is_time(column):
            out.append(utc_text(value))
    return out


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def utc_text(value: Any) -> str:
    if not isinstance(value, int | float):
        return ""
    try:
        return datetime.datetime.fromtimestamp(float(value), datetime.UTC).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return ""


def _csv_text(rows: Sequence[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


async def csv_chunks(conn: psycopg.AsyncConnection[Any], table: str, *, station: str | None = None,
                     lot: str | None = None) -> AsyncIterator[bytes]:
    """The table as CSV, a chunk of rows at a time (the first chunk is the header, with a UTF-8 BOM for Excel)."""
    query, params = export_query(table, station=station, lot=lot)
    async with conn.transaction():
        await conn.execute("SET TRANSACTION READ ONLY")
        async with conn.cursor(name=f"export_{table}") as cur:
            await cur.execute(query, params)
            columns = [d.name for d in cur.description or ()]
            yield b"\xef\xbb\xbf" + _csv_text([header(columns)])
            while rows := await cur.fetchmany(CHUNK_ROWS):
                yield _csv_text([cells(columns, row) for row in rows])
