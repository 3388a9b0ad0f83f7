"""CSV export of each line table (``/export/<table>.csv``), streamed through a server-side cursor in a read-only
transaction, so a table of a million units leaves the server in chunks instead of being held in memory.

Each cell is written as the screens and the workbooks show it (station.line.dashboard.csv_cells): local ISO 8601
times with their offset, slots from 1, durations and measurements rounded, a lot summary one column per figure.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import AsyncIterator, Sequence
from typing import Any

import psycopg
from psycopg import sql

from station.line.dashboard.csv_cells import table_writer

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


def _csv_text(rows: Sequence[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


async def csv_chunks(conn: psycopg.AsyncConnection[Any], table: str, *, station: str | None = None,
                     lot: str | None = None, tz: datetime.tzinfo | None = None) -> AsyncIterator[bytes]:
    """The table as CSV, a chunk of rows at a time (the first chunk is the header, with a UTF-8 BOM for Excel);
    times in ``tz`` (None: this machine's local time)."""
    query, params = export_query(table, station=station, lot=lot)
    async with conn.transaction():
        await conn.execute("SET TRANSACTION READ ONLY")
        async with conn.cursor(name=f"export_{table}") as cur:
            await cur.execute(query, params)
            header, write = table_writer(table, [d.name for d in cur.description or ()], tz)
            yield b"\xef\xbb\xbf" + _csv_text([header])
            while rows := await cur.fetchmany(CHUNK_ROWS):
                yield _csv_text([write(row) for row in rows])
