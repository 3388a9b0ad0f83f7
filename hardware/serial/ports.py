"""Find the USB serial (CDC) ports of Particle devices and open them with errors an operator can act on.

Facts (particle-cli 3.43.1 src/cmd/serial.js and src/lib/device-specs.js; @particle/device-constants 4.2.1): a
normal-mode Particle device's CDC port has the platform's normal-mode VID/PID; its USB serial string is the device
id (generation 2 and older firmware: the 24 hex characters within it).
"""

from __future__ import annotations

import errno
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

import serial
from serial.tools import list_ports

from hardware import platforms
from hardware.errors import IdentifierError, UnknownPlatformError
from hardware.identifiers import DeviceId
from hardware.serial.errors import SerialPortError
from hardware.serial.protocol import CONSOLE_BAUD

_HEX24 = re.compile(r"[0-9A-Fa-f]{24}")


class PortInfo(Protocol):
    """The fields of ``serial.tools.list_ports_common.ListPortInfo`` that identify a Particle port."""

    device: str
    vid: int | None
    pid: int | None
    serial_number: str | None
    description: str


PortLister = Callable[[], Iterable[PortInfo]]


@dataclass(frozen=True)
class ParticleSerialPort:
    """A Particle device's serial port as the operating system lists it."""

    path: str
    platform: platforms.Platform
    device_id: DeviceId | None
    """None when the port's USB serial string does not hold a device id."""
    description: str = ""

    def __str__(self) -> str:
        who = self.device_id or "unknown device id"
        return f"{self.path}: {self.platform.display_name} {who}"


def _system_ports() -> Iterable[PortInfo]:
    return list_ports.comports()


def list_particle_ports(comports: PortLister = _system_ports) -> list[ParticleSerialPort]:
    """Every serial port whose VID/PID is a Particle device in normal mode, sorted by path."""
    found: list[ParticleSerialPort] = []
    for info in comports():
        if info.vid is None or info.pid is None:
            continue
        try:
            match = platforms.by_usb_id(info.vid, info.pid)
        except UnknownPlatformError:
            continue
        if match.dfu:
            continue
        found.append(
            ParticleSerialPort(
                path=info.device,
                platform=match.platform,
                device_id=_device_id(info.serial_number, match.platform),
                description=info.description or "",
            )
        )
    return sorted(found, key=lambda port: port.path)


def _device_id(usb_serial: str | None, platform: platforms.Platform) -> DeviceId | None:
    if not usb_serial:
        return None
    text = usb_serial.strip()
    if platform.generation <= 2:
        # Old Gen 2 firmware decorates the serial string; particle-cli takes the 24 hex characters inside it.
        found = _HEX24.search(text)
        text = found[0] if found else text
    try:
        return DeviceId.parse(text)
    except IdentifierError:
        return None


def find_port(device_id: DeviceId, comports: PortLister = _system_ports) -> ParticleSerialPort:
    """The serial port of the device with this id; SerialPortError when it is not connected in normal mode."""
    ports = list_particle_ports(comports)
    for port in ports:
        if port.device_id == device_id:
            return port
    seen = ", ".join(str(p) for p in ports) or "none"
    raise SerialPortError(
        f"no serial port for device {device_id} (Particle ports seen: {seen}); check the USB cable and that the "
        "device is in normal or listening mode, not DFU mode (blinking yellow)"
    )


def open_port(path: str, *, baudrate: int = CONSOLE_BAUD, timeout: float = 0.02) -> serial.Serial:
    """Open ``path`` for exclusive use; SerialPortError says whether it is missing, busy or not permitted."""
    try:
        return serial.Serial(path, baudrate=baudrate, timeout=timeout, exclusive=True)
    except serial.SerialException as exc:
        raise SerialPortError(_open_failure(path, exc), port=path) from exc
    except OSError as exc:
        raise SerialPortError(_open_failure(path, exc), port=path) from exc


def _open_failure(path: str, exc: OSError) -> str:
    code = exc.errno
    if code is None and exc.args and isinstance(exc.args[0], int):
        code = exc.args[0]
    if code == errno.ENOENT:
        return f"serial port {path} does not exist; check that the device is plugged in and not in DFU mode"
    if code == errno.EACCES:
        return (
            f"no permission to open serial port {path}; install Particle's udev rules (50-particle.rules) or add "
            "this user to the dialout group, then log in again"
        )
    if code in (errno.EBUSY, errno.EAGAIN, errno.EWOULDBLOCK):
        return f"serial port {path} is in use by another program (a serial monitor?); close it and try again"
    return f"could not open serial port {path} ({exc}); unplug and replug the device and try again"
