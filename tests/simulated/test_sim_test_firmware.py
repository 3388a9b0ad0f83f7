"""The simulated device's test-firmware personality, driven by the tests' own wire-level host over pyusb: request 10
answers the fixture protocol's JSON ops once a module with the PSTEST-FW1 marker runs, measurements are repeatable
per device, faults can be injected per op, and the control channel's limits still hold (docs/fixture-protocol.md)."""

from __future__ import annotations

import errno
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import usb.core

from hardware.simulated import SimulatedDevice, SimulationError, Timing

from .conftest import Host

FIRMWARE = Path(__file__).resolve().parents[2] / "fixtures" / "firmware"
APP, START_NYAN, STOP_NYAN = 10, 230, 231
OK, NOT_SUPPORTED = 0, -120
PENDING, BUSY = 2, 3


def with_test_firmware(device: SimulatedDevice, platform: str = "boron") -> SimulatedDevice:
    device.install_module((FIRMWARE / f"{platform}-test.bin").read_bytes())
    return device


def op(host: Host, name: str, **fields: Any) -> dict[str, Any]:
    result, data = host.request(APP, json.dumps({"op": name, **fields}).encode())
    assert result == OK
    reply: dict[str, Any] = json.loads(data)
    return reply


@pytest.fixture
def tester(boron: SimulatedDevice, connect: Callable[[SimulatedDevice], Host]) -> Host:
    return connect(with_test_firmware(boron))


def test_product_firmware_has_no_application_handler(host: Host) -> None:
    assert host.device.test_firmware is None
    assert host.request(APP, b'{"op":"is_ready"}') == (NOT_SUPPORTED, b"")


def test_installing_a_module_with_the_marker_switches_to_the_test_personality(tester: Host) -> None:
    manifest = tester.device.test_firmware
    assert manifest is not None and manifest.name == "boron-fixture-test" and manifest.version == 2
    assert op(tester, "is_ready") == {"pass": True}


def test_flashing_product_firmware_again_returns_to_the_normal_personality(tester: Host) -> None:
    tester.device.install_module((FIRMWARE / "boron-user.bin").read_bytes())
    assert tester.device.test_firmware is None
    assert tester.request(APP, b'{"op":"is_ready"}') == (NOT_SUPPORTED, b"")


@pytest.mark.parametrize("platform", ["boron", "argon", "bsom", "tracker", "p2", "msom"])
def test_every_platforms_test_firmware_is_recognised(
    platform: str, make_device: Callable[..., SimulatedDevice]
) -> None:
    device = with_test_firmware(make_device(platform), platform)
    assert device.test_firmware is not None and device.test_firmware.name == f"{platform}-fixture-test"
    assert device.running_user_part is not None and device.running_user_part.version == 2


def test_measurements_are_near_their_means(tester: Host) -> None:
    assert abs(op(tester, "battery")["voltage"] - 3.9) <= 0.15
    assert abs(op(tester, "vin")["voltage"] - 5.0) <= 0.15
    assert abs(op(tester, "temperature")["celsius"] - 25.0) <= 6.0
    accel = op(tester, "accel_selftest")
    assert abs(accel["z"] - 1.0) <= 0.03 and abs(accel["x"]) <= 0.03 and abs(accel["y"]) <= 0.03
    signal = op(tester, "cellular_signal")
    assert -88 <= signal["rssi"] <= -52 and 0 <= signal["quality"] <= 100
    assert op(tester, "gpio_loopback") == {"pass": True, "failed_pins": []}
    assert op(tester, "hw_version") == {"pass": True, "hw_version": 7}


def test_the_same_device_gives_the_same_values_and_another_device_others(
    make_device: Callable[..., SimulatedDevice], connect: Callable[[SimulatedDevice], Host]
) -> None:
    first = connect(with_test_firmware(make_device("boron", seed=1)))
    again = connect(with_test_firmware(make_device("boron", seed=1)))
    other = connect(with_test_firmware(make_device("boron", seed=2)))
    assert first.device.device_id == again.device.device_id != other.device.device_id
    ops = ("battery", "vin", "temperature", "accel_selftest", "cellular_signal")
    assert [op(first, name) for name in ops] == [op(again, name) for name in ops]
    assert [op(first, name) for name in ops] != [op(other, name) for name in ops]


