"""The cloud going down mid-unit: the unit ends 'cloud pending', the outbox finishes the work once, then PASS."""

from __future__ import annotations

import time
from collections import Counter

from station.demo.simulated_line import SimulatedLine
from station.records.step_table import StepStatus
from station.records.unit_table import UnitState
from station.workflow.events import EventKind, UnitEvent
from station.workflow.line import Line
from station.workflow.lot import prepare_lot

from .conftest import make_line


def wait_for(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_outage_after_pre_add_then_recovery_passes_without_duplicates(sim: SimulatedLine) -> None:
    device = sim.devices[0]
    updates: list[UnitEvent] = []

    def cut_the_cloud(event: UnitEvent) -> None:
        if event.kind is EventKind.STEP_ENDED and event.step == "pre_add" and event.status == "passed":
            sim.emulator.set_faults(error_rate=1.0)
        if event.kind is EventKind.UNIT_UPDATED:
            updates.append(event)

    with make_line(sim) as line:
        line.events.subscribe(cut_the_cloud)
        result = line.scan(device.label).result(timeout=60)
        assert result.state is UnitState.CLOUD_PENDING, result.reason
        unit = line.journal.unit_table.by_key(line.lot, result.unit_key)
        assert unit is not None and unit.state is UnitState.CLOUD_PENDING
        assert [i.operation for i in line.journal.outbox_table.pending_for_unit(unit.id)] == [
            "update_device", "claim"
        ]
        sim.emulator.set_faults(error_rate=0.0)
        wait_for(lambda: line.journal.count_pending() == 0)
        wait_for(lambda: updates)
        unit = line.journal.unit_table.get(unit.id)
        assert unit is not None and unit.state is UnitState.PASS
        latest = line.journal.step_table.passed(unit.id)
        assert {"claim", "update_device"} <= {k for k, v in latest.items()
                                                              if v.status is StepStatus.PASSED}
    assert updates[-1].status == "PASS"
    ok = Counter((method, path) for method, path, status in sim.emulator.request_log if status < 300)
    product = sim.profile.product_id
    assert ok[("POST", f"/v1/products/{product}/devices")] == 1
    assert ok[("POST", "/v1/devices")] == 1
    assert ok[("PUT", f"/v1/products/{product}/devices/{device.device_id.value}")] == 1
    cloud_device = next(d for d in sim.emulator.snapshot()["devices"] if d["id"] == device.device_id.value)
    assert cloud_device["owner"] == "factory@example.com" and cloud_device["groups"] == ["line-a"]


def test_pending_cloud_work_survives_a_restart_of_the_line(sim: SimulatedLine) -> None:
    device = sim.devices[0]
    sim.emulator.set_faults(error_rate=1.0)
    with make_line(sim) as line:
        result = line.scan(device.label).result(timeout=60)
        lot = line.lot
        assert result.state is UnitState.CLOUD_PENDING
        line.outbox.stop()
    sim.emulator.set_faults(error_rate=0.0)
    with make_line(sim, lot=lot) as again:
        wait_for(lambda: again.journal.count_pending() == 0)
        unit = again.journal.unit_table.by_key(lot, result.unit_key)
        assert unit is not None
        wait_for(lambda: again.journal.unit_table.get(unit.id).state is UnitState.PASS)  # type: ignore[union-attr]
    cloud_device = next(d for d in sim.emulator.snapshot()["devices"] if d["id"] == device.device_id.value)
    assert cloud_device["product_id"] == sim.profile.product_id


def test_a_cloud_answering_5xx_costs_a_unit_one_request_and_its_cloud_work_goes_to_the_outbox(
        sim: SimulatedLine) -> None:
    device = sim.devices[0]
    patient = sim.cloud(max_retries=4)  # the client would try each call five times
    with Line(prepare_lot(sim.profile, patient), link=sim.link(), operator="ann", find_timeout=1.0,
              outbox_poll=0.05, outbox_base_delay=0.05).start() as line:
        line.outbox.stop()  # only the unit's own calls reach the cloud while it runs
        lot = line.lot
        sim.emulator.clear_request_log()
        sim.emulator.set_faults(error_rate=1.0)  # connections are accepted; every request is answered 503
        result = line.scan(device.label).result(timeout=120)
        assert result.state is UnitState.CLOUD_PENDING, result.reason
        assert [status for _, _, status in sim.emulator.request_log] == [503]
        unit = line.journal.unit_table.by_key(lot, result.unit_key)
        assert unit is not None
        queued = [item.operation for item in line.journal.outbox_table.pending_for_unit(unit.id)]
        pre_add = [s for s in line.journal.step_table.of_unit(unit.id) if s.step == "pre_add"]
    assert queued[0] == "pre_add" and {"update_device", "claim"} <= set(queued)
    assert pre_add[-1].status is StepStatus.PENDING and "cloud unavailable, queued" in str(pre_add[-1].detail)
    sim.emulator.set_faults()
    with make_line(sim, lot=lot) as again:
        wait_for(lambda: again.journal.count_pending() == 0)
        wait_for(lambda: again.journal.unit_table.get(unit.id).state is UnitState.PASS)  # type: ignore[union-attr]
