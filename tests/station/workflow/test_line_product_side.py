"""The product's side of the line, end to end: released firmware vs the lot's, and online confirmation."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from station.config.profile import ConfirmFailure, FirmwareVersionPolicy, OnlineConfirmation, StationProfile
from station.demo.simulated_line import SimulatedLine, build_simulated_line, product_firmware
from station.records.unit_table import UnitState
from station.workflow.line import Line
from station.workflow.lot import LotPreparationError, prepare_lot


def release_v8(sim: SimulatedLine) -> None:
    """The product has v7 (what the lot flashes) uploaded and releases v8 as its default."""
    platform, product = sim.profile.platform, sim.profile.product_id
    sim.emulator.add_firmware(product, 7, sim.profile.firmware.file.read_bytes())  # type: ignore[union-attr]
    sim.emulator.add_firmware(product, 8, product_firmware(platform, product, 8), released=True)


def profile_with(sim: SimulatedLine, policy: FirmwareVersionPolicy, *, confirm_s: float | None = None,
                 on_timeout: ConfirmFailure = ConfirmFailure.FAIL) -> StationProfile:
    profile = dataclasses.replace(
        sim.profile, firmware=dataclasses.replace(sim.profile.firmware, version_policy=policy)
    )
    if confirm_s is not None:
        profile = dataclasses.replace(profile, confirm=OnlineConfirmation(True, confirm_s, on_timeout))
    return profile


def new_line(sim: SimulatedLine, profile: StationProfile) -> Line:
    return Line(prepare_lot(profile, sim.cloud(max_retries=1)), link=sim.link(), operator="ann", find_timeout=1.0,
                outbox_poll=0.05, outbox_base_delay=0.05).start()


def wait_for_state(line: Line, key: str, wanted: set[UnitState], timeout: float = 30.0) -> UnitState:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        unit = line.journal.unit_table.by_key(line.lot, key)
        if unit is not None and unit.state in wanted:
            return unit.state
        time.sleep(0.05)
    raise AssertionError(f"unit {key} never reached {wanted}")


@pytest.fixture
def online_sim(tmp_path: Path) -> SimulatedLine:
    sim = build_simulated_line(tmp_path / "sim", platform="boron", devices=2, slots=1, connect_delay=0.1)
    yield sim  # type: ignore[misc]
    sim.close()


def test_refuse_policy_will_not_start_a_lot_that_the_product_would_update(online_sim: SimulatedLine) -> None:
    release_v8(online_sim)
    with pytest.raises(LotPreparationError, match="v8.*v7|v7.*v8"):
        new_line(online_sim, profile_with(online_sim, FirmwareVersionPolicy.REFUSE))


def test_warn_policy_starts_says_so_and_the_unit_is_updated_over_the_air(online_sim: SimulatedLine) -> None:
    release_v8(online_sim)
    device = online_sim.devices[0]
    with new_line(online_sim, profile_with(online_sim, FirmwareVersionPolicy.WARN, confirm_s=20)) as line:
        assert any("v8" in notice for notice in line.startup_notices)
        result = line.scan(device.label).result(timeout=60)
        assert result.state is UnitState.CLOUD_PENDING, result.reason
        assert wait_for_state(line, result.unit_key, {UnitState.PASS, UnitState.FAIL}) is UnitState.PASS
    stored = next(d for d in online_sim.emulator.snapshot()["devices"] if d["id"] == device.device_id.value)
    assert stored["online"] is True and stored["firmware_version"] == 8
    assert stored["desired_firmware_version"] is None


def test_lock_policy_locks_each_unit_to_the_flashed_version(online_sim: SimulatedLine) -> None:
    release_v8(online_sim)
    device = online_sim.devices[0]
    with new_line(online_sim, profile_with(online_sim, FirmwareVersionPolicy.LOCK, confirm_s=20)) as line:
        result = line.scan(device.label).result(timeout=60)
        assert wait_for_state(line, result.unit_key, {UnitState.PASS, UnitState.FAIL}) is UnitState.PASS
    stored = next(d for d in online_sim.emulator.snapshot()["devices"] if d["id"] == device.device_id.value)
    assert stored["desired_firmware_version"] == 7
    assert stored["online"] is True and stored["firmware_version"] == 7


def test_an_unplugged_unit_times_out_with_its_reason_while_the_next_unit_passes(online_sim: SimulatedLine) -> None:
    first, second = online_sim.devices
    profile = profile_with(online_sim, FirmwareVersionPolicy.WARN, confirm_s=1.5,
                           on_timeout=ConfirmFailure.NOT_CONFIRMED)
    with new_line(online_sim, profile) as line:
        line.events.subscribe(lambda e: e.kind.name == "UNIT_FINISHED" and e.unit_key == first.serial.value
                              and first.unplug())  # type: ignore[union-attr]
        one = line.scan(first.label).result(timeout=60)
        assert one.state is UnitState.CLOUD_PENDING  # the device part is done; the slot is free
        two = line.scan(second.label).result(timeout=60)
        assert wait_for_state(line, two.unit_key, {UnitState.PASS, UnitState.FAIL}) is UnitState.PASS
        assert wait_for_state(line, one.unit_key, {UnitState.NOT_CONFIRMED, UnitState.PASS}) is UnitState.NOT_CONFIRMED
        unit = line.journal.unit_table.by_key(line.lot, one.unit_key)
        assert unit is not None and "did not see the unit online within 2 s" in (unit.reason or "")