def test_cellular_signal_fails_on_a_wifi_device(
    make_device: Callable[..., SimulatedDevice], connect: Callable[[SimulatedDevice], Host]
) -> None:
    host = connect(with_test_firmware(make_device("argon"), "argon"))
    reply = op(host, "cellular_signal")
    assert reply["pass"] is False and reply["errors"][0]["code"] == NOT_SUPPORTED


def test_an_unknown_op_fails_with_not_supported(tester: Host) -> None:
    assert op(tester, "levitate") == {
        "pass": False,
        "errors": [{"field": "op", "message": "unknown op", "code": NOT_SUPPORTED}],
    }


def test_a_request_that_is_not_json_fails_with_bad_data(tester: Host) -> None:
    result, data = tester.request(APP, b"battery please")
    assert result == OK and json.loads(data)["errors"][0]["code"] == -280


def test_read_serial_reads_the_serial_the_device_holds(tester: Host) -> None:
    assert tester.device.serial is not None
    assert op(tester, "read_serial") == {"pass": True, "serial_number": tester.device.serial.value}


def test_burn_serial_stores_a_serial_that_read_serial_then_reads_back(
    make_device: Callable[..., SimulatedDevice], connect: Callable[[SimulatedDevice], Host]
) -> None:
    host = connect(with_test_firmware(make_device("boron", serial_provisioned=False)))
    assert op(host, "read_serial")["pass"] is False
    assert op(host, "burn_serial", serial_number="P046AAA12345678") == {"pass": True}
    assert op(host, "read_serial") == {"pass": True, "serial_number": "P046AAA12345678"}
    result, data = host.request(21)
    assert result == OK and b"P046AAA12345678" in data


def test_burn_serial_refuses_to_overwrite_a_different_burned_serial(tester: Host) -> None:
    reply = op(tester, "burn_serial", serial_number="P046AAA12345678")
    assert reply["pass"] is False and reply["errors"][0]["code"] == -180


@pytest.mark.parametrize("size", [6000, 65535])
def test_large_payloads_round_trip_through_echo(tester: Host, size: int) -> None:
    payload = json.dumps({"op": "echo", "data": "x" * (size - 23)}, separators=(",", ":")).encode()
    assert len(payload) == size
    assert tester.init(APP, size)["status"] == PENDING  # over 64 bytes: allocated asynchronously
    tester.reset(0)
    request_id = tester.init(APP, size)["id"]
    while tester.check(request_id)["status"] == PENDING:
        pass
    for offset in range(0, size, 4096):
        tester.send(request_id, payload[offset : offset + 4096])
    while (done := tester.check(request_id))["status"] == PENDING:
        pass
    assert done["result"] == OK and done["size"] == size
    data = b"".join(tester.recv(request_id, min(4096, size - offset)) for offset in range(0, size, 4096))
    assert json.loads(data)["data"] == "x" * (size - 23)


def test_a_fifth_request_in_flight_gets_busy(tester: Host) -> None:
    tester.device.test_faults = {"battery": "no_reply"}
    body = b'{"op":"battery"}'
    for _ in range(4):
        request_id = tester.init(APP, len(body))["id"]
        tester.send(request_id, body)
    assert tester.init(APP, len(body))["status"] == BUSY


def test_out_of_range_and_marginal_faults_give_the_documented_values(tester: Host) -> None:
    tester.device.test_faults = {"battery": "out_of_range", "vin": "marginal"}
    assert op(tester, "battery")["voltage"] == 3.2
    assert op(tester, "vin")["voltage"] == 5.25
    assert op(tester, "temperature")["celsius"] != 85.0  # other ops are unaffected


