"""The device id check at identify: a label never seen on the line may still sit on a device already provisioned
at another station (a relabelled unit); once its device id is read the unit fails with the line's reason code, or
goes on with a warning, before any flash or cloud call."""

from __future__ import annotations

from pathlib import Path

from station.records.reason_code import ReasonCode
from station.workflow.events import EventKind, UnitEvent
from tests.conftest import MemoryKeyring
from tests.line.conftest import LineDb
from tests.line.stations import line_rows, simulated_station, start_line, wait_until


def test_a_device_passed_at_one_station_fails_under_another_label_at_the_next(
        tmp_path: Path, line_db: LineDb, memory_keyring: MemoryKeyring) -> None:
    first = simulated_station(tmp_path, "a", line_db, memory_keyring, devices=1)
    second = simulated_station(tmp_path, "b", line_db, memory_keyring, devices=0)
    device_id = first.devices[0].device_id.value
    relabelled = second.add_device(device_id=device_id)  # the same device, another serial number on its label
    assert relabelled.serial != first.devices[0].serial
    a, b = start_line(first, "LOT-D"), start_line(second, "LOT-D")
    try:
        assert a.scan(first.devices[0].label).result(60).state.value == "PASS"
        wait_until(lambda: line_rows(line_db, "SELECT device_id, state FROM line.units WHERE station = 'a'")
                   == [(device_id, "PASS")], 30, "the unit replicated")
        second.emulator.clear_request_log()

        result = b.scan(relabelled.label).result(60)  # the label itself is new to the line: the scan is taken

        assert result.state.value == "FAIL"
        assert result.reason_code == ReasonCode.ELSEWHERE_PASS.value
        assert result.failed_step == "identify"
        assert f"evice {device_id} already passed at station a" in result.reason
        assert "PASS tray" in result.action
        [unit] = b.journal.units("LOT-D")
        assert unit.device_id == device_id, "the device id is recorded before the check"
        steps = [s.step for s in b.journal.step_table.of_unit(unit.id)]
        assert "flash" not in steps and steps[-1] == "identify", steps
        assert not [r for r in second.emulator.request_log if device_id in r[1]], "no cloud call for the device"
    finally:
        a.close()
        b.close()
        first.close()
        second.close()


def test_warn_mode_tells_the_operator_of_a_device_in_progress_elsewhere_and_goes_on(
        tmp_path: Path, line_db: LineDb, memory_keyring: MemoryKeyring) -> None:
    sim = simulated_station(tmp_path, "b", line_db, memory_keyring, devices=1, on_duplicate="warn")
    device_id = sim.devices[0].device_id.value
    with line_db.connect() as conn:
        conn.execute("INSERT INTO line.units (station, local_id, lot, unit_key, serial, device_id, state, started_at) "
                     "VALUES ('a', 1, 'L', 'OTHERLABEL1', 'OTHERLABEL1', %s, 'in progress', 1)", (device_id,))
    line = start_line(sim, "LOT-E")
    notices: list[UnitEvent] = []
    line.events.subscribe(lambda e: notices.append(e) if e.kind is EventKind.NOTICE else None)
    try:
        assert line.scan(sim.devices[0].label).result(60).state.value == "PASS"
        assert any(n.message.startswith(f"Warning: device {device_id} is in progress at station a")
                   for n in notices), [n.message for n in notices]
    finally:
        line.close()
        sim.close()
