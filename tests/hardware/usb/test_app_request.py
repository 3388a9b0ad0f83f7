"""Application requests (control request 10) through the real pyusb path to a simulated device: the result and
payload come back as the device gave them, and the host refuses what the framing cannot carry (Device OS
system/inc/system_control.h, system/src/usb_control_request_channel.h)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hardware.firmware import load_module
from hardware.simulated import SimulatedDevice, usb_backend
from hardware.simulated.usb_function import usb_function
from hardware.usb import DeviceControl, HostTiming, UsbDevice, flash_user_firmware, open_control
from hardware.usb.app_request import AppReply, app_request_error, send_app_request
from hardware.usb.errors import AppRequestFailed, AppRequestLost, AppRequestTimeout, AppRequestTooLarge
from hardware.usb.protocol import ResultCode
from station.workflow.usb_link import UsbLink

FIRMWARE = Path(__file__).resolve().parents[3] / "fixtures" / "firmware"


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


# --- against the test firmware ----------------------------------------------------------------------------------


@pytest.fixture
def tester(boron: SimulatedDevice) -> SimulatedDevice:
    boron.install_module((FIRMWARE / "boron-test.bin").read_bytes())
    return boron


def ask(control: DeviceControl, op: str, *, timeout: float = 5.0, **fields: object) -> dict[str, Any]:
    reply = send_app_request(control.channel, json.dumps({"op": op, **fields}).encode(), timeout=timeout)
    assert reply.ok
    answer: dict[str, Any] = json.loads(reply.data)
    return answer


@pytest.mark.parametrize("size", [6000, 65535])
def test_large_payloads_round_trip_in_4096_byte_transfers(
    tester: SimulatedDevice, control_of: Callable[[SimulatedDevice], DeviceControl], size: int
) -> None:
    payload = json.dumps({"op": "echo", "data": "y" * (size - 23)}, separators=(",", ":")).encode()
    assert len(payload) == size
    reply = send_app_request(control_of(tester).channel, payload, timeout=10.0)
    assert reply.ok and len(reply.data) == size and json.loads(reply.data)["data"] == "y" * (size - 23)


def test_a_fifth_request_waits_for_one_of_four_in_flight(
    tester: SimulatedDevice, control_of: Callable[[SimulatedDevice], DeviceControl]
) -> None:
    tester.test_faults = {"battery": "no_reply"}
    control = control_of(tester)
    failures: list[BaseException] = []

    def silent() -> None:
        try:
            ask(control, "battery", timeout=1.0)
        except BaseException as exc:  # collected for the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=silent) for _ in range(4)]
    for thread in threads:
        thread.start()
    function = usb_function(tester)
    deadline = time.monotonic() + 5.0
    while function.active_requests < 4 and not failures:
        assert time.monotonic() < deadline, "four requests never reached the device"
        time.sleep(0.001)
    with pytest.raises(AppRequestTimeout, match="kept 4 application requests in flight"):
        ask(control, "vin", timeout=0.05)
    assert function.active_requests == 4  # the fifth never reached the device
    assert ask(control, "vin", timeout=10.0)["pass"] is True  # once a slot frees up, it goes through
    for thread in threads:
        thread.join()
    assert len(failures) == 4 and all(isinstance(f, AppRequestTimeout) for f in failures)


def test_a_silent_device_ends_with_a_timeout_and_the_request_cancelled(
    tester: SimulatedDevice, control_of: Callable[[SimulatedDevice], DeviceControl]
) -> None:
    tester.test_faults = {"temperature": "no_reply"}
    control = control_of(tester)
    with pytest.raises(AppRequestTimeout, match="did not answer application request within 0.2 s"):
        ask(control, "temperature", timeout=0.2)
    assert usb_function(tester).active_requests == 0  # RESET freed it on the device


def test_a_device_that_resets_mid_request_is_a_lost_request(
    tester: SimulatedDevice, control_of: Callable[[SimulatedDevice], DeviceControl]
) -> None:
    tester.test_faults = {"accel_selftest": "reset"}
    with pytest.raises(AppRequestLost, match="reset or disconnected before answering"):
        ask(control_of(tester), "accel_selftest", timeout=5.0)


def test_a_device_unplugged_mid_request_is_a_lost_request(
    tester: SimulatedDevice, control_of: Callable[[SimulatedDevice], DeviceControl]
) -> None:
    control = control_of(tester)
    tester.faults.disconnect_after_bytes(100)
    with pytest.raises(AppRequestLost):
        send_app_request(control.channel, json.dumps({"op": "echo", "data": "z" * 6000}).encode(), timeout=5.0)


def test_a_slow_op_within_the_timeout_answers_and_beyond_it_times_out(
    tester: SimulatedDevice, control_of: Callable[[SimulatedDevice], DeviceControl]
) -> None:
    control = control_of(tester)
    tester.test_faults = {"hw_version": "slow:0.05"}
    assert ask(control, "hw_version", timeout=5.0) == {"pass": True, "hw_version": 7}
    tester.test_faults = {"hw_version": "slow:30"}
    with pytest.raises(AppRequestTimeout):
        ask(control, "hw_version", timeout=0.1)


def test_out_of_range_marginal_and_garbled_replies_come_back_as_the_device_gave_them(
    tester: SimulatedDevice, control_of: Callable[[SimulatedDevice], DeviceControl]
) -> None:
    control = control_of(tester)
    tester.test_faults = {"battery": "out_of_range", "vin": "marginal", "temperature": "garbled"}
    assert ask(control, "battery")["voltage"] == 3.2
    assert ask(control, "vin")["voltage"] == 5.25
    reply = send_app_request(control.channel, b'{"op": "temperature"}', timeout=5.0)
    assert reply.ok
    with pytest.raises(ValueError):
        json.loads(reply.data)


def test_the_usb_link_sends_app_requests_and_signals(tester: SimulatedDevice, timing: HostTiming) -> None:
    link = UsbLink(usb_backend(tester), timing=timing)
    assert json.loads(link.app_request(tester.device_id, b'{"op": "is_ready"}', timeout=5.0)) == {"pass": True}
    link.signal(tester.device_id, True)
    assert tester.signalling
    link.signal(tester.device_id, False)
    assert not tester.signalling


def test_the_usb_link_names_a_non_zero_result(boron: SimulatedDevice, timing: HostTiming) -> None:
    link = UsbLink(usb_backend(boron), timing=timing)
    with pytest.raises(AppRequestFailed, match=r"NOT_SUPPORTED \(-120\).*flash the test firmware") as caught:
        link.app_request(boron.device_id, b'{"op": "is_ready"}', timeout=5.0)
    assert caught.value.result == ResultCode.NOT_SUPPORTED


@pytest.mark.parametrize("platform", ["argon", "p2"])
def test_test_firmware_flashed_over_dfu_answers_and_product_firmware_flashed_after_it_does_not(
    platform: str,
    device_factory: Callable[..., SimulatedDevice],
    open_usb: Callable[[SimulatedDevice], UsbDevice],
    timing: HostTiming,
) -> None:
    device = device_factory(platform)
    flashed = flash_user_firmware(open_usb(device), load_module(FIRMWARE / f"{platform}-test.bin"), timing=timing)
    reply = send_app_request(open_control(flashed.device, timing).channel, b'{"op": "hw_version"}', timeout=5.0)
    flashed.device.close()
    assert reply.ok and json.loads(reply.data) == {"pass": True, "hw_version": 7}
    product = flash_user_firmware(open_usb(device), load_module(FIRMWARE / f"{platform}-user.bin"), timing=timing)
    reply = send_app_request(open_control(product.device, timing).channel, b'{"op": "hw_version"}', timeout=5.0)
    product.device.close()
    assert reply == AppReply(ResultCode.NOT_SUPPORTED, b"")


def test_application_requests_poll_on_their_own_fast_schedule_under_the_default_timing(
        tester: SimulatedDevice) -> None:
    """A test op's reply is on the unit's critical path: under the station's default timing its CHECKs follow
    APP_CHECK_DELAYS_S (a few ms), not particle-usb's 50 ms ... 1 s back-off that system requests keep."""
    from hardware.usb.protocol import CHECK_DELAYS_S
    from hardware.usb.timing import APP_CHECK_DELAYS_S

    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    tester.test_faults = {"battery": "slow:0.2"}  # still measuring through several polls
    link = UsbLink(usb_backend(tester), timing=HostTiming(sleep=sleep))
    reply = json.loads(link.app_request(tester.device_id, b'{"op": "battery"}', timeout=5.0))
    assert reply["pass"] is True
    polls = len(slept)
    assert polls >= 3
    assert slept == [APP_CHECK_DELAYS_S[min(n, len(APP_CHECK_DELAYS_S) - 1)] for n in range(polls)]
    assert max(APP_CHECK_DELAYS_S) < min(CHECK_DELAYS_S)
    assert HostTiming().check_delays == CHECK_DELAYS_S  # system requests keep particle-usb's schedule
