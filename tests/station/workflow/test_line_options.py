"""Profile step options through the whole line: claim codes, rename, development, firmware lock, claim to an
account, Device OS minimum, and cancelling a unit."""

from __future__ import annotations

import dataclasses
import datetime
import threading
from pathlib import Path

import pytest

from cloud_client.client import ParticleCloud
from cloud_client.credentials import Credentials
from hardware.usb import list_devices
from station.config.profile import ClaimMode, StationProfile
from station.demo.simulated_line import SimulatedLine, build_simulated_line
from station.records.unit_table import UnitState
from station.workflow.events import EventKind, UnitEvent
from station.workflow.line import Line, ScanRefused
from station.workflow.lot import prepare_lot


def with_steps(profile: StationProfile, **changes: object) -> StationProfile:
    return dataclasses.replace(profile, steps=dataclasses.replace(profile.steps, **changes))  # type: ignore[arg-type]


def cloud_device(sim: SimulatedLine, device_id: str) -> dict[str, object]:
    return next(d for d in sim.emulator.snapshot()["devices"] if d["id"] == device_id)


def run_one(sim: SimulatedLine, profile: StationProfile, cloud: ParticleCloud | None = None) -> tuple[Line, object]:
    line = Line(prepare_lot(profile, cloud or sim.cloud(max_retries=1)), link=sim.link(), operator="ann",
                find_timeout=1.0, outbox_poll=0.05, outbox_base_delay=0.05).start()
    return line, line.scan(sim.devices[0].label).result(timeout=60)


def test_rename_development_groups_and_firmware_lock(sim: SimulatedLine) -> None:
    firmware = sim.profile.firmware.file.read_bytes()  # type: ignore[union-attr]
    sim.emulator.add_firmware(sim.profile.product_id, 7, firmware)
    profile = with_steps(sim.profile, rename="widget-{serial}-{short_id}", development=True,
                         groups=("line-a", "{date}"), firmware_lock=True)
    line, result = run_one(sim, profile)
    line.close()
    assert result.state is UnitState.PASS, result.reason  # type: ignore[attr-defined]
    device = sim.devices[0]
    stored = cloud_device(sim, device.device_id.value)
    assert stored["name"] == f"widget-{device.serial.value}-{device.device_id.value[-6:]}"  # type: ignore[union-attr]
    assert stored["development"] is True
    assert stored["desired_firmware_version"] == 7
    assert sorted(stored["groups"]) == sorted(["line-a", datetime.date.today().strftime("%Y%m%d")])  # type: ignore[arg-type]


def test_claim_to_a_named_account(sim: SimulatedLine) -> None:
    sim.emulator.add_user("customer@example.com", "pw")
    profile = with_steps(sim.profile, claim=ClaimMode.ACCOUNT, claim_account="customer@example.com")
    line, result = run_one(sim, profile)
    line.close()
    assert result.state is UnitState.PASS, result.reason  # type: ignore[attr-defined]
    assert cloud_device(sim, sim.devices[0].device_id.value)["owner"] == "customer@example.com"


def test_claim_code_mode_writes_a_customer_claim_code_onto_the_device(sim: SimulatedLine) -> None:
    sim.emulator.add_client("station-client", "client-secret", product_id=sim.profile.product_id)
    sim.emulator.add_customer(sim.profile.product_id, "buyer@example.com")
    profile = with_steps(sim.profile, claim=ClaimMode.CLAIM_CODE, customer_email="buyer@example.com")
    cloud = ParticleCloud(sim.base_url, Credentials.oauth_client("station-client", "client-secret"), max_retries=1)
    line, result = run_one(sim, profile, cloud)
    line.close()
    assert result.state is UnitState.PASS, result.reason  # type: ignore[attr-defined]
    [code] = sim.emulator.cloud.state.claim_codes
    assert (code.username, code.product_id) == ("buyer@example.com", sim.profile.product_id)
    assert sim.devices[0].claim_code == code.code
    assert 0 < len(sim.devices[0].claim_code) <= 63


