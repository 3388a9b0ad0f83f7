"""A mis-scan is not a unit: refused before a unit exists, with one sentence saying what to do, counted apart."""

from __future__ import annotations

import pytest

from station.demo.simulated_line import SimulatedLine
from station.records.unit_table import UnitState
from station.workflow.line import LineError, ScanRefused

from .conftest import make_line

P2_LABEL = "P046ZZ000000001 ABCDEFGHJKLMNPQ"
OTHER_BORON_LABEL = "B40TZZ000000001 ABCDEFGHJKLMNPQ"
"""A well-formed Boron label whose unit is not on the bench."""


def test_a_p2_label_on_a_boron_line_is_refused_at_once_and_is_not_a_unit(sim: SimulatedLine) -> None:
    with make_line(sim) as line:
        with pytest.raises(ScanRefused) as refused:
            line.scan(P2_LABEL)
        assert refused.value.code == "wrong_platform"
        assert "P046ZZ000000001" in str(refused.value) and "Boron" in str(refused.value)
        assert line.journal.units(line.lot) == []
        figures = line.counts()
    assert (figures.units, figures.refused_scans, figures.yield_rate) == (0, 1, None)


def test_a_label_with_no_device_behind_it_is_refused_after_the_find_time_out(sim: SimulatedLine) -> None:
    device = sim.devices[0]
    device.unplug()
    with make_line(sim) as line:
        with pytest.raises(ScanRefused) as refused:
            line.scan(device.label).result(timeout=60)
        assert refused.value.code == "device_not_found"
        assert "plug the unit in" in str(refused.value)
        assert line.journal.units(line.lot) == []
        (scan,) = line.journal.refused_scan_table.of_lot(line.lot)
        assert scan.reason_code == "device_not_found" and scan.label == device.serial.value  # type: ignore[union-attr]


def test_a_label_whose_device_is_not_the_one_plugged_in_is_a_refused_scan_not_a_failed_unit(
        sim: SimulatedLine) -> None:
    with make_line(sim) as line:
        with pytest.raises(ScanRefused) as refused:
            line.scan(OTHER_BORON_LABEL).result(timeout=60)
        assert refused.value.code == "label_mismatch"
        assert "B40TZZ000000001" in str(refused.value) and "another serial number" in str(refused.value)
        assert line.journal.units(line.lot) == []
        (scan,) = line.journal.refused_scan_table.of_lot(line.lot)
        assert scan.reason_code == "label_mismatch"  # type: ignore[union-attr]
        figures = line.counts()
    assert (figures.units, figures.failed, figures.refused_scans, figures.yield_rate) == (0, 0, 1, None)


def test_a_label_matching_none_of_several_devices_on_the_slot_is_a_refused_scan(sim: SimulatedLine) -> None:
    sim.add_device()
    sim.add_device()
    with make_line(sim) as line:
        with pytest.raises(ScanRefused) as refused:
            line.scan(OTHER_BORON_LABEL, slot=0).result(timeout=60)
        assert refused.value.code == "label_mismatch" and "the 3 devices plugged in" in str(refused.value)
        assert line.journal.units(line.lot) == []
        good = line.scan(sim.devices[2].label, slot=0).result(timeout=60)  # the line goes on with a right label
        assert good.state is UnitState.PASS, good.reason


def test_a_device_that_cannot_tell_its_serial_still_makes_a_unit_that_fails_its_label_check(
        sim: SimulatedLine) -> None:
    sim.devices[0].unplug()
    sim.add_device(serial_provisioned=False)
    with make_line(sim) as line:
        result = line.scan(OTHER_BORON_LABEL).result(timeout=60)
        assert line.refused_scans() == 0
    assert result.state is UnitState.FAIL and result.reason_code == "label_mismatch", result.reason


def test_a_unit_already_pass_is_refused_and_only_an_engineer_reworks_it(sim: SimulatedLine) -> None:
    device = sim.devices[0]
    with make_line(sim) as line:
        first = line.scan(device.label).result(timeout=60)
        assert first.state is UnitState.PASS, first.reason
        with pytest.raises(ScanRefused) as refused:
            line.scan(device.label)
        assert refused.value.code == "already_passed" and "PASS tray" in str(refused.value)
        again = line.scan(device.label, rework=True).result(timeout=60)
        assert again.state is UnitState.PASS, again.reason
        (unit,) = line.journal.units(line.lot)
        assert unit.attempts == 2
        assert "rework" in [s.step for s in line.journal.step_table.of_unit(unit.id)]
        figures = line.counts()
    assert (figures.units, figures.passed, figures.refused_scans, figures.reworked) == (1, 1, 1, 1)


def test_rework_of_a_unit_that_is_not_pass_is_refused_and_is_no_refused_scan(sim: SimulatedLine) -> None:
    with make_line(sim) as line:
        with pytest.raises(LineError, match="nothing to rework"):
            line.scan(sim.devices[0].label, rework=True)
        assert line.journal.units(line.lot) == [] and line.refused_scans() == 0
