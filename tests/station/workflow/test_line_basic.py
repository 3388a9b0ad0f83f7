"""One unit through the whole line: simulated device over pyusb, emulated cloud over sockets."""

from __future__ import annotations

from hardware.identifiers import LabelScan
from station.demo.simulated_line import SimulatedLine
from station.records.step_table import StepStatus
from station.records.unit_table import UnitState
from station.workflow.events import EventKind, UnitEvent

from .conftest import make_line


def test_happy_path_flashes_adds_activates_claims_and_records(sim: SimulatedLine, events: list[UnitEvent]) -> None:
    device = sim.devices[0]
    with make_line(sim, events) as line:
        result = line.scan(device.label).result(timeout=60)
        assert result.state is UnitState.PASS, result.reason
        unit = line.journal.unit_table.by_key(line.lot, device.serial.value)  # type: ignore[union-attr]
        assert unit is not None
        recorded = line.journal.step_table.of_unit(unit.id)
        steps = {s.step: s.status for s in recorded}
    # The import activated the SIM (docs.particle.io Cloud API, 'Import devices into product'): no SIM step.
    [pre_add] = [s for s in recorded if s.step == "pre_add"]
    assert pre_add.detail["sim"] == "imported and activated with the device"
    assert steps == {
        "find": StepStatus.PASSED, "identify": StepStatus.PASSED, "check_label": StepStatus.PASSED,
        "validate_firmware": StepStatus.PASSED, "flash": StepStatus.PASSED, "final_check": StepStatus.PASSED,
        "pre_add": StepStatus.PASSED, "claim": StepStatus.PASSED,
        "update_device": StepStatus.PASSED, "setup_done": StepStatus.SKIPPED,
    }
    assert unit.device_id == device.device_id.value
    assert unit.iccid == device.iccid.value  # type: ignore[union-attr]
    running = device.running_user_part
    assert running is not None and running.version == 6
    state = sim.emulator.snapshot()
    [cloud_device] = [d for d in state["devices"] if d["id"] == device.device_id.value]
    assert cloud_device["product_id"] == sim.profile.product_id
    assert cloud_device["owner"] == "factory@example.com"
    assert cloud_device["groups"] == ["line-a"]
    [sim_card] = [s for s in state["sims"] if s["iccid"] == device.iccid.value]  # type: ignore[union-attr]
    assert sim_card["product_id"] == sim.profile.product_id
    assert sim_card["owner"] == "factory@example.com"
    assert events[0].kind is EventKind.UNIT_STARTED
    assert events[-1].kind is EventKind.UNIT_FINISHED and events[-1].status == "PASS"


def test_label_of_a_known_unit_on_another_device_is_a_fail_showing_both(sim: SimulatedLine) -> None:
    other = LabelScan.parse("B40TZZ000000001 ABCDEFGHJKLMNPQ")
    with make_line(sim) as line:
        # scanned before, so a unit that resumes (a label new to the lot is refused: test_mis_scans.py)
        line.journal.unit_table.begin(line.lot, other.serial.value)
        result = line.scan(other).result(timeout=60)
    assert result.state is UnitState.FAIL
    assert "B40TZZ000000001" in result.reason and sim.devices[0].serial.value in result.reason  # type: ignore[union-attr]
    assert result.failed_step == "check_label"
