"""End to end: a quarantined device approved then flashed; a unit whose SIM belongs to another account."""

from __future__ import annotations

from pathlib import Path

from station.demo.simulated_line import SimulatedLine, build_simulated_line
from station.product.quarantine import approve, quarantined
from station.records.journal import JOURNAL_NAME, Journal
from station.records.reason_code import ReasonCode
from station.records.unit_table import UnitState
from station.workflow.events import EventKind, UnitEvent

from .conftest import make_line


def test_a_quarantined_device_approved_by_the_engineer_is_then_provisioned(sim: SimulatedLine) -> None:
    device = sim.devices[0]
    product = sim.profile.product_id
    sim.emulator.device_connects(device.device_id.value, product, 7, "6.2.0")  # runs product firmware, unknown
    sim.emulator.device_disconnects(device.device_id.value)
    with sim.cloud() as cloud:
        assert [q.device_id.value for q in quarantined(cloud, product)] == [device.device_id.value]
        approve(cloud, product, device.device_id)
        assert quarantined(cloud, product) == []
    with make_line(sim) as line:
        result = line.scan(device.label).result(timeout=60)
    assert result.state is UnitState.PASS, result.reason
    stored = next(d for d in sim.emulator.snapshot()["devices"] if d["id"] == device.device_id.value)
    assert stored["product_id"] == product and stored["quarantined"] is False
    assert device.running_user_part is not None and device.running_user_part.product == (product, 7)


def test_a_sim_owned_by_another_account_fails_the_unit_with_that_reason(tmp_path: Path) -> None:
    # sim_activation = "always" checks each SIM at the line; "auto" (the default) trusts the device import.
    sim = build_simulated_line(tmp_path / "always", platform="boron", devices=1,
                               steps='pre_add = true\nsim_activation = "always"\nclaim = "product-owner"\n')
    try:
        _fails_with_foreign_sim(sim)
    finally:
        sim.close()


def _fails_with_foreign_sim(sim: SimulatedLine) -> None:
    device = sim.devices[0]
    assert device.iccid is not None
    sim.emulator.add_user("someone@else.example", "pw")
    sim.emulator.add_sim(device.iccid.value, owner="someone@else.example")
    with make_line(sim) as line:
        result = line.scan(device.label).result(timeout=60)
    assert result.state is UnitState.FAIL
    assert result.failed_step == "activate_sim"
    assert "SIM card in this unit belongs to another Particle account" in result.reason


def test_under_auto_a_sim_owned_elsewhere_is_caught_from_the_product_sim_list(
    sim: SimulatedLine, events: list[UnitEvent]
) -> None:
    # "auto" makes no SIM call per unit: the SIMs the imports brought in are read from the product's SIM list, for
    # many units at once (here when the line closes), and the unit whose SIM stayed with another account is flagged.
    foreign = sim.devices[0]
    others = [sim.add_device() for _ in range(2)]
    assert foreign.iccid is not None
    sim.emulator.add_user("someone@else.example", "pw")
    sim.emulator.add_sim(foreign.iccid.value, owner="someone@else.example", status="active")
    line = make_line(sim, events)
    with line:
        sim.emulator.clear_request_log()
        results = [line.scan(device.label).result(timeout=60) for device in (foreign, *others)]
        assert [r.state for r in results] == [UnitState.PASS] * 3  # the import's reply does not tell
        during = sim.emulator.request_log
    assert not [path for _, path, _ in during if "/sims" in path]
    sims_reads = [(m, p) for m, p, _ in sim.emulator.request_log[len(during):] if "/sims" in p]
    assert sims_reads == [("GET", f"/v1/products/{sim.profile.product_id}/sims"),
                          ("HEAD", f"/v1/sims/{foreign.iccid.value}")]
    with Journal(sim.profile.log_folder / JOURNAL_NAME) as journal:
        units = {u.unit_key: u for u in journal.unit_table.all(line.lot)}
    flagged = units[results[0].unit_key]
    assert (flagged.state, flagged.reason_code) == (UnitState.FAIL, ReasonCode.SIM_OWNED_ELSEWHERE.value)
    assert "belongs to another Particle account" in flagged.reason
    assert {units[r.unit_key].state for r in results[1:]} == {UnitState.PASS}
    assert [e.unit_key for e in events if e.kind is EventKind.UNIT_UPDATED and e.status == "FAIL"] == [
        results[0].unit_key]


