"""A whole station unit on the rig (scan, identify, check label, flash, verify, cloud), and recovery from a cable
pulled in the middle of flashing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hardware.firmware import load_module
from station.records.unit_table import UnitState
from station.workflow.line import Line
from tests.hil.harness.bench import DeviceHandle
from tests.hil.harness.cable import CablePull

pytestmark = pytest.mark.hil

LineFor = Callable[[DeviceHandle], Line]


def _label(handle: DeviceHandle) -> str:
    if handle.label is None:
        pytest.skip(f"the rig file gives no serial for {handle.describe()}, so there is no label to scan")
    return handle.label


@pytest.mark.destructive
def test_unit_passes_every_station_step(product_device: DeviceHandle, rig_line: LineFor, unit_timeout: float) -> None:
    label = _label(product_device)
    line = rig_line(product_device)
    result = line.scan(label).result(timeout=unit_timeout)
    assert result.state is UnitState.PASS, result.reason
    assert result.device_id == product_device.expected_id.value
    assert line.counts().passed == 1


@pytest.mark.destructive
def test_cable_pulled_mid_flash_fails_the_unit_clearly_and_a_rescan_passes(
    product_device: DeviceHandle, rig_line: LineFor, unit_timeout: float
) -> None:
    label = _label(product_device)
    line = rig_line(product_device)
    assert line.profile.firmware.file is not None
    product_device.erase_application(load_module(line.profile.firmware.file))  # so the line has to flash it
    try:
        cable = CablePull(product_device, line.events)
    except LookupError as exc:
        pytest.skip(str(exc))
    future = line.scan(label)
    cable.wait_for_pull()
    failed = future.result(timeout=unit_timeout)
    assert failed.state is UnitState.FAIL
    assert failed.failed_step == "flash"
    assert "disconnect" in failed.reason.lower() and "cable" in (failed.reason + failed.action).lower()
    assert line.counts().passed == 0
    cable.restore()
    again = line.scan(label).result(timeout=unit_timeout)
    assert again.state is UnitState.PASS, again.reason
    assert line.counts().passed == 1