def test_device_os_below_the_minimum_fails_before_flashing(tmp_path: Path) -> None:
    sim = build_simulated_line(tmp_path / "s", platform="boron", devices=1)
    try:
        profile = dataclasses.replace(
            sim.profile, firmware=dataclasses.replace(sim.profile.firmware, minimum_device_os="9.0.0")
        )
        line, result = run_one(sim, profile)
        line.close()
        assert result.state is UnitState.FAIL  # type: ignore[attr-defined]
        assert "below the line's minimum 9.0.0" in result.reason  # type: ignore[attr-defined]
        assert result.failed_step == "device_os"  # type: ignore[attr-defined]
    finally:
        sim.close()


def test_cancelling_a_unit_mid_flash_ends_it_cleanly_and_a_rescan_passes(sim: SimulatedLine) -> None:
    from hardware.simulated import Timing

    device = sim.devices[0]
    device.timing = Timing.zero().with_changes(page_erase_s=0.05, block_write_s=0.05)
    line = Line(prepare_lot(sim.profile, sim.cloud(max_retries=1)), link=sim.link(), operator="ann",
                find_timeout=1.0).start()
    flashing = threading.Event()

    def on_event(event: UnitEvent) -> None:
        if event.kind is EventKind.STEP_PROGRESS:
            flashing.set()

    line.events.subscribe(on_event)
    future = line.scan(device.label)
    assert flashing.wait(30)
    line.cancel(0)
    result = future.result(timeout=60)
    assert result.state is UnitState.FAIL
    assert "Stopped by the operator" in result.reason
    device.timing = Timing.zero()
    again = line.scan(device.label).result(timeout=60)
    unit = line.journal.unit_table.by_key(line.lot, again.unit_key)
    line.close()
    assert again.state is UnitState.PASS, again.reason
    assert unit is not None and unit.attempts == 2 and unit.first_result == "FAIL"


def test_a_unit_below_the_minimum_device_os_is_updated_from_the_bundle_then_flashed(tmp_path: Path) -> None:
    from hardware.firmware import ModuleFunction
    from hardware.firmware_builder import build_module

    sim = build_simulated_line(tmp_path / "s", platform="boron", devices=0, slots=1)
    try:
        device = sim.add_device(device_os="6.1.0")
        part = tmp_path / "boron-system-part1@6.1.1.bin"
        part.write_bytes(build_module("boron", ModuleFunction.SYSTEM_PART, 1, 6101, start_address=0x30000,
                                      size=64 * 1024, dependencies=[(ModuleFunction.BOOTLOADER, 0, 3000)]))
        profile = dataclasses.replace(
            with_steps(sim.profile, device_os_update=True),
            firmware=dataclasses.replace(sim.profile.firmware, minimum_device_os="6.1.1", device_os_bundle=(part,)),
        )
        line, result = run_one(sim, profile)
        unit = line.journal.unit_table.by_key(line.lot, device.serial.value)  # type: ignore[union-attr]
        steps = line.journal.step_table.passed(unit.id) if unit is not None else {}
        line.close()
        assert result.state is UnitState.PASS, result.reason  # type: ignore[attr-defined]
        assert device.device_os == "6.1.1"
        assert unit is not None and unit.device_os == "6.1.1"
        step = steps["device_os"]
        assert step.detail["from"] == "6.1.0" and step.detail["to"] == "6.1.1"
    finally:
        sim.close()


def test_slots_are_mapped_to_usb_ports(tmp_path: Path) -> None:
    sim = build_simulated_line(tmp_path / "s", platform="boron", devices=2)
    try:
        first, second = sim.devices
        ports = {str(i.device_id): i.port for i in list_devices(backend=sim.backend)}
        profile = dataclasses.replace(sim.profile, slots=dataclasses.replace(
            sim.profile.slots, count=2, ports=(ports[first.device_id.value], ports[second.device_id.value])))
        line = Line(prepare_lot(profile, sim.cloud(max_retries=1)), link=sim.link(), operator="ann",
                    find_timeout=0.5).start()
        with pytest.raises(ScanRefused) as wrong:  # slot 1's port holds the first unit, not this label's
            line.scan(second.label, slot=0).result(timeout=60)
        right = line.scan(second.label, slot=1).result(timeout=60)
        line.close()
        assert wrong.value.code == "label_mismatch" and "slot 1" in str(wrong.value)
        assert right.state is UnitState.PASS, right.reason
        assert right.device_id == second.device_id.value
    finally:
        sim.close()
