"""The control-request channel against a simulated device through pyusb: framing, back-off, BUSY, timeouts and RESET,
faults, result codes and the raw 0x50 requests (particle-usb 4.1.0 src/device-base.js, src/result.js; Device OS 6.2.0
system/src/usb_control_request_channel.cpp)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from hardware.identifiers import DeviceId
from hardware.simulated import SimulatedDevice, Timing
from hardware.usb import ControlChannel, HostTiming, UsbDevice
from hardware.usb.control import request_error
from hardware.usb.errors import (
    DeviceBusyError,
    DeviceDisconnectedError,
    DeviceProtectedError,
    NotSupportedError,
    RequestCancelledError,
    RequestTimeoutError,
    UsbStallError,
    UsbTimeoutError,
)
from hardware.usb.protocol import RawVendorIndex, RequestType, ResultCode, ServiceRequest

Opener = Callable[[SimulatedDevice], UsbDevice]


def channel(device: UsbDevice, timing: HostTiming, **overrides: object) -> ControlChannel:
    options: dict[str, object] = {
        "check_delays": timing.check_delays,
        "request_timeout": timing.request_timeout,
        "transfer_timeout_ms": timing.transfer_timeout_ms,
    }
    options.update(overrides)
    return ControlChannel(device, **options)  # type: ignore[arg-type]


def test_request_without_payload_returns_its_reply(
    boron: SimulatedDevice, open_usb: Opener, timing: HostTiming
) -> None:
    reply = channel(open_usb(boron), timing).request(RequestType.DEVICE_ID)
    assert boron.device_id.value.encode() in reply


@pytest.mark.parametrize("size", [1, 64, 65, 4096, 10_000], ids=["tiny", "pooled-max", "async-min", "chunk", "multi"])
def test_echo_returns_the_payload_for_pooled_and_allocated_buffers(
    size: int, boron: SimulatedDevice, open_usb: Opener, timing: HostTiming
) -> None:
    payload = bytes(i % 251 for i in range(size))
    assert channel(open_usb(boron), timing).request(RequestType.ECHO, payload) == payload


def test_busy_init_is_retried_until_the_device_accepts(
    boron: SimulatedDevice, open_usb: Opener, timing: HostTiming
) -> None:
    boron.faults.busy_next(5)
    assert channel(open_usb(boron), timing).request(RequestType.ECHO, b"hi") == b"hi"


def test_device_busy_beyond_the_timeout_raises_device_busy_error(
    boron: SimulatedDevice, open_usb: Opener, timing: HostTiming
) -> None:
    boron.faults.busy_next(10**9)
    with pytest.raises(DeviceBusyError, match=str(boron.device_id)):
        channel(open_usb(boron), timing, request_timeout=0.05).request(RequestType.DEVICE_ID)


def test_check_polling_follows_the_given_back_off_schedule(
    device_factory: Callable[..., SimulatedDevice], open_usb: Opener, timing: HostTiming
) -> None:
    device = device_factory("boron", timing=Timing.zero().with_changes(handler_s=0.05))
    delays: list[float] = []

    def sleep(seconds: float) -> None:
        delays.append(seconds)
        time.sleep(seconds)

    channel(open_usb(device), timing, check_delays=(0.001, 0.002, 0.005), sleep=sleep).request(RequestType.DEVICE_ID)
    assert delays[:3] == [0.001, 0.002, 0.005] and set(delays[3:]) <= {0.005}


def test_timed_out_requests_are_reset_so_the_device_frees_them(
    device_factory: Callable[..., SimulatedDevice], open_usb: Opener, timing: HostTiming
) -> None:
    device = device_factory("boron", timing=Timing.zero().with_changes(handler_s=30.0))
    chan = channel(open_usb(device), timing, request_timeout=0.02)
    for _ in range(5):  # more than the device's 4 concurrent requests: each must have been freed by RESET
        with pytest.raises(RequestTimeoutError, match="cancelled"):
            chan.request(RequestType.DEVICE_ID)
    device.timing = Timing.zero()
    assert device.device_id.value.encode() in chan.request(RequestType.DEVICE_ID)


def test_request_cancelled_on_the_device_raises_request_cancelled_error(
    device_factory: Callable[..., SimulatedDevice], open_usb: Opener, timing: HostTiming
) -> None:
    device = device_factory("boron", timing=Timing.zero().with_changes(handler_s=30.0))
    other = channel(open_usb(device), timing)

    def another_program_cancels_everything(seconds: float) -> None:
        other.reset_all()

    chan = channel(open_usb(device), timing, sleep=another_program_cancels_everything)
    with pytest.raises(RequestCancelledError, match="no longer knows request 20"):
        chan.request(RequestType.DEVICE_ID)


def test_stalled_check_raises_stall_error_and_the_next_request_succeeds(
    boron: SimulatedDevice, open_usb: Opener, timing: HostTiming
) -> None:
    chan = channel(open_usb(boron), timing)
    boron.faults.stall_next(ServiceRequest.CHECK)
    with pytest.raises(UsbStallError, match="CHECK of request 20"):
        chan.request(RequestType.DEVICE_ID)
    assert boron.device_id.value.encode() in chan.request(RequestType.DEVICE_ID)


def test_transfer_timeout_raises_timeout_error_and_the_next_request_succeeds(
    boron: SimulatedDevice, open_usb: Opener, short_timeouts: HostTiming
) -> None:
    chan = channel(open_usb(boron), short_timeouts)
    boron.faults.timeout_next(ServiceRequest.INIT)
    with pytest.raises(UsbTimeoutError, match="timed out"):
        chan.request(RequestType.DEVICE_ID)
    assert boron.device_id.value.encode() in chan.request(RequestType.DEVICE_ID)


def test_disconnect_during_send_raises_disconnected_and_works_after_replug(
    boron: SimulatedDevice, open_usb: Opener, timing: HostTiming
) -> None:
    chan = channel(open_usb(boron), timing)
    boron.faults.disconnect_after_bytes(1000)
    with pytest.raises(DeviceDisconnectedError, match="reconnect"):
        chan.request(RequestType.ECHO, bytes(5000))
    boron.plug()
    assert channel(open_usb(boron), timing).request(RequestType.ECHO, b"back") == b"back"


def test_unknown_request_type_raises_not_supported_with_the_result_name(
    boron: SimulatedDevice, open_usb: Opener, timing: HostTiming
) -> None:
    with pytest.raises(NotSupportedError, match="NOT_SUPPORTED") as caught:
        channel(open_usb(boron), timing).request(9999)
    assert (caught.value.result, caught.value.result_name) == (-120, "NOT_SUPPORTED")


def test_exchange_returns_a_non_zero_result_instead_of_raising(
    boron: SimulatedDevice, open_usb: Opener, timing: HostTiming
) -> None:
    assert channel(open_usb(boron), timing).exchange(9999).result == ResultCode.NOT_SUPPORTED


def test_device_protected_result_maps_to_device_protected_error() -> None:
    error = request_error("device x", RequestType.GET_MODULE_INFO, ResultCode.DEVICE_PROTECTED)
    assert isinstance(error, DeviceProtectedError) and "Service Mode" in str(error)


def test_unlisted_result_code_keeps_its_number_in_the_message() -> None:
    error = request_error("device x", RequestType.SERIAL_NUMBER, -1)
    assert error.result_name == "RESULT_-1" and "result -1" in str(error)


@pytest.mark.parametrize("platform", ["boron", "p2", "photon"])
def test_raw_device_id_request_returns_the_id(
    platform: str, device_factory: Callable[..., SimulatedDevice], open_usb: Opener, timing: HostTiming
) -> None:
    device = device_factory(platform)
    assert DeviceId.parse(channel(open_usb(device), timing).raw_read(RawVendorIndex.DEVICE_ID)) == device.device_id


def test_raw_system_version_request_returns_the_version(
    boron: SimulatedDevice, open_usb: Opener, timing: HostTiming
) -> None:
    assert channel(open_usb(boron), timing).raw_read(RawVendorIndex.SYSTEM_VERSION) == "6.2.0"


@pytest.mark.parametrize("platform", ["boron", "p2", "msom"], ids=["no-quirk", "quirk-q-p2", "quirk-q-msom"])
def test_raw_reset_resets_the_device_with_or_without_the_data_stage_quirk(
    platform: str, device_factory: Callable[..., SimulatedDevice], open_usb: Opener, timing: HostTiming
) -> None:
    device = device_factory(platform)
    boots = device.boot_count
    channel(open_usb(device), timing).raw_write(RawVendorIndex.RESET)
    assert device.present and device.boot_count == boots + 1
