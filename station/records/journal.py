"""The journal: a SQLite (WAL) record of every lot, unit, step and pending cloud operation; the system of record.

Every write is committed before the call returns (``synchronous=FULL``), so a unit's record is durable before the
station moves on. SQL stays portable (plain tables, ``?`` parameters, no SQLite-only functions in queries) so a
line with several stations can later move the journal to PostgreSQL behind this same interface.
"""

from __future__ import annotations

import enum
import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.errors import StationError

SCHEMA_VERSION = 1

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
)


class JournalError(StationError):
    """The journal cannot be opened or written."""


class UnitState(enum.Enum):
    IN_PROGRESS = "in progress"
    PASS = "PASS"
    FAIL = "FAIL"
    CLOUD_PENDING = "cloud pending"
    """Everything on the device is done; cloud work waits in the outbox and will be retried."""
    NOT_CONFIRMED = "not confirmed"
    """Passed, but the cloud did not confirm the unit online within the time box (profile option)."""


class StepStatus(enum.Enum):
    STARTED = "started"
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    PENDING = "pending"
    """Handed to the outbox: will finish in the background."""


@dataclass(frozen=True)
class LotRecord:
    name: str
    station: str
    product_id: int
    profile: str
    operator: str
    created_at: float
    closed_at: float | None


@dataclass(frozen=True)
class UnitRecord:
    id: int
    lot: str
    unit_key: str
    serial: str | None
    device_id: str | None
    platform: str | None
    device_os: str | None
    iccid: str | None
    imei: str | None
    firmware_version: int | None
    firmware_sha256: str | None
    slot: int | None
    operator: str | None
    station: str | None
    state: UnitState
    reason: str | None
    action: str | None
    attempts: int
    started_at: float
    ended_at: float | None
    first_result: str | None
    cycle_seconds: float | None
    updated_at: float


@dataclass(frozen=True)
class StepRecord:
    id: int
    unit_id: int
    step: str
    status: StepStatus
    started_at: float
    ended_at: float | None
    detail: dict[str, Any]
    error: str | None


@dataclass(frozen=True)
class OutboxItem:
    id: int
    unit_id: int | None
    operation: str
    payload: dict[str, Any]
    idem_key: str
    state: str
    attempts: int
    next_attempt_at: float
    last_error: str | None


_UNIT_FIELDS = (
    "serial", "device_id", "platform", "device_os", "iccid", "imei", "firmware_version", "firmware_sha256", "slot",
    "operator", "station", "state", "reason", "action", "ended_at", "first_result", "cycle_seconds",
)


