"""Fixtures for the simulated-device tests: devices, a pyusb backend, and a minimal host written for the tests
(wire-level control requests and DfuSe calls, with their own tiny protobuf reader), independent of hardware/usb."""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import usb.core
import usb.util

from hardware.simulated import DeviceMode, SimulatedDevice, usb_backend

VENDOR_IN, VENDOR_OUT = 0xC0, 0x40
DFU_IN, DFU_OUT = 0xA1, 0x21
INIT, CHECK, SEND, RECV, RESET = 1, 2, 3, 4, 5
DNLOAD, UPLOAD, GETSTATUS, CLRSTATUS, GETSTATE, ABORT = 1, 2, 3, 4, 5, 6
DFU_IDLE, DNLOAD_SYNC, DNBUSY, DNLOAD_IDLE, MANIFEST, MANIFEST_WAIT_RESET, UPLOAD_IDLE, DFU_ERROR = (
    2,
    3,
    4,
    5,
    7,
    8,
    9,
    10,
)
ERR_TARGET, ERR_UNKNOWN, ERR_STALLEDPKT = 0x01, 0x0E, 0x0F


def pb_decode(data: bytes) -> dict[int, list[Any]]:
    """Protobuf fields by number (varints as int, length-delimited as bytes, fixed32 as int)."""
    fields: dict[int, list[Any]] = {}
    pos = 0

    def varint() -> int:
        nonlocal pos
        value = shift = 0
        while True:
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    while pos < len(data):
        key = varint()
        wire_type = key & 7
        value: Any
        if wire_type == 0:
            value = varint()
        elif wire_type == 2:
            length = varint()
            value, pos = data[pos : pos + length], pos + length
        elif wire_type == 5:
            value, pos = struct.unpack_from("<I", data, pos)[0], pos + 4
        else:
            raise AssertionError(f"unexpected wire type {wire_type}")
        fields.setdefault(key >> 3, []).append(value)
    return fields


def pb_field(number: int, value: int | bytes | str) -> bytes:
    """One protobuf field: an int as a varint, bytes/str length-delimited."""

    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
            n >>= 7
            if not n:
                return bytes(out)

    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    raw = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(raw)) + raw


def service_reply(raw: bytes) -> dict[str, int]:
    """Decode a service reply: flags, status, then id / size / result as the flags say."""
    flags, status = struct.unpack_from("<IH", raw, 0)
    out = {"flags": flags, "status": status, "length": len(raw)}
    pos = 6
    if flags & 0x02:
        out["id"] = struct.unpack_from("<H", raw, pos)[0]
        pos += 2
    if flags & 0x04:
        out["size"] = struct.unpack_from("<I", raw, pos)[0]
        pos += 4
    if flags & 0x08:
        out["result"] = struct.unpack_from("<i", raw, pos)[0]
    return out


