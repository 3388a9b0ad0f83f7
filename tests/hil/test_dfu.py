"""DFU mode on the rig: a device goes into DFU mode and comes back, and a user part is flashed, read back and runs."""

from __future__ import annotations

import pytest

from hardware.usb.dfu import DfuSession
from hardware.usb.discovery import DeviceMode, open_device
from hardware.usb.flashing import enter_dfu, flash_user_firmware, leave_dfu
from station.workflow.usb_link import UsbLink
from tests.hil.harness.bench import DeviceHandle

from .conftest import ApplicationFor

pytestmark = pytest.mark.hil

FLASH_TEST_VERSION = 9
"""Product version of the application the flash test writes (the line writes another one)."""


def test_device_enters_dfu_mode_by_request_and_returns_to_normal_mode(rig_device: DeviceHandle) -> None:
    timing = rig_device.host_timing
    dfu = enter_dfu(open_device(rig_device.expected_id, backend=rig_device.backend, mode=DeviceMode.NORMAL), timing)
    try:
        in_dfu = (dfu.mode, rig_device.present(DeviceMode.DFU))
    finally:
        back = leave_dfu(DfuSession(dfu, timing=timing), timing)
    with back:
        assert in_dfu == (DeviceMode.DFU, True)
        assert (back.mode, back.device_id) == (DeviceMode.NORMAL, rig_device.expected_id)


@pytest.mark.destructive
def test_user_part_is_flashed_verified_and_then_runs(rig_device: DeviceHandle, application: ApplicationFor) -> None:
    module = application(rig_device, FLASH_TEST_VERSION)
    device = open_device(rig_device.expected_id, backend=rig_device.backend)
    result = flash_user_firmware(device, module, timing=rig_device.host_timing)
    result.device.close()
    facts = UsbLink(rig_device.backend, timing=rig_device.host_timing).identify(rig_device.expected_id)
    assert result.bytes_written == len(module.payload_for_flash)
    assert facts.user_part is not None and facts.user_part.valid
    assert facts.user_part.version == module.version
    if facts.user_part.sha256 is not None:  # Device OS below 5.6.0 reports modules without their hash
        assert facts.user_part.sha256 == module.sha256
