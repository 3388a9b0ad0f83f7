"""A unit's final state comes from the journal, whoever finishes last: the runner (device steps) or the outbox."""

from __future__ import annotations

import threading
import time

from station.demo.simulated_line import SimulatedLine
from station.records.step_table import StepStatus
from station.records.unit_table import UnitState
from station.workflow.events import EventKind, UnitEvent

from .conftest import make_line


def wait_for(predicate: object, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def test_outbox_finishing_before_the_device_steps_end_leaves_the_unit_pass(sim: SimulatedLine) -> None:
    """Cloud down at scan time, back after the first queued pre_add; the outbox empties while the device still
    works. The runner finishing last must not leave 'cloud pending' with nothing waiting."""
    device = sim.devices[0]
    sim.emulator.set_faults(error_rate=1.0)
    outbox_emptied = threading.Event()
    with make_line(sim) as line:

        def done_items() -> int:
            rows = line.journal.db.query("SELECT COUNT(*) AS n FROM outbox WHERE state = 'done'")
            return int(rows[0]["n"])

        def steer(event: UnitEvent) -> None:
            if event.kind is EventKind.STEP_ENDED and event.step == "pre_add" and event.status == "pending":
                sim.emulator.set_faults(error_rate=0.0)
                line.outbox.wake()
            # hold the device side (its last step) until the outbox has finished the cloud work: pre_add (which
            # activates the SIM too), update, claim
            if (event.kind is EventKind.STEP_STARTED and event.step == "final_check"
                    and wait_for(lambda: line.journal.count_pending() == 0 and done_items() == 3)):
                outbox_emptied.set()

        line.events.subscribe(steer)
        result = line.scan(device.label).result(timeout=60)
        assert outbox_emptied.is_set()
        unit = line.journal.unit_table.by_key(line.lot, result.unit_key)
        assert unit is not None
        assert line.journal.outbox_table.pending_for_unit(unit.id) == []
        assert result.state is UnitState.PASS, result.reason
        assert unit.state is UnitState.PASS, unit.reason


def test_rescanning_a_cloud_pending_unit_does_its_cloud_work_for_real(sim: SimulatedLine) -> None:
    """Rescanned before the outbox retried: the queued update/claim are not 'done on an earlier attempt'."""
    device = sim.devices[0]
    sim.emulator.set_faults(error_rate=1.0)
    with make_line(sim) as line:
        line.outbox.stop()  # the outbox does not retry before the rescan
        first = line.scan(device.label).result(timeout=60)
        assert first.state is UnitState.CLOUD_PENDING, first.reason
        sim.emulator.set_faults(error_rate=0.0)
        again = line.scan(device.label).result(timeout=60)
        assert again.state is UnitState.PASS, again.reason
        unit = line.journal.unit_table.by_key(line.lot, again.unit_key)
        assert unit is not None and unit.state is UnitState.PASS
        steps = line.journal.step_table.of_unit(unit.id)
        cloud_work = ("update_device", "claim")  # the SIM is activated by the import itself
        checked = [s.step for s in steps if s.detail.get("checked") and s.step in cloud_work]
        assert checked == [], checked
        latest = line.journal.step_table.passed(unit.id)
        assert {"update_device", "claim"} <= {k for k, v in latest.items()
                                                             if v.status is StepStatus.PASSED}
        assert line.journal.count_pending() == 0
    cloud_device = next(d for d in sim.emulator.snapshot()["devices"] if d["id"] == device.device_id.value)
    assert cloud_device["owner"] == "factory@example.com"
    assert cloud_device["groups"] == ["line-a"]
