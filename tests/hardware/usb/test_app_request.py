"""Application requests (control request 10) through the real pyusb path to a simulated device: the result and
payload come back as the device gave them, and the host refuses what the framing cannot carry (Device OS
system/inc/system_control.h, system/src/usb_control_request_channel.h)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hardware.simulated import SimulatedDevice
from hardware.usb import DeviceControl
from hardware.usb.app_request import AppReply, app_request_error, send_app_request
from hardware.usb.errors import AppRequestFailed, AppRequestTooLarge
from hardware.usb.protocol import ResultCode


def test_product_firmware_answers_not_supported_with_no_payload(
    boron: SimulatedDevice, control_of: Callable[[SimulatedDevice], DeviceControl]
) -> None:
    reply = send_app_request(control_of(boron).channel, b'{"op": "is_ready"}', timeout=2.0)
    assert reply == AppReply(ResultCode.NOT_SUPPORTED, b"")
    assert not reply.ok


def test_a_payload_over_65535_bytes_is_refused_before_sending(
    boron: SimulatedDevice, control_of: Callable[[SimulatedDevice], DeviceControl]
) -> None:
    with pytest.raises(AppRequestTooLarge, match="at most 65535 bytes"):
        send_app_request(control_of(boron).channel, b"x" * 65536, timeout=2.0)


def test_a_failed_result_is_named_in_the_error() -> None:
    error = app_request_error("device e00fce68", ResultCode.NOT_SUPPORTED)
    assert isinstance(error, AppRequestFailed)
    assert "NOT_SUPPORTED (-120)" in str(error) and "flash the test firmware" in str(error)
