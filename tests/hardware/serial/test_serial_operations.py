"""identify_over_serial and flash_over_serial: the plain functions the station and the CLI call, given a port path."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from hardware.firmware.versions import DeviceOsVersion
from hardware.serial import (
    ListeningModeError,
    SerialFlashingUnsupportedError,
    SerialPortError,
    flash_over_serial,
    identify_over_serial,
)
from hardware.simulated.device import DeviceMode

from .conftest import FAST, FAST_YMODEM, DeviceFactory


def test_identify_over_serial_reports_identity_version_and_platform(make_device: DeviceFactory) -> None:
    device = make_device("boron", "5.9.0")
    report = identify_over_serial(device.serial_port(), timeouts=FAST)
    assert report.identity.device_id == device.device_id
    assert report.identity.serial == device.serial
    assert report.version == DeviceOsVersion(5, 9, 0)
    assert report.platform is device.platform
    assert report.port == device.serial_port()


def test_identify_over_serial_puts_a_device_it_woke_back_into_normal_mode(make_device: DeviceFactory) -> None:
    device = make_device("boron", "5.9.0", listening=False)
    identify_over_serial(device.serial_port(), timeouts=FAST)
    deadline = time.monotonic() + 3.0
    while device.mode is not DeviceMode.NORMAL:
        assert time.monotonic() < deadline, "the device stayed in listening mode after identify"
        time.sleep(0.01)


def test_identify_over_serial_leaves_a_listening_device_listening(make_device: DeviceFactory) -> None:
    device = make_device("boron", "5.9.0")
    identify_over_serial(device.serial_port(), timeouts=FAST)
    assert device.mode is DeviceMode.LISTENING


def test_flash_over_serial_lands_the_module_in_the_device(
    make_device: DeviceFactory, user_part: Callable[..., bytes]
) -> None:
    device = make_device("boron", "5.9.0", listening=False)
    image = user_part("boron", version=21)
    flash_over_serial(device.serial_port(), image, timeouts=FAST, ymodem_timeouts=FAST_YMODEM)
    start = int.from_bytes(image[:4], "little")
    assert device.read_flash(start, len(image)) == image


def test_flash_over_serial_refuses_a_known_device_os_6_before_opening_the_port() -> None:
    with pytest.raises(SerialFlashingUnsupportedError, match=r"/dev/nonexistent.*6\.1\.0.*DFU"):
        flash_over_serial("/dev/nonexistent", b"\x00" * 64, device_os=DeviceOsVersion(6, 1, 0))


def test_flash_over_serial_on_an_unreachable_6x_device_mentions_dfu(
    make_device: DeviceFactory, user_part: Callable[..., bytes]
) -> None:
    device = make_device("boron", "6.2.0", listening=False)
    with pytest.raises(ListeningModeError, match=r"MODE button.*DFU") as caught:
        flash_over_serial(device.serial_port(), user_part("boron"), timeouts=FAST)
    assert caught.value.port == device.serial_port()


def test_identify_over_serial_on_a_missing_port_says_to_plug_the_device_in() -> None:
    with pytest.raises(SerialPortError, match="does not exist.*plugged in"):
        identify_over_serial("/dev/ttyACM-missing")
