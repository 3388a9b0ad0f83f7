"""The happy path for each MCU family, and firmware or units of the wrong platform."""

from __future__ import annotations

from pathlib import Path

import pytest

from hardware.platforms import parse_platform
from hardware.simulated import SimulatedDevice
from station.demo.simulated_line import build_simulated_line, product_firmware, register_device
from station.records.unit_table import UnitState
from station.workflow.line import ScanRefused
from station.workflow.lot import LotPreparationError, load_product_firmware, prepare_lot

from .conftest import make_line


@pytest.mark.parametrize("platform", ["photon", "electron", "boron", "p2", "msom"])
def test_happy_path_on_every_mcu_family(tmp_path: Path, platform: str) -> None:
    sim = build_simulated_line(tmp_path / platform, platform=platform, devices=1)
    try:
        device = sim.devices[0]
        with make_line(sim) as line:
            result = line.scan(device.label).result(timeout=60)
            assert result.state is UnitState.PASS, result.reason
        module = load_product_firmware(sim.profile)
        running = device.running_user_part
        assert running is not None and running.version == module.version
        written = device.read_flash(module.start_address, len(module.data))
        assert written == module.data
        cloud_device = next(d for d in sim.emulator.snapshot()["devices"] if d["id"] == device.device_id.value)
        assert cloud_device["product_id"] == sim.profile.product_id
    finally:
        sim.close()


def test_firmware_for_another_platform_refuses_to_start_the_line(tmp_path: Path) -> None:
    sim = build_simulated_line(tmp_path / "s", platform="boron", devices=1)
    try:
        sim.profile.firmware.file.write_bytes(  # type: ignore[union-attr]
            product_firmware(parse_platform("p2"), sim.profile.product_id, 7)
        )
        with pytest.raises(LotPreparationError, match="SHA-256"):
            prepare_lot(sim.profile, sim.cloud())
    finally:
        sim.close()


def test_unit_of_another_platform_fails_at_identify(tmp_path: Path) -> None:
    sim = build_simulated_line(tmp_path / "s", platform="boron", devices=0)
    try:
        stranger = SimulatedDevice("p2", seed="stranger")
        register_device(sim.emulator, stranger)
        sim.devices.append(stranger)
        sim.backend.add(stranger)
        with make_line(sim) as line:
            # its own (P2) label is refused before a unit exists, and so is a new Boron label that is not its
            # serial (test_mis_scans.py); a Boron unit scanned before gets as far as the device, which says it is a P2
            with pytest.raises(ScanRefused):
                line.scan(stranger.label)
            line.journal.unit_table.begin(line.lot, "B40TZZ000000009")
            result = line.scan("B40TZZ000000009 ABCDEFGHJKLMNPQ").result(timeout=60)
        assert result.state is UnitState.FAIL
        assert result.failed_step == "identify" and result.reason_code == "wrong_platform"
        assert "P2" in result.reason and "Boron" in result.reason
        running = stranger.running_user_part
        assert running is None or running.product != (sim.profile.product_id, 7)
    finally:
        sim.close()
