"""Every failure carries a stable reason code beside its sentence, in the result and in the journal."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hardware.identifiers import LabelScan
from station.demo.simulated_line import SimulatedLine
from station.records.database import SCHEMA_VERSION
from station.records.journal import Journal
from station.records.reason_code import ReasonCode
from station.records.unit_table import UnitState

from .conftest import make_line


def test_a_known_unit_whose_slot_now_holds_another_device_fails_with_label_mismatch(sim: SimulatedLine) -> None:
    other = LabelScan.parse("B40TZZ000000001 ABCDEFGHJKLMNPQ")
    with make_line(sim) as line:
        line.journal.unit_table.begin(line.lot, other.serial.value)  # scanned before: a unit, resumed, not refused
        result = line.scan(other).result(timeout=60)
        unit = line.journal.unit_table.by_key(line.lot, result.unit_key)
    assert result.state is UnitState.FAIL
    assert result.reason_code == ReasonCode.LABEL_MISMATCH
    assert unit is not None and unit.reason_code == ReasonCode.LABEL_MISMATCH and unit.reason == result.reason


def test_a_known_unit_whose_device_is_gone_fails_with_device_not_found(sim: SimulatedLine) -> None:
    device = sim.devices[0]
    with make_line(sim) as line:
        line.journal.unit_table.begin(line.lot, device.serial.value)  # type: ignore[union-attr]
        device.unplug()
        result = line.scan(device.label).result(timeout=60)
        unit = line.journal.unit_table.by_key(line.lot, result.unit_key)
    assert result.state is UnitState.FAIL, result.reason
    assert unit is not None and unit.reason_code == ReasonCode.DEVICE_NOT_FOUND


def test_a_passing_unit_has_no_reason_code(sim: SimulatedLine) -> None:
    with make_line(sim) as line:
        result = line.scan(sim.devices[0].label).result(timeout=60)
        unit = line.journal.unit_table.by_key(line.lot, result.unit_key)
    assert result.state is UnitState.PASS and unit is not None and unit.reason_code is None


def test_a_journal_of_schema_1_gains_the_reason_code_columns(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    old = sqlite3.connect(path)
    old.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema', '1');
        CREATE TABLE lots (name TEXT PRIMARY KEY, station TEXT NOT NULL, product_id INTEGER NOT NULL,
            profile TEXT NOT NULL, operator TEXT NOT NULL, created_at REAL NOT NULL, closed_at REAL);
        CREATE TABLE units (id INTEGER PRIMARY KEY, lot TEXT NOT NULL REFERENCES lots(name), unit_key TEXT NOT NULL,
            serial TEXT, device_id TEXT, platform TEXT, device_os TEXT, iccid TEXT, imei TEXT,
            firmware_version INTEGER, firmware_sha256 TEXT, slot INTEGER, operator TEXT, station TEXT,
            state TEXT NOT NULL, reason TEXT, action TEXT, attempts INTEGER NOT NULL DEFAULT 1,
            started_at REAL NOT NULL, ended_at REAL, first_result TEXT, cycle_seconds REAL, updated_at REAL NOT NULL,
            UNIQUE (lot, unit_key));
        CREATE TABLE outbox (id INTEGER PRIMARY KEY, unit_id INTEGER REFERENCES units(id), operation TEXT NOT NULL,
            payload TEXT NOT NULL, idem_key TEXT NOT NULL UNIQUE, state TEXT NOT NULL, attempts INTEGER NOT NULL,
            next_attempt_at REAL NOT NULL, last_error TEXT, created_at REAL NOT NULL, done_at REAL);
        INSERT INTO lots VALUES ('L1', 'S', 1, 'p.toml', 'ann', 1.0, NULL);
        INSERT INTO units (lot, unit_key, state, reason, started_at, updated_at)
            VALUES ('L1', 'U1', 'FAIL', 'cable pulled', 1.0, 1.0);
    """)
    old.commit()
    old.close()
    with Journal(path) as journal:
        (unit,) = journal.units("L1")
        assert unit.state is UnitState.FAIL and unit.reason == "cable pulled" and unit.reason_code is None
        schema = journal.db.query("SELECT value FROM meta WHERE key = 'schema'")[0]["value"]
        assert int(schema) == SCHEMA_VERSION >= 3
        columns = {row["name"] for row in journal.db.query("PRAGMA table_info(outbox)")}
        assert "error_code" in columns