def test_out_of_range_on_the_gpio_loopback_reports_the_failed_pins(tester: Host) -> None:
    tester.device.faults.fail_test_op("gpio_loopback", "out_of_range")
    reply = op(tester, "gpio_loopback")
    assert reply["pass"] is False and reply["failed_pins"] == [3, 7] and reply["errors"][0]["code"] == -220


def test_out_of_range_on_read_serial_reads_back_a_wrong_serial(tester: Host) -> None:
    tester.device.test_faults = {"read_serial": "out_of_range"}
    assert tester.device.serial is not None
    assert op(tester, "read_serial")["serial_number"] != tester.device.serial.value


def test_a_fault_for_every_op(tester: Host) -> None:
    tester.device.test_faults = {"*": "out_of_range", "vin": "marginal"}
    assert op(tester, "battery")["voltage"] == 3.2
    assert op(tester, "vin")["voltage"] == 5.25


def test_garbled_replies_are_not_json(tester: Host) -> None:
    tester.device.test_faults = {"temperature": "garbled"}
    result, data = tester.request(APP, b'{"op":"temperature"}')
    assert result == OK
    with pytest.raises(ValueError):
        json.loads(data)


def test_no_reply_leaves_the_request_pending_until_the_host_cancels_it(tester: Host) -> None:
    tester.device.test_faults = {"vin": "no_reply"}
    body = b'{"op":"vin"}'
    request_id = tester.init(APP, len(body))["id"]
    tester.send(request_id, body)
    assert [tester.check(request_id)["status"] for _ in range(20)] == [PENDING] * 20
    assert tester.reset(request_id)["status"] == OK
    assert tester.check(request_id)["status"] == 5  # NOT_FOUND


def test_reset_mid_request_drops_the_device_off_the_bus(tester: Host) -> None:
    tester.device.test_faults = {"accel_selftest": "reset"}
    boots = tester.device.boot_count
    body = b'{"op":"accel_selftest"}'
    request_id = tester.init(APP, len(body))["id"]
    tester.send(request_id, body)
    with pytest.raises(usb.core.USBError) as caught:
        tester.check(request_id)
    assert caught.value.errno == errno.ENODEV
    assert tester.device.boot_count == boots + 1


def test_slow_answers_after_the_given_seconds(tester: Host) -> None:
    tester.device.test_faults = {"hw_version": "slow:30"}
    body = b'{"op":"hw_version"}'
    request_id = tester.init(APP, len(body))["id"]
    tester.send(request_id, body)
    assert tester.check(request_id)["status"] == PENDING
    tester.device.test_faults = {"hw_version": "slow:0"}
    assert tester.check(request_id)["status"] == PENDING  # the reply's time was fixed when the op started
    tester.reset(request_id)
    assert op(tester, "hw_version")["hw_version"] == 7


def test_test_ops_take_time_on_the_simulated_clock(
    make_device: Callable[..., SimulatedDevice], connect: Callable[[SimulatedDevice], Host]
) -> None:
    host = connect(with_test_firmware(make_device("boron", timing=Timing.zero().with_changes(test_op_s=60.0))))
    body = b'{"op":"battery"}'
    request_id = host.init(APP, len(body))["id"]
    host.send(request_id, body)
    assert host.check(request_id)["status"] == PENDING
    assert Timing.realistic().test_op_s == 0.3


def test_an_unknown_fault_name_is_refused(boron: SimulatedDevice) -> None:
    with pytest.raises(SimulationError, match="unknown test fault 'explode'"):
        boron.test_faults = {"battery": "explode"}
    with pytest.raises(SimulationError, match="only slow takes"):
        boron.faults.fail_test_op("battery", "marginal:3")


def test_requests_230_and_231_start_and_stop_the_signal(host: Host) -> None:
    assert host.request(START_NYAN) == (OK, b"")
    assert host.device.signalling
    assert host.request(STOP_NYAN) == (OK, b"")
    assert not host.device.signalling
