"""Tests sent as serial-console lines (``console = ...``): the serial link writes the line to a simulated unit's
console (a real pty through pyserial) and the running test firmware answers the same ops as JSON lines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.serial.errors import SerialDisconnectedError, SerialPortError, SerialTimeoutError
from hardware.simulated import SimulatedDevice, usb_backend
from hardware.simulated.serial_pty import close_all_serial_consoles
from hardware.usb.timing import HostTiming
from station.config.profile import ProfileError
from station.config.profile_loader import load_profile
from station.workflow.device import LinkNotSupportedError
from station.workflow.serial_link import SerialLink
from station.workflow.test_stage import _lost
from station.workflow.usb_link import UsbLink

from .serial_bench import serial_link_to

FIRMWARE = Path(__file__).resolve().parents[3] / "fixtures" / "firmware"


@pytest.fixture
def tester() -> Iterator[tuple[SimulatedDevice, SerialLink]]:
    device = SimulatedDevice("boron", seed="console-tests", device_os="5.9.0")
    device.install_module((FIRMWARE / "boron-test.bin").read_bytes())
    try:
        yield device, serial_link_to(device)
    finally:
        close_all_serial_consoles()


def ask(link: SerialLink, device: SimulatedDevice, line: str, timeout: float = 5.0) -> dict[str, object]:
    answer: dict[str, object] = json.loads(link.console_line(device.device_id, line, timeout=timeout))
    return answer


def test_the_test_firmware_answers_an_op_on_its_console(tester: tuple[SimulatedDevice, SerialLink]) -> None:
    device, link = tester
    assert device.test_firmware is not None
    battery = ask(link, device, '{"op": "battery"}')
    assert battery["pass"] is True and 3.6 < battery["voltage"] < 4.2  # type: ignore[operator]
    assert ask(link, device, '{"op": "read_serial"}') == {"pass": True, "serial_number": device.serial.value}  # type: ignore[union-attr]


def test_faults_apply_on_the_console_as_over_usb(tester: tuple[SimulatedDevice, SerialLink]) -> None:
    device, link = tester
    device.test_faults = {"battery": "out_of_range"}
    assert ask(link, device, '{"op": "battery"}')["voltage"] == 3.2
    assert ask(link, device, '{"op": "nope"}')["pass"] is False


def test_a_silent_unit_is_a_timeout_the_test_stage_takes_for_no_reply(
        tester: tuple[SimulatedDevice, SerialLink]) -> None:
    device, link = tester
    device.test_faults = {"battery": "no_reply"}
    with pytest.raises(SerialTimeoutError, match="did not answer") as caught:
        link.console_line(device.device_id, '{"op": "battery"}', timeout=0.5)
    assert _lost(caught.value)


def test_a_unit_that_resets_mid_test_fails_it_as_lost(tester: tuple[SimulatedDevice, SerialLink]) -> None:
    device, link = tester
    device.test_faults = {"battery": "reset"}
    with pytest.raises((SerialDisconnectedError, SerialPortError, SerialTimeoutError)) as caught:
        link.console_line(device.device_id, '{"op": "battery"}', timeout=3.0)
    assert _lost(caught.value)


def test_product_firmware_reads_no_console() -> None:
    device = SimulatedDevice("boron", seed="console-product")
    link = UsbLink(usb_backend(device), timing=HostTiming.fast())
    with pytest.raises(LinkNotSupportedError, match="serial link"):
        link.console_line(device.device_id, '{"op": "battery"}', timeout=1.0)


PROFILE = """
[station]
name = "Line 1"

[product]
id = 12345
platform = "boron"

[firmware]
file = "fw.bin"
sha256 = "{sha}"

[cloud]
credentials = "env:PARTICLE"

[slots]
link = "serial"

[tests]
firmware = {{ file = "test.bin", sha256 = "{sha}" }}

[[tests.test]]
name = "battery"
{how}

[[tests.test.measurement]]
name = "battery_voltage"
read = "voltage"
lower = 3.6
upper = 4.2
"""


def test_a_console_test_is_declared_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(PROFILE.format(sha="ab" * 32, how="console = '{\"op\": \"battery\"}'"))
    [battery] = load_profile(path).tests.tests  # type: ignore[union-attr]
    assert (battery.console, battery.request) == ('{"op": "battery"}', None)


@pytest.mark.parametrize(("how", "words"), [
    ("console = '{\"op\": \"battery\"}'\nrequest = { op = \"battery\" }", "one of them"),
    ("console = ''", "must be one line of text"),
    ("console = 5", "must be one line of text"),
])
def test_a_wrong_console_line_names_its_key_and_line(tmp_path: Path, how: str, words: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(PROFILE.format(sha="ab" * 32, how=how))
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert "tests.test[1].console" in str(caught.value) and words in str(caught.value)
    assert ", line " in str(caught.value)


def test_the_test_stage_runs_console_tests_over_the_serial_link_and_judges_them(
        tester: tuple[SimulatedDevice, SerialLink], tmp_path: Path) -> None:
    import hashlib
    import shutil

    from hardware.identifiers import LabelScan
    from hardware.progress import CancelToken
    from station.records.journal import Journal
    from station.records.measurement_table import MeasurementOutcome, MeasurementTable
    from station.workflow.events import EventBus
    from station.workflow.outcome import UnitFailure
    from station.workflow.test_prompts import NoOperator
    from station.workflow.test_stage import TestStage
    from station.workflow.unit_steps import StepRecorder, UnitContext

    device, link = tester
    shutil.copy(FIRMWARE / "boron-test.bin", tmp_path / "test.bin")
    sha = hashlib.sha256((FIRMWARE / "boron-test.bin").read_bytes()).hexdigest()
    path = tmp_path / "p.toml"
    path.write_text(PROFILE.format(sha=sha, how="console = '{\"op\": \"battery\"}'"))
    plan = load_profile(path).tests
    assert plan is not None
    facts = link.identify(device.device_id)
    with Journal(tmp_path / "journal.sqlite3") as journal:
        journal.open_lot("L1", station="Line 1", product_id=12345, profile="p", operator="ann")
        unit, _ = journal.unit_table.begin("L1", device.serial.value, serial=device.serial.value)  # type: ignore[union-attr]
        stage = TestStage(plan, link=link, units=journal.unit_table, measurements=MeasurementTable(journal.db),
                          recorder=StepRecorder(journal.step_table, EventBus()), prompter=NoOperator())
        ctx = UnitContext(LabelScan.parse(device.label), 0, unit, CancelToken())
        assert stage.run(ctx, facts)["passed"] == ["battery"]
        device.test_faults = {"battery": "out_of_range"}
        with pytest.raises(UnitFailure, match=r"battery_voltage = 3.2, limit 3.6 to 4.2\."):
            stage.run(ctx, facts)
        taken = journal.measurement_table.of_unit(unit.id)
    assert [(m.name, m.outcome) for m in taken] == [("battery_voltage", MeasurementOutcome.PASS),
                                                    ("battery_voltage", MeasurementOutcome.FAIL)]