class Host:
    """Wire-level host calls against one pyusb device found through the simulated backend."""

    def __init__(self, backend: Any, device: SimulatedDevice) -> None:
        self.backend = backend
        self.device = device
        self.dev = self.find()

    def find(self) -> usb.core.Device:
        wanted = self.device.device_id.value
        found = usb.core.find(backend=self.backend, custom_match=lambda d: d.serial_number == wanted)
        assert found is not None, "simulated device is not on the bus"
        return found

    def reopen(self, deadline_s: float = 5.0) -> usb.core.Device:
        """Wait (polling) until the device enumerates again, then use the new device."""
        usb.util.dispose_resources(self.dev)
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            found = usb.core.find(
                backend=self.backend, custom_match=lambda d: d.serial_number == self.device.device_id.value
            )
            if found is not None:
                self.dev = found
                return found
            time.sleep(0.005)
        raise AssertionError(f"device did not re-enumerate within {deadline_s} s")

    # --- control-request channel ---------------------------------------------------------------------------------

    def init(self, request_type: int, size: int = 0, length: int = 64) -> dict[str, int]:
        return service_reply(bytes(self.dev.ctrl_transfer(VENDOR_IN, INIT, size, request_type, length)))

    def check(self, request_id: int, length: int = 64) -> dict[str, int]:
        return service_reply(bytes(self.dev.ctrl_transfer(VENDOR_IN, CHECK, 0, request_id, length)))

    def send(self, request_id: int, data: bytes) -> int:
        return int(self.dev.ctrl_transfer(VENDOR_OUT, SEND, 0, request_id, data))

    def recv(self, request_id: int, length: int) -> bytes:
        return bytes(self.dev.ctrl_transfer(VENDOR_IN, RECV, 0, request_id, length))

    def reset(self, request_id: int, length: int = 64) -> dict[str, int]:
        return service_reply(bytes(self.dev.ctrl_transfer(VENDOR_IN, RESET, 0, request_id, length)))

    def request(self, request_type: int, payload: bytes = b"", deadline_s: float = 2.0) -> tuple[int, bytes]:
        """A whole request: INIT, (CHECK until allocated, SEND), CHECK until done, RECV → (result, reply)."""
        reply = self.init(request_type, len(payload))
        assert reply["status"] in (0, 2), reply
        request_id = reply["id"]
        end = time.monotonic() + deadline_s
        if reply["status"] == 2:  # buffer allocated asynchronously: CHECK until it is ready
            while self.check(request_id)["status"] == 2:
                assert time.monotonic() < end, "allocation never finished"
        if payload:
            for offset in range(0, len(payload), 4096):
                self.send(request_id, payload[offset : offset + 4096])
        while True:
            reply = self.check(request_id)
            if reply["status"] == 0 and "result" in reply:
                break
            assert reply["status"] == 2, reply
            assert time.monotonic() < end, "request never finished"
        data = self.recv(request_id, reply["size"]) if reply.get("size") else b""
        return reply["result"], data

    # --- DfuSe ---------------------------------------------------------------------------------------------------

    def status(self) -> tuple[int, int, int, int]:
        raw = bytes(self.dev.ctrl_transfer(DFU_IN, GETSTATUS, 0, 0, 6))
        assert len(raw) == 6
        return raw[0], int.from_bytes(raw[1:4], "little"), raw[4], raw[5]

    def state(self) -> int:
        return int(self.dev.ctrl_transfer(DFU_IN, GETSTATE, 0, 0, 1)[0])

    def dnload(self, block: int, data: bytes) -> None:
        self.dev.ctrl_transfer(DFU_OUT, DNLOAD, block, 0, data)

    def upload(self, block: int, length: int) -> bytes:
        return bytes(self.dev.ctrl_transfer(DFU_IN, UPLOAD, block, 0, length))

    def clrstatus(self) -> None:
        self.dev.ctrl_transfer(DFU_OUT, CLRSTATUS, 0, 0, None)

    def abort(self) -> None:
        self.dev.ctrl_transfer(DFU_OUT, ABORT, 0, 0, None)

    def settle(self) -> tuple[int, int, int, int]:
        """GETSTATUS until the state is no longer dfuDNBUSY."""
        while True:
            reply = self.status()
            if reply[2] != DNBUSY:
                return reply

    def dfuse(self, command: bytes) -> tuple[int, int, int, int]:
        self.dnload(0, command)
        return self.settle()

    def set_address(self, address: int) -> tuple[int, int, int, int]:
        return self.dfuse(b"\x21" + struct.pack("<I", address))

    def erase(self, address: int) -> tuple[int, int, int, int]:
        return self.dfuse(b"\x41" + struct.pack("<I", address))

    def write(self, address: int, data: bytes) -> tuple[int, int, int, int]:
        self.set_address(address)
        self.dnload(2, data)
        return self.settle()

    def read(self, address: int, length: int) -> bytes:
        self.set_address(address)
        self.abort()
        data = self.upload(2, length)
        self.abort()
        return data

    def select_alt(self, alt: int) -> None:
        self.dev.set_interface_altsetting(interface=0, alternate_setting=alt)


@pytest.fixture
def make_device() -> Callable[..., SimulatedDevice]:
    """SimulatedDevice with a fixed seed unless one is given."""

    def make(platform: str = "boron", **kwargs: Any) -> SimulatedDevice:
        kwargs.setdefault("seed", 7)
        return SimulatedDevice(platform, **kwargs)

    return make


@pytest.fixture
def connect() -> Iterator[Callable[[SimulatedDevice], Host]]:
    """Put a device on a fresh simulated bus and return a Host for it."""
    hosts: list[Host] = []

    def attach(device: SimulatedDevice) -> Host:
        host = Host(usb_backend(device), device)
        hosts.append(host)
        return host

    yield attach
    for host in hosts:
        usb.util.dispose_resources(host.dev)


@pytest.fixture
def boron(make_device: Callable[..., SimulatedDevice]) -> SimulatedDevice:
    return make_device("boron")


@pytest.fixture
def host(boron: SimulatedDevice, connect: Callable[[SimulatedDevice], Host]) -> Host:
    return connect(boron)


@pytest.fixture
def dfu_host(boron: SimulatedDevice, connect: Callable[[SimulatedDevice], Host]) -> Host:
    """A Boron already in DFU mode, alt 0 selected."""
    boron.reboot(DeviceMode.DFU)
    host = connect(boron)
    host.select_alt(0)
    return host
