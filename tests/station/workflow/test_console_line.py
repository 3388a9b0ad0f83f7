"""A Device OS 5 unit through a whole line over its serial console (no USB control): the test firmware and the
product firmware flashed by YMODEM, the tests sent as console lines and judged, then the cloud steps."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.firmware import ModuleFunction
from hardware.firmware_builder import build_module
from hardware.simulated.serial_pty import close_all_serial_consoles
from station.config.profile_loader import load_profile
from station.demo.simulated_line import SimulatedLine, build_simulated_line
from station.records.measurement_table import MeasurementOutcome
from station.records.unit_table import UnitState
from station.workflow.line import Line
from station.workflow.lot import prepare_lot
from tests.hardware.test_firmware_builder import load_generator

from .serial_bench import serial_link_to

DEVICE_OS_5_9 = 5900
"""Device OS 5.9.0's system module version (Device OS modules/shared/system_module_version.mk)."""
CONSOLE_TESTS = """
[tests]
firmware = {{ file = "boron-test-5.bin", sha256 = "{sha}" }}

[[tests.test]]
name = "battery"
console = '{{"op": "battery"}}'
timeout_s = 3

[[tests.test.measurement]]
name = "battery_voltage"
read = "voltage"
units = "V"
lower = 3.6
upper = 4.2
"""


@pytest.fixture
def old_unit(tmp_path: Path) -> Iterator[SimulatedLine]:
    """A Boron line whose one unit runs Device OS 5.9.0, with test and product firmware built for it."""
    sim = build_simulated_line(tmp_path / "sim", platform="boron", devices=0)
    try:
        sim.add_device(device_os="5.9.0")
        test_firmware = load_generator().test_firmware("boron", needs=DEVICE_OS_5_9)
        (sim.workdir / "boron-test-5.bin").write_bytes(test_firmware)
        product = build_module("boron", ModuleFunction.USER_PART, 2, 6, size=48 * 1024,
                               dependencies=[(ModuleFunction.SYSTEM_PART, 1, DEVICE_OS_5_9)],
                               product_id=sim.profile.product_id, product_version=7, seed=7)
        path = sim.workdir / "station.toml"
        firmware = Path(str(sim.profile.firmware.file))
        text = path.read_text().replace(hashlib.sha256(firmware.read_bytes()).hexdigest(),
                                        hashlib.sha256(product).hexdigest())  # the profile pins the new build
        firmware.write_bytes(product)
        text = text.replace("[slots]\n", '[slots]\nlink = "serial"\n')
        path.write_text(text + CONSOLE_TESTS.format(sha=hashlib.sha256(test_firmware).hexdigest()))
        sim.profile = load_profile(path)
        yield sim
    finally:
        close_all_serial_consoles()
        sim.close()


def test_a_device_os_5_unit_is_tested_on_its_console_and_provisioned_over_serial(old_unit: SimulatedLine) -> None:
    device = old_unit.devices[0]
    prepared = prepare_lot(old_unit.profile, old_unit.cloud(max_retries=1))
    with Line(prepared, link=serial_link_to(device), operator="ann", find_timeout=5.0, outbox_poll=0.05,
              outbox_base_delay=0.05).start() as line:
        result = line.scan(device.label).result(timeout=120)
        rows = line.journal.measurement_table.of_lot(line.lot)
        steps = {s.step for s in line.journal.step_table.of_unit(line.journal.unit_table.by_key(
            line.lot, result.unit_key).id)}  # type: ignore[union-attr]
    assert result.state is UnitState.PASS, result.reason
    assert [(r.name, r.outcome) for r in rows] == [("battery_voltage", MeasurementOutcome.PASS)]
    assert {"test_firmware", "tests", "flash", "pre_add"} <= steps
    running = device.running_user_part
    assert device.test_firmware is None and running is not None
    assert running.product == (old_unit.profile.product_id, 7)  # the product firmware, not the test firmware


def test_run_drives_a_serial_link_line_from_the_profile(old_unit: SimulatedLine,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from station.cli import main

    code = main(["run", "--profile", str(old_unit.profile.path), "--headless", "--simulate", "1", "--auto-scan",
                 "--device-timing", "zero", "--lot", "SERIAL-1"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert [line.split()[0] for line in out.out.splitlines() if line.split()[:1] in (["PASS"], ["FAIL"])] == [
        "PASS"]


def test_a_console_test_on_the_usb_link_is_refused_at_load(old_unit: SimulatedLine) -> None:
    from station.config.profile import ProfileError

    path = old_unit.profile.path
    path.write_text(path.read_text().replace('link = "serial"\n', ""))
    with pytest.raises(ProfileError, match=r'slots.link: test \'battery\' is sent on the serial console, which needs '
                                           r'link = "serial"'):
        load_profile(path)


def test_a_request_test_on_the_serial_link_is_refused_at_load(old_unit: SimulatedLine) -> None:
    from station.config.profile import ProfileError

    path = old_unit.profile.path
    path.write_text(path.read_text().replace("""console = '{"op": "battery"}'""", 'request = { op = "battery" }'))
    with pytest.raises(ProfileError, match=r"slots.link: is \"serial\", which cannot send test 'battery'"):
        load_profile(path)
