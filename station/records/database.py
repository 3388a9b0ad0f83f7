"""The journal's database: one SQLite connection (WAL, ``synchronous=FULL``), its schema, reads and write transactions.

Every write is committed before the call returns (``synchronous=FULL``), so a unit's record is durable before the
station moves on. SQL stays portable (plain tables, ``?`` parameters, no SQLite-only functions in queries) so a
line with several stations can later move the journal to PostgreSQL: what is SQLite-specific (the pragmas,
``BEGIN IMMEDIATE``) lives here, and the tables (lot_table, unit_table, step_table, outbox_table, lot_list_table)
only read and write through ``query`` and ``transaction``.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from station.errors import StationError

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS lots (
        name TEXT PRIMARY KEY, station TEXT NOT NULL, product_id INTEGER NOT NULL, profile TEXT NOT NULL,
        operator TEXT NOT NULL, created_at REAL NOT NULL, closed_at REAL)""",
    """CREATE TABLE IF NOT EXISTS units (
        id INTEGER PRIMARY KEY, lot TEXT NOT NULL REFERENCES lots(name), unit_key TEXT NOT NULL,
        serial TEXT, device_id TEXT, platform TEXT, device_os TEXT, iccid TEXT, imei TEXT,
        firmware_version INTEGER, firmware_sha256 TEXT, slot INTEGER, operator TEXT, station TEXT,
        state TEXT NOT NULL, reason TEXT, action TEXT, attempts INTEGER NOT NULL DEFAULT 1,
        started_at REAL NOT NULL, ended_at REAL, first_result TEXT, cycle_seconds REAL, updated_at REAL NOT NULL,
        UNIQUE (lot, unit_key))""",
    """CREATE INDEX IF NOT EXISTS units_device ON units (device_id)""",
    """CREATE INDEX IF NOT EXISTS units_serial ON units (serial)""",
    """CREATE TABLE IF NOT EXISTS steps (
        id INTEGER PRIMARY KEY, unit_id INTEGER NOT NULL REFERENCES units(id), step TEXT NOT NULL,
        status TEXT NOT NULL, started_at REAL NOT NULL, ended_at REAL, detail TEXT, error TEXT)""",
    """CREATE INDEX IF NOT EXISTS steps_unit ON steps (unit_id)""",
    """CREATE TABLE IF NOT EXISTS outbox (
        id INTEGER PRIMARY KEY, unit_id INTEGER REFERENCES units(id), operation TEXT NOT NULL,
        payload TEXT NOT NULL, idem_key TEXT NOT NULL UNIQUE, state TEXT NOT NULL, attempts INTEGER NOT NULL,
        next_attempt_at REAL NOT NULL, last_error TEXT, created_at REAL NOT NULL, done_at REAL)""",
    """CREATE TABLE IF NOT EXISTS lot_lists (
        id INTEGER PRIMARY KEY, lot TEXT NOT NULL REFERENCES lots(name), source TEXT NOT NULL,
        line INTEGER NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL)""",
    # schema step 4
    """CREATE TABLE IF NOT EXISTS refused_scans (
        id INTEGER PRIMARY KEY, lot TEXT NOT NULL REFERENCES lots(name), label TEXT NOT NULL,
        reason_code TEXT NOT NULL, reason TEXT NOT NULL, at REAL NOT NULL)""",
    # schema step 7
    """CREATE TABLE IF NOT EXISTS measurements (
        id INTEGER PRIMARY KEY, unit_id INTEGER NOT NULL REFERENCES units(id), attempt INTEGER NOT NULL,
        test TEXT NOT NULL, name TEXT NOT NULL, value_num REAL, value_text TEXT, units TEXT, lower REAL, upper REAL,
        marginal_lower REAL, marginal_upper REAL, validator TEXT, outcome TEXT NOT NULL,
        marginal INTEGER NOT NULL DEFAULT 0, started_at REAL NOT NULL, duration_s REAL)""",
    """CREATE INDEX IF NOT EXISTS measurements_unit ON measurements (unit_id)""",
)


