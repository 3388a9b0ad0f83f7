"""The USB bridge serves the simulated devices over a real socket exactly as the pyusb backend shows them, and
answers failures with libusb's error names (what the node-usb shim in tests/compat/node turns into node-usb errors)."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import usb.core

from hardware.simulated import DeviceMode, SimulatedDevice, SimulatedUsbBackend
from hardware.simulated.usb_bridge import UsbBridge

REPO = Path(__file__).resolve().parents[2]
GET_DESCRIPTOR, STRING, SERIAL_INDEX, LANGID_EN_US = 6, 3, 3, 0x0409


class Client:
    """One connection to the bridge, speaking its JSON lines."""

    def __init__(self, address: str) -> None:
        host, port = address.rsplit(":", 1)
        self.socket = socket.create_connection((host, int(port)), timeout=10)
        self.stream = self.socket.makefile("rwb")
        self.next_id = 0

    def send_line(self, line: bytes) -> dict[str, Any]:
        self.stream.write(line + b"\n")
        self.stream.flush()
        reply: dict[str, Any] = json.loads(self.stream.readline())
        return reply

    def call(self, op: str, **fields: Any) -> dict[str, Any]:
        self.next_id += 1
        reply = self.send_line(json.dumps({"id": self.next_id, "op": op, **fields}).encode())
        assert reply["id"] == self.next_id
        return reply

    def open_first(self) -> int:
        key = self.call("list")["devices"][0]["key"]
        handle: int = self.call("open", device=key)["handle"]
        return handle

    def string(self, handle: int, index: int) -> dict[str, Any]:
        return self.call(
            "control", handle=handle, bmRequestType=0x80, bRequest=GET_DESCRIPTOR,
            wValue=(STRING << 8) | index, wIndex=LANGID_EN_US, length=255, timeout=1000,
        )


@pytest.fixture
def boron() -> SimulatedDevice:
    return SimulatedDevice("boron", seed=21)


@pytest.fixture
def backend(boron: SimulatedDevice) -> SimulatedUsbBackend:
    return SimulatedUsbBackend((boron, SimulatedDevice("p2", seed=22)))


@pytest.fixture
def client(backend: SimulatedUsbBackend) -> Iterator[Client]:
    with UsbBridge(backend) as bridge:
        connection = Client(bridge.address)
        yield connection
        connection.socket.close()


def test_list_shows_what_pyusb_sees_through_the_same_backend(client: Client, backend: SimulatedUsbBackend) -> None:
    listed = client.call("list")["devices"]
    found = list(usb.core.find(find_all=True, backend=backend))
    assert [(d["deviceDescriptor"]["idVendor"], d["deviceDescriptor"]["idProduct"]) for d in listed] == [
        (d.idVendor, d.idProduct) for d in found
    ]
    assert [(d["busNumber"], d["deviceAddress"], d["portNumbers"]) for d in listed] == [
        (d.bus, d.address, list(d.port_numbers)) for d in found
    ]
    configuration = found[0].get_active_configuration()
    interfaces = listed[0]["configDescriptor"]["interfaces"]
    assert [alts[0]["bInterfaceNumber"] for alts in interfaces] == [i.bInterfaceNumber for i in configuration]
    assert base64.b64decode(interfaces[0][0]["extra"]) == bytes(configuration[(0, 0)].extra_descriptors)


def test_a_string_descriptor_read_returns_the_devices_serial(client: Client, boron: SimulatedDevice) -> None:
    reply = client.string(client.open_first(), SERIAL_INDEX)
    assert base64.b64decode(reply["data"])[2:].decode("utf-16-le") == boron.device_id.value


def test_a_stall_is_reported_as_libusb_error_pipe(client: Client) -> None:
    reply = client.string(client.open_first(), 0x77)
    assert (reply["ok"], reply["error"], reply["code"]) == (False, "LIBUSB_ERROR_PIPE", -9)


def test_a_device_gone_since_open_is_reported_as_no_device(client: Client, boron: SimulatedDevice) -> None:
    handle = client.open_first()
    boron.reboot(DeviceMode.DFU)
    reply = client.string(handle, SERIAL_INDEX)
    assert (reply["ok"], reply["error"]) == (False, "LIBUSB_ERROR_NO_DEVICE")


def test_the_dfu_interface_takes_its_alt_settings(client: Client, boron: SimulatedDevice) -> None:
    boron.reboot(DeviceMode.DFU)
    handle = client.open_first()
    assert client.call("claim", handle=handle, interface=0)["ok"]
    assert client.call("set_alt", handle=handle, interface=0, alt=1)["ok"]
    reply = client.call("set_alt", handle=handle, interface=0, alt=9)
    assert reply["error"] == "LIBUSB_ERROR_PIPE"


def test_unknown_handles_devices_and_ops_are_refused_with_a_reason(client: Client) -> None:
    assert client.call("close", handle=99)["error"] == "LIBUSB_ERROR_NOT_FOUND"
    assert client.call("open", device="9:9")["error"] == "LIBUSB_ERROR_NOT_FOUND"
    assert "unknown op" in client.call("format")["message"]


def test_a_line_that_is_not_a_request_is_answered_and_the_connection_stays_usable(client: Client) -> None:
    assert client.send_line(b"\xff not json")["error"] == "LIBUSB_ERROR_INVALID_PARAM"
    assert client.send_line(b"[1, 2]")["error"] == "LIBUSB_ERROR_INVALID_PARAM"
    assert client.call("list")["ok"]


def test_serial_ports_name_each_normal_mode_console_as_udev_does(client: Client, backend: SimulatedUsbBackend) -> None:
    boron, p2 = backend.devices
    p2.reboot(DeviceMode.DFU)  # no CDC interface in DFU mode
    try:
        ports = client.call("serial_ports")["ports"]
        assert ports == [
            {
                "path": boron.serial_port(),
                "manufacturer": "Particle",
                "serialNumber": boron.device_id.value,
                "vendorId": "2b04",
                "productId": "c00d",
                "pnpId": f"usb-Particle_Boron_{boron.device_id.value}-if00",
            }
        ]
    finally:
        boron.console.close()


def _bridge_process(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hardware.simulated.usb_bridge", *args],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_the_command_prints_its_address_first_then_serves_the_devices_named() -> None:
    process = _bridge_process("--devices", "boron,argon")
    try:
        assert process.stdout is not None
        address = process.stdout.readline().strip()
        devices = [process.stdout.readline().split()[0] for _ in range(2)]
        assert devices == ["boron", "argon"]
        listed = Client(address).call("list")["devices"]
        assert len(listed) == 2
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_command_refuses_a_platform_it_cannot_simulate_in_one_sentence() -> None:
    process = _bridge_process("--devices", "boron,toaster")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "toaster" in err and "Traceback" not in err
