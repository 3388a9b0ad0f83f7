"""Cross-station checks at scan time: a label already PASS (or in progress) at another station is refused before
a unit starts, or warned about when the profile says so; an unreachable line database is said once."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.line.cross_check import Verdict
from station.records.reason_code import ReasonCode
from station.workflow.events import EventKind, UnitEvent
from station.workflow.line import ScanRefused
from tests.conftest import MemoryKeyring
from tests.line.conftest import LineDb
from tests.line.stations import line_rows, simulated_station, start_line, wait_until


def test_a_label_passed_at_one_station_is_refused_at_the_next(
        tmp_path: Path, line_db: LineDb, memory_keyring: MemoryKeyring) -> None:
    first = simulated_station(tmp_path, "a", line_db, memory_keyring, devices=1)
    second = simulated_station(tmp_path, "b", line_db, memory_keyring, devices=0)
    a, b = start_line(first, "LOT-X"), start_line(second, "LOT-X")
    try:
        label = first.devices[0].label
        assert a.scan(label).result(60).state.value == "PASS"
        wait_until(lambda: line_rows(line_db, "SELECT state FROM line.units WHERE station = 'a'") == [("PASS",)],
                   30, "the unit replicated")
        with pytest.raises(ScanRefused, match="already passed at station a") as refused:
            b.scan(label)
        assert refused.value.code == ReasonCode.ELSEWHERE_PASS.value
        scans = b.journal.refused_scan_table.of_lot("LOT-X")
        assert [(s.label, s.reason_code) for s in scans] == [(first.devices[0].serial.value, "elsewhere_pass")]  # type: ignore[union-attr]
        assert b.journal.units("LOT-X") == [], "no unit started at the second station"
    finally:
        a.close()
        b.close()
        first.close()
        second.close()


def test_a_label_in_progress_elsewhere_is_refused_and_a_failed_one_is_not(
        tmp_path: Path, line_db: LineDb, memory_keyring: MemoryKeyring) -> None:
    sim = simulated_station(tmp_path, "b", line_db, memory_keyring, devices=0)
    with line_db.connect() as conn:
        conn.execute("INSERT INTO line.units (station, local_id, lot, unit_key, serial, device_id, state, started_at) "
                     "VALUES ('a', 1, 'L', 'B40TAAA12345671', 'B40TAAA12345671', 'e00fce68aaaaaaaaaaaaaaa1', "
                     "'in progress', 1), ('a', 2, 'L', 'B40TAAA12345672', 'B40TAAA12345672', NULL, 'FAIL', 1)")
    line = start_line(sim, "LOT-Y")
    try:
        with pytest.raises(ScanRefused, match="in progress at station a") as refused:
            line.scan("B40TAAA12345671")
        assert refused.value.code == ReasonCode.ELSEWHERE_IN_PROGRESS.value
        assert line.line_feed is not None
        assert line.line_feed.verdict("B40TAAA12345672") is None, "a unit that failed elsewhere may be tried here"
        by_device = line.line_feed.verdict(None, "e00fce68aaaaaaaaaaaaaaa1")
        assert isinstance(by_device, Verdict) and by_device.code is ReasonCode.ELSEWHERE_IN_PROGRESS
        assert "device e00fce68aaaaaaaaaaaaaaa1 is in progress at station a" in by_device.sentence
    finally:
        line.close()
        sim.close()


def test_warn_mode_tells_the_operator_and_lets_the_unit_start(
        tmp_path: Path, line_db: LineDb, memory_keyring: MemoryKeyring) -> None:
    sim = simulated_station(tmp_path, "b", line_db, memory_keyring, devices=1, on_duplicate="warn")
    label = sim.devices[0].label
    serial = sim.devices[0].serial.value  # type: ignore[union-attr]
    with line_db.connect() as conn:
        conn.execute("INSERT INTO line.units (station, local_id, lot, unit_key, serial, state, started_at, "
                     "ended_at) VALUES ('a', 1, 'L', %s, %s, 'PASS', 1, 2)", (serial, serial))
    line = start_line(sim, "LOT-W")
    notices: list[UnitEvent] = []
    line.events.subscribe(lambda e: notices.append(e) if e.kind is EventKind.NOTICE else None)
    try:
        assert line.scan(label).result(60).state.value == "PASS"
        assert any(n.message.startswith("Warning: label") and "station a" in n.message for n in notices)
    finally:
        line.close()
        sim.close()


def test_an_unreachable_line_database_is_said_once_and_the_station_goes_on(
        tmp_path: Path, line_db: LineDb, memory_keyring: MemoryKeyring) -> None:
    sim = simulated_station(tmp_path, "a", line_db, memory_keyring, devices=2)
    line_db.server.stop()
    line = start_line(sim, "LOT-U")
    notices: list[UnitEvent] = []
    line.events.subscribe(lambda e: notices.append(e) if e.kind is EventKind.NOTICE else None)
    try:
        for device in sim.devices:
            assert line.scan(device.label).result(60).state.value == "PASS"
        said = [n.message for n in notices if "line database cannot be reached" in n.message]
        assert len(said) == 1
        assert "pw-a" not in said[0], "no credential in what the station says"
    finally:
        line.close()
        sim.close()
        line_db.server.start()