class Journal:
    """One journal file; safe to use from several threads (slots, the outbox worker, the spreadsheet writer)."""

    def __init__(self, path: str | Path, *, clock: Any = time.time) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.RLock()
        self._revision = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            with self._tx() as db:
                for statement in _SCHEMA:
                    db.execute(statement)
                db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"cannot open the journal {self.path}: {exc}") from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def revision(self) -> int:
        """Grows on every write in this process; readers (spreadsheet writer) use it to skip needless work."""
        return self._revision

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
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

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                cursor = self._db.execute(sql, params)
                cursor.row_factory = sqlite3.Row
                return list(cursor.fetchall())
            except sqlite3.DatabaseError as exc:
                raise JournalError(f"journal {self.path}: read failed: {exc}") from None

    # --- lots -------------------------------------------------------------------------------------------------
    def open_lot(self, name: str, *, station: str, product_id: int, profile: str, operator: str) -> LotRecord:
        """The lot with this name, created if new (re-opening a lot after a restart continues it)."""
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO lots (name, station, product_id, profile, operator, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (name, station, product_id, profile, operator, self._clock()),
            )
        lot = self.lot(name)
        assert lot is not None
        return lot

    def lot(self, name: str) -> LotRecord | None:
        rows = self._query("SELECT * FROM lots WHERE name = ?", (name,))
        return LotRecord(**dict(rows[0])) if rows else None

    def lots(self) -> list[LotRecord]:
        return [LotRecord(**dict(r)) for r in self._query("SELECT * FROM lots ORDER BY created_at")]

    def lots_with_prefix(self, prefix: str) -> list[str]:
        return [r["name"] for r in self._query("SELECT name FROM lots WHERE name LIKE ?", (prefix + "%",))]

    # --- units ------------------------------------------------------------------------------------------------
    def begin_unit(self, lot: str, unit_key: str, **fields: Any) -> tuple[UnitRecord, bool]:
        """Start a unit, or resume the one with this key in this lot. Returns the record and whether it is new."""
        unknown = set(fields) - set(_UNIT_FIELDS)
        if unknown:
            raise ValueError(f"unknown unit fields: {sorted(unknown)}")
        now = self._clock()
        with self._tx() as db:
            row = db.execute("SELECT id FROM units WHERE lot = ? AND unit_key = ?", (lot, unit_key)).fetchone()
            if row is None:
                columns = ["lot", "unit_key", "state", "started_at", "updated_at", *fields]
                values = [lot, unit_key, UnitState.IN_PROGRESS.value, now, now]
                values += [_db_value(v) for v in fields.values()]
                db.execute(
                    f"INSERT INTO units ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})", values
                )
                created = True
            else:
                db.execute(
                    "UPDATE units SET attempts = attempts + 1, state = ?, reason = NULL, action = NULL, "
                    "ended_at = NULL, updated_at = ? WHERE id = ?",
                    (UnitState.IN_PROGRESS.value, now, row[0]),
                )
                created = False
        unit = self.unit_by_key(lot, unit_key)
        assert unit is not None
        if fields and not created:
            unit = self.update_unit(unit.id, **fields)
        return unit, created

    def update_unit(self, unit_id: int, **fields: Any) -> UnitRecord:
        unknown = set(fields) - set(_UNIT_FIELDS)
        if unknown:
            raise ValueError(f"unknown unit fields: {sorted(unknown)}")
        if fields:
            assignments = ", ".join(f"{name} = ?" for name in fields)
            with self._tx() as db:
                db.execute(
                    f"UPDATE units SET {assignments}, updated_at = ? WHERE id = ?",
                    (*(_db_value(v) for v in fields.values()), self._clock(), unit_id),
                )
        unit = self.unit(unit_id)
        if unit is None:
            raise JournalError(f"journal {self.path}: unit {unit_id} does not exist")
        return unit

    def unit(self, unit_id: int) -> UnitRecord | None:
        rows = self._query("SELECT * FROM units WHERE id = ?", (unit_id,))
        return _unit(rows[0]) if rows else None

    def unit_by_key(self, lot: str, unit_key: str) -> UnitRecord | None:
        rows = self._query("SELECT * FROM units WHERE lot = ? AND unit_key = ?", (lot, unit_key))
        return _unit(rows[0]) if rows else None

    def units(self, lot: str | None = None) -> list[UnitRecord]:
        if lot is None:
            return [_unit(r) for r in self._query("SELECT * FROM units ORDER BY id")]
        return [_unit(r) for r in self._query("SELECT * FROM units WHERE lot = ? ORDER BY id", (lot,))]

    def units_changed_since(self, lot: str, since: float) -> list[UnitRecord]:
        rows = self._query("SELECT * FROM units WHERE lot = ? AND updated_at >= ? ORDER BY id", (lot, since))
        return [_unit(r) for r in rows]

    def search_units(self, text: str, limit: int = 200) -> list[UnitRecord]:
        """Units whose serial or device id contains ``text`` (case-insensitive), newest first."""
        pattern = f"%{text.strip().lower()}%"
        rows = self._query(
            "SELECT * FROM units WHERE LOWER(serial) LIKE ? OR LOWER(device_id) LIKE ? ORDER BY updated_at DESC "
            "LIMIT ?",
            (pattern, pattern, limit),
        )
        return [_unit(r) for r in rows]

    def units_with_device(self, device_id: str) -> list[UnitRecord]:
        return [_unit(r) for r in self._query("SELECT * FROM units WHERE device_id = ? ORDER BY id", (device_id,))]

    # --- steps ------------------------------------------------------------------------------------------------
    def step_started(self, unit_id: int, step: str, detail: Mapping[str, Any] | None = None) -> int:
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO steps (unit_id, step, status, started_at, detail) VALUES (?, ?, ?, ?, ?)",
                (unit_id, step, StepStatus.STARTED.value, self._clock(), json.dumps(dict(detail or {}))),
            )
            step_id = cursor.lastrowid
        assert step_id is not None
        return step_id

    def step_ended(
        self,
        step_id: int,
        status: StepStatus,
        *,
        detail: Mapping[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE steps SET status = ?, ended_at = ?, detail = ?, error = ? WHERE id = ?",
                (status.value, self._clock(), json.dumps(dict(detail or {}), default=str), error, step_id),
            )

    def discard_step(self, step_id: int) -> None:
        """Forget a step record that turned out to be only a poll (e.g. 'not online yet')."""
        with self._tx() as db:
            db.execute("DELETE FROM steps WHERE id = ?", (step_id,))

    def steps(self, unit_id: int) -> list[StepRecord]:
        rows = self._query("SELECT * FROM steps WHERE unit_id = ? ORDER BY id", (unit_id,))
        return [
            StepRecord(
                id=r["id"],
                unit_id=r["unit_id"],
                step=r["step"],
                status=StepStatus(r["status"]),
                started_at=r["started_at"],
                ended_at=r["ended_at"],
                detail=json.loads(r["detail"] or "{}"),
                error=r["error"],
            )
            for r in rows
        ]

    def passed_steps(self, unit_id: int) -> dict[str, StepRecord]:
        """The latest passed (or skipped/pending) record of each step of a unit: what a resumed unit can check."""
        done: dict[str, StepRecord] = {}
        for record in self.steps(unit_id):
            if record.status in (StepStatus.PASSED, StepStatus.SKIPPED, StepStatus.PENDING):
                done[record.step] = record
            elif record.status is StepStatus.FAILED:
                done.pop(record.step, None)
        return done

    # --- outbox -----------------------------------------------------------------------------------------------
    def enqueue(self, idem_key: str, operation: str, payload: Mapping[str, Any], *, unit_id: int | None) -> int:
        """Add cloud work that must finish eventually; the same ``idem_key`` is only ever queued once."""
        now = self._clock()
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO outbox (unit_id, operation, payload, idem_key, state, attempts, "
                "next_attempt_at, created_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)",
                (unit_id, operation, json.dumps(dict(payload)), idem_key, now, now),
            )
            row = db.execute("SELECT id FROM outbox WHERE idem_key = ?", (idem_key,)).fetchone()
        return int(row[0])

    def outbox(self, *, state: str | None = None) -> list[OutboxItem]:
        if state is None:
            rows = self._query("SELECT * FROM outbox ORDER BY id")
        else:
            rows = self._query("SELECT * FROM outbox WHERE state = ? ORDER BY id", (state,))
        return [_outbox(r) for r in rows]

    def due_operations(self, now: float | None = None) -> list[OutboxItem]:
        at = self._clock() if now is None else now
        rows = self._query(
            "SELECT * FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY id", (at,)
        )
        return [_outbox(r) for r in rows]

    def operation_done(self, item_id: int) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE outbox SET state = 'done', attempts = attempts + 1, done_at = ?, last_error = NULL "
                "WHERE id = ?",
                (self._clock(), item_id),
            )

    def operation_failed(self, item_id: int, error: str, *, retry_at: float | None) -> None:
        """Record a failed attempt; ``retry_at`` None means it can never succeed (given up, needs an engineer)."""
        with self._tx() as db:
            db.execute(
                "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ? "
                "WHERE id = ?",
                ("pending" if retry_at is not None else "failed", error, retry_at or 0.0, item_id),
            )

    def retry_failed_operations(self) -> int:
        """Put given-up operations back in the queue (an engineer's 'retry pending cloud work')."""
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE outbox SET state = 'pending', next_attempt_at = ? WHERE state = 'failed'", (self._clock(),)
            )
            return cursor.rowcount

    def pending_for_unit(self, unit_id: int) -> list[OutboxItem]:
        rows = self._query("SELECT * FROM outbox WHERE unit_id = ? AND state != 'done' ORDER BY id", (unit_id,))
        return [_outbox(r) for r in rows]

    def count_pending(self) -> int:
        return int(self._query("SELECT COUNT(*) AS n FROM outbox WHERE state != 'done'")[0]["n"])

    # --- tray lists tied to a lot (reconciliation) -----------------------------------------------------------
    def add_lot_list(self, lot: str, source: str, entries: list[tuple[int, str, str]]) -> int:
        """Tie a tray list to a lot: entries are (line, kind, value) with kind device_id / serial / iccid."""
        with self._tx() as db:
            db.execute("DELETE FROM lot_lists WHERE lot = ? AND source = ?", (lot, source))
            db.executemany(
                "INSERT INTO lot_lists (lot, source, line, kind, value) VALUES (?, ?, ?, ?, ?)",
                [(lot, source, line, kind, value) for line, kind, value in entries],
            )
        return len(entries)

    def lot_lists(self, lot: str) -> list[tuple[str, int, str, str]]:
        rows = self._query("SELECT source, line, kind, value FROM lot_lists WHERE lot = ? ORDER BY id", (lot,))
        return [(r["source"], r["line"], r["kind"], r["value"]) for r in rows]


def _db_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _unit(row: sqlite3.Row) -> UnitRecord:
    data = dict(row)
    data["state"] = UnitState(data["state"])
    return UnitRecord(**data)


def _outbox(row: sqlite3.Row) -> OutboxItem:
    data = dict(row)
    data["payload"] = json.loads(data["payload"])
    data.pop("created_at", None)
    data.pop("done_at", None)
    return OutboxItem(**data)