_MIGRATIONS: tuple[tuple[int, str, tuple[tuple[str, str, str], ...]], ...] = (
    (2, "a unit's device side is recorded apart from its state (the state is derived: records/unit_state.py)",
     (("units", "device_result", "TEXT"),)),
    (3, "every failure carries a stable reason code beside its sentence (records/reason_code.py)",
     (("units", "reason_code", "TEXT"), ("outbox", "error_code", "TEXT"))),
    (4, "refused scans are recorded apart from units (records/refused_scan_table.py; a table in _SCHEMA)", ()),
    (5, "the lot's life: the software version that provisioned a unit, a closed lot's sealed summary (JSON)",
     (("units", "software_version", "TEXT"), ("lots", "sealed_summary", "TEXT"))),
    (6, "a unit's Device Protection state when it arrived and when it left the line ('open', 'protected', 'service')",
     (("units", "protection_on_arrival", "TEXT"), ("units", "protection_on_leaving", "TEXT"))),
    (7, "every measurement of every attempt of the test stage (records/measurement_table.py; a table in _SCHEMA), "
     "and the version (SHA-256) of the tests a unit ran", (("units", "tests_hash", "TEXT"),)),
    (8, "a change log filled by triggers, read by the line's replicator (records/change_table.py; no columns)", ()),
)
"""Numbered schema steps after version 1, each a set of added columns (table, column, type); applied in order to
an older file, every step only adds what is missing, so a file written by any version opens."""

SCHEMA_VERSION = max(version for version, _, _ in _MIGRATIONS)

CHANGE_TABLES = ("lots", "units", "steps", "refused_scans", "outbox", "measurements")
"""The tables the change log follows (step 8), parents first so a backfill sends lots before their units; a table
not in a journal yet is skipped until it exists. Adding a table to the line is one name here."""

TRIGGER_NOW = "((julianday('now') - 2440587.5) * 86400.0)"
"""Epoch seconds inside a trigger (SQLite has no "now" in seconds with a fraction)."""


class JournalError(StationError):
    """The journal cannot be opened or written."""


class JournalDatabase:
    """One journal file, opened once; safe to use from several threads (slots, the outbox worker, the workbook)."""

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.RLock()
        self._revision = 0
        self._closed = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        except (OSError, sqlite3.DatabaseError) as exc:
            raise JournalError(f"cannot open the journal {self.path}: {exc}") from None
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self.close()
            raise JournalError(f"cannot open the journal {self.path}: {exc}") from None
        except BaseException:
            self.close()
            raise

    def _migrate(self) -> None:
        """Create what a new file lacks, apply the numbered steps it misses and record the schema version."""
        with self.transaction() as db:
            for statement in _SCHEMA:
                db.execute(statement)
            for _version, _why, columns in _MIGRATIONS:
                _add_missing_columns(db, columns)
            _install_change_log(db)
            db.execute("INSERT INTO meta (key, value) VALUES ('schema', ?) ON CONFLICT(key) DO UPDATE SET "
                       "value = excluded.value", (str(SCHEMA_VERSION),))

    def now(self) -> float:
        """The time stamp the journal writes (seconds since the epoch; tests give a fake clock)."""
        return self._clock()

    @property
    def revision(self) -> int:
        """Grows on every write in this process; readers (the workbook writer) use it to skip needless work."""
        return self._revision

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                raise JournalError(f"journal {self.path}: write failed: {exc}") from None
            self._revision += 1

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                cursor = self._db.execute(sql, params)
                cursor.row_factory = sqlite3.Row
                return list(cursor.fetchall())
            except sqlite3.DatabaseError as exc:
                raise JournalError(f"journal {self.path}: read failed: {exc}") from None


def _add_missing_columns(db: sqlite3.Connection, columns: tuple[tuple[str, str, str], ...]) -> None:
    """``ALTER TABLE ... ADD COLUMN`` for each (table, column, type) the file does not have yet."""
    for table, column, kind in columns:
        present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


def _install_change_log(db: sqlite3.Connection) -> None:
    """Schema step 8: the ``changes`` log and its triggers, where missing (records/change_table.py reads it).

    The triggers write in the writer's own transaction, so no write path changes and a change is durable exactly
    when its row is. A journal that had rows before the log existed gets one change per row, so it replicates whole.
    """
    existing = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    new_log = "changes" not in existing
    db.execute("CREATE TABLE IF NOT EXISTS changes ("
               "id INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL, row_id INTEGER NOT NULL, at REAL)")
    for table in CHANGE_TABLES:
        if table not in existing:
            continue
        for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            db.execute(f"CREATE TRIGGER IF NOT EXISTS changes_{table}_{event.lower()} AFTER {event} ON {table} "
                       f"BEGIN INSERT INTO changes (tbl, row_id, at) VALUES ('{table}', {row}.rowid, "
                       f"{TRIGGER_NOW}); END")
        if new_log:
            db.execute(f"INSERT INTO changes (tbl, row_id, at) SELECT '{table}', rowid, {TRIGGER_NOW} "
                       f"FROM {table} ORDER BY rowid")
