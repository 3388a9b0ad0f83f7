"""Each rig device tells who it is over USB control requests and over its serial console."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hardware.serial import identify_over_serial
from hardware.usb.discovery import DeviceMode, open_device
from hardware.usb.flashing import open_control
from hardware.usb.protocol import DeviceModeValue
from tests.hil.harness.bench import DeviceHandle
from tests.hil.harness.operator import wait_until

pytestmark = pytest.mark.hil


def _listening_request(handle: DeviceHandle) -> Callable[[], None] | None:
    # Device OS 6 dropped the 28800-baud trigger, so the station asks over USB where the platform takes requests.
    return handle.start_listening if handle.platform.control_requests_supported else None


def test_identify_over_usb_reports_the_rig_files_id_and_serial(rig_device: DeviceHandle) -> None:
    with open_device(rig_device.expected_id, backend=rig_device.backend, mode=DeviceMode.NORMAL) as device:
        control = open_control(device, rig_device.host_timing)
        reported_id, serial = control.device_id(), control.serial_number()
        version = control.system_version()
    assert reported_id == rig_device.expected_id
    assert device.platform.name == rig_device.platform.name
    if rig_device.expected_serial is not None:  # a real rig file may leave the serial out
        assert serial == rig_device.expected_serial
    assert version.count(".") == 2, f"Device OS version {version!r} is not a version"


def test_identify_over_serial_reports_the_rig_files_id_and_platform(rig_device: DeviceHandle) -> None:
    report = identify_over_serial(
        rig_device.serial_port(), start_listening=_listening_request(rig_device),
        timeouts=rig_device.console_timeouts,
    )
    assert report.identity.device_id == rig_device.expected_id
    assert report.platform is not None and report.platform.name == rig_device.platform.name
    if report.identity.serial is not None:  # Gen 2 consoles do not print the serial number
        assert report.identity.serial == rig_device.expected_serial


def test_identify_over_serial_sends_the_device_back_to_normal_operation(rig_device: DeviceHandle) -> None:
    identify_over_serial(
        rig_device.serial_port(), start_listening=_listening_request(rig_device),
        timeouts=rig_device.console_timeouts,
    )

    def normal() -> bool:
        with open_device(rig_device.expected_id, backend=rig_device.backend, mode=DeviceMode.NORMAL) as device:
            return open_control(device, rig_device.host_timing).device_mode() is DeviceModeValue.NORMAL

    wait_until(normal, timeout=10.0, what=f"{rig_device.describe()} to leave listening mode")