def test_the_sim_list_is_read_once_for_a_batch_of_units_while_the_line_runs(
    sim: SimulatedLine, events: list[UnitEvent]
) -> None:
    foreign = sim.devices[0]
    second = sim.add_device()
    assert foreign.iccid is not None
    sim.emulator.add_user("someone@else.example", "pw")
    sim.emulator.add_sim(foreign.iccid.value, owner="someone@else.example", status="active")
    with make_line(sim, events) as line:
        roster = line.runner.cloud_steps.sims
        assert roster is not None
        roster.batch = 2
        sim.emulator.clear_request_log()
        first = line.scan(foreign.label).result(timeout=60)
        assert first.state is UnitState.PASS and roster.waiting == 1
        assert line.scan(second.label).result(timeout=60).state is UnitState.PASS
        lists = [p for m, p, _ in sim.emulator.request_log if m == "GET" and p.endswith("/sims")]
        assert lists == [f"/v1/products/{sim.profile.product_id}/sims"]  # one read for both units
        assert roster.waiting == 0
        notices = [e for e in events if e.kind is EventKind.NOTICE and e.unit_key == first.unit_key]
        assert notices and "belongs to another Particle account" in notices[0].message
        with Journal(sim.profile.log_folder / JOURNAL_NAME) as journal:
            flagged = journal.unit_table.by_key(line.lot, first.unit_key)
        assert flagged is not None and flagged.reason_code == ReasonCode.SIM_OWNED_ELSEWHERE.value


def test_a_flagged_unit_scanned_again_has_its_sim_checked_again(sim: SimulatedLine) -> None:
    foreign = sim.devices[0]
    assert foreign.iccid is not None
    sim.emulator.add_user("someone@else.example", "pw")
    sim.emulator.add_sim(foreign.iccid.value, owner="someone@else.example", status="active")
    for _ in range(2):
        with make_line(sim) as line:
            result = line.scan(foreign.label).result(timeout=60)
        with Journal(sim.profile.log_folder / JOURNAL_NAME) as journal:
            unit = journal.unit_table.by_key(line.lot, result.unit_key)
        assert unit is not None and unit.reason_code == ReasonCode.SIM_OWNED_ELSEWHERE.value
        assert unit.state is UnitState.FAIL


def test_under_auto_a_sim_missing_from_the_list_is_not_failed_without_the_cloud_saying_whose_it_is(
    sim: SimulatedLine,
) -> None:
    # The list misses the SIM, but HEAD /v1/sims/:iccid gets no answer (5xx): nothing says another account owns it,
    # so the unit that passed stays PASS (the SIM waits for a later read) rather than being failed on a guess.
    device = sim.devices[0]
    assert device.iccid is not None
    sim.emulator.add_user("someone@else.example", "pw")
    sim.emulator.add_sim(device.iccid.value, owner="someone@else.example", status="active")
    line = make_line(sim)
    with line:
        result = line.scan(device.label).result(timeout=60)
        assert result.state is UnitState.PASS
        sim.emulator.set_faults(error_rate=1.0, methods=("HEAD",))
    heads = [(m, p, s) for m, p, s in sim.emulator.request_log if m == "HEAD" and "/sims/" in p]
    assert heads and all(status >= 500 for _, _, status in heads)
    with Journal(sim.profile.log_folder / JOURNAL_NAME) as journal:
        unit = journal.unit_table.by_key(line.lot, result.unit_key)
    assert unit is not None and (unit.state, unit.reason_code) == (UnitState.PASS, None)
