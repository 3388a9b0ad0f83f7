"""End to end: a quarantined device approved then flashed; a unit whose SIM belongs to another account."""

from __future__ import annotations

from pathlib import Path

from station.demo.simulated_line import SimulatedLine, build_simulated_line
from station.product.quarantine import approve, quarantined
from station.records.unit_table import UnitState

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
