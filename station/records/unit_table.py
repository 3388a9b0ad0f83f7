"""The units table: one row per unit of a lot (what it is, where it ran, how it ended), resumed when scanned again."""

from __future__ import annotations

import enum
import sqlite3
from dataclasses import dataclass
from typing import Any

from station.records.database import JournalDatabase, JournalError


class UnitState(enum.Enum):
    IN_PROGRESS = "in progress"
    PASS = "PASS"
    FAIL = "FAIL"
    CLOUD_PENDING = "cloud pending"
    """Everything on the device is done; cloud work waits in the outbox and will be retried."""
    NOT_CONFIRMED = "not confirmed"
    """Passed, but the cloud did not confirm the unit online within the time box (profile option)."""
    INTERRUPTED = "interrupted"
    """The station stopped (Ctrl-C, shutdown) while the unit ran: no outcome; scanning it again resumes it."""


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
    software_version: str | None = None
    """The station software (``particle-station --version``) that ran the unit's latest attempt."""
    device_result: str | None = None
    """How the device side of the latest attempt ended ('done', 'failed'), NULL while it runs (records/unit_state)."""
    reason_code: str | None = None
    """The stable code of a FAIL or 'not confirmed' (records/reason_code.py), beside ``reason``."""
    protection_on_arrival: str | None = None
    """The Device Protection state read at identify ('open', 'protected', 'service'); NULL where not readable."""
    protection_on_leaving: str | None = None
    """The state the unit left the line in (after a rework's RESET or protection at the end)."""
    tests_hash: str | None = None
    """The version (SHA-256) of the tests the unit's latest attempt ran (station.config.tests), None without tests."""


_UNIT_FIELDS = (
    "serial", "device_id", "platform", "device_os", "iccid", "imei", "firmware_version", "firmware_sha256", "slot",
    "operator", "station", "state", "reason", "action", "ended_at", "first_result", "cycle_seconds",
    "software_version", "reason_code", "protection_on_arrival", "protection_on_leaving", "tests_hash",
)
"""The columns a caller may set; the others are the table's own bookkeeping."""


class LotClosedError(JournalError):
    """A unit was started in a lot that an engineer has closed."""


class UnitTable:
    def __init__(self, db: JournalDatabase, *, software_version: str | None = None) -> None:
        self.db = db
        self.software_version = software_version
        """Recorded with every unit this process starts or resumes (``begin``)."""

    def begin(self, lot: str, unit_key: str, **fields: Any) -> tuple[UnitRecord, bool]:
        """Start a unit, or resume the one with this key in this lot. Returns the record and whether it is new.

        Raises LotClosedError when the lot is closed: a closed lot's records are final.
        """
        _check_fields(fields)
        if self.software_version is not None:
            fields.setdefault("software_version", self.software_version)
        now = self.db.now()
        with self.db.transaction() as db:
            closed = db.execute("SELECT closed_at FROM lots WHERE name = ?", (lot,)).fetchone()
            if closed is not None and closed[0] is not None:
                raise LotClosedError(f"lot {lot} is closed; its records are final: open the next lot to go on")
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
                # A new attempt: the first attempt's outcome stays as it was left; cloud work the earlier attempt
                # left unfinished is superseded (this attempt does its own), so only this attempt decides the state.
                db.execute(
                    "UPDATE units SET attempts = attempts + 1, first_result = COALESCE(first_result, "
                    "CASE WHEN state IN ('in progress', 'interrupted') THEN NULL ELSE state END), "
                    "state = ?, reason = NULL, action = NULL, reason_code = NULL, ended_at = NULL, "
                    "device_result = NULL, updated_at = ? WHERE id = ?",
                    (UnitState.IN_PROGRESS.value, now, row[0]),
                )
                db.execute("UPDATE outbox SET state = 'superseded' WHERE unit_id = ? AND state != 'done'", (row[0],))
                created = False
        unit = self.by_key(lot, unit_key)
        assert unit is not None
        if fields and not created:
            unit = self.update(unit.id, **fields)
        return unit, created

    def update(self, unit_id: int, **fields: Any) -> UnitRecord:
        _check_fields(fields)
        if fields:
            assignments = ", ".join(f"{name} = ?" for name in fields)
            with self.db.transaction() as db:
                db.execute(
                    f"UPDATE units SET {assignments}, updated_at = ? WHERE id = ?",
                    (*(_db_value(v) for v in fields.values()), self.db.now(), unit_id),
                )
        unit = self.get(unit_id)
        if unit is None:
            raise JournalError(f"journal {self.db.path}: unit {unit_id} does not exist")
        return unit

    def get(self, unit_id: int) -> UnitRecord | None:
        rows = self.db.query("SELECT * FROM units WHERE id = ?", (unit_id,))
        return _unit(rows[0]) if rows else None

    def by_key(self, lot: str, unit_key: str) -> UnitRecord | None:
        rows = self.db.query("SELECT * FROM units WHERE lot = ? AND unit_key = ?", (lot, unit_key))
        return _unit(rows[0]) if rows else None

    def all(self, lot: str | None = None) -> list[UnitRecord]:
        """The units of a lot (or of every lot), in the order they were first scanned."""
        if lot is None:
            return [_unit(r) for r in self.db.query("SELECT * FROM units ORDER BY id")]
        return [_unit(r) for r in self.db.query("SELECT * FROM units WHERE lot = ? ORDER BY id", (lot,))]

    def changed_since(self, lot: str, since: float) -> list[UnitRecord]:
        rows = self.db.query("SELECT * FROM units WHERE lot = ? AND updated_at >= ? ORDER BY id", (lot, since))
        return [_unit(r) for r in rows]

    def search(self, text: str, limit: int = 200) -> list[UnitRecord]:
        """Units whose serial or device id contains ``text`` (case-insensitive), newest first."""
        pattern = f"%{text.strip().lower()}%"
        rows = self.db.query(
            "SELECT * FROM units WHERE LOWER(serial) LIKE ? OR LOWER(device_id) LIKE ? ORDER BY updated_at DESC "
            "LIMIT ?",
            (pattern, pattern, limit),
        )
        return [_unit(r) for r in rows]


def _check_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(_UNIT_FIELDS)
    if unknown:
        raise ValueError(f"unknown unit fields: {sorted(unknown)}")


def _db_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _unit(row: sqlite3.Row) -> UnitRecord:
    data = dict(row)
    data["state"] = UnitState(data["state"])
    return UnitRecord(**data)
