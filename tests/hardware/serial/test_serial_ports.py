"""Finding Particle CDC ports among the ports pyserial lists, and opening them with actionable errors."""

from __future__ import annotations

import pytest
from serial.tools.list_ports_common import ListPortInfo

from hardware.identifiers import DeviceId
from hardware.serial import SerialPortError, find_port, list_particle_ports, open_port

BORON_ID = "e00fce68aabbccddeeff0011"


def _port(device: str, vid: int | None, pid: int | None, serial_number: str | None) -> ListPortInfo:
    info = ListPortInfo(device, skip_link_detection=True)
    info.vid, info.pid, info.serial_number = vid, pid, serial_number
    return info


SYSTEM_PORTS = [
    _port("/dev/ttyS0", None, None, None),
    _port("/dev/ttyACM1", 0x2B04, 0xC00D, BORON_ID),
    _port("/dev/ttyACM0", 0x2B04, 0xC006, "Photon 1A2B3C4D5E6F7A8B9C0D1E2F"),
    _port("/dev/ttyUSB0", 0x0403, 0x6001, "FTDI123"),
    _port("/dev/ttyACM2", 0x2B04, 0xD00D, BORON_ID),
]


def test_only_particle_normal_mode_ports_are_listed_sorted_by_path() -> None:
    ports = list_particle_ports(lambda: SYSTEM_PORTS)
    assert [p.path for p in ports] == ["/dev/ttyACM0", "/dev/ttyACM1"]
    assert [p.platform.name for p in ports] == ["photon", "boron"]


def test_the_port_serial_string_is_the_device_id() -> None:
    ports = list_particle_ports(lambda: SYSTEM_PORTS)
    assert ports[1].device_id == DeviceId.parse(BORON_ID)


def test_a_gen2_port_serial_yields_the_24_hex_characters_inside_it() -> None:
    ports = list_particle_ports(lambda: SYSTEM_PORTS)
    assert ports[0].device_id == DeviceId.parse("1a2b3c4d5e6f7a8b9c0d1e2f")


def test_a_port_whose_serial_is_not_a_device_id_has_no_device_id() -> None:
    ports = list_particle_ports(lambda: [_port("/dev/ttyACM5", 0x2B04, 0xC020, "garbage")])
    assert ports[0].device_id is None


def test_find_port_returns_the_port_of_that_device() -> None:
    assert find_port(DeviceId.parse(BORON_ID), lambda: SYSTEM_PORTS).path == "/dev/ttyACM1"


def test_find_port_for_an_absent_device_says_what_was_seen_and_what_to_check() -> None:
    with pytest.raises(SerialPortError, match=r"no serial port for device e00fce68000000000000000.*DFU mode"):
        find_port(DeviceId.parse("e00fce680000000000000000"), lambda: SYSTEM_PORTS)


def test_opening_a_missing_port_names_it_and_says_to_plug_the_device_in() -> None:
    with pytest.raises(SerialPortError, match=r"/dev/ttyACM99 does not exist.*plugged in") as caught:
        open_port("/dev/ttyACM99")
    assert caught.value.port == "/dev/ttyACM99"
