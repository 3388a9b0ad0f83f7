"""A rig brought to life for one test: per device a handle (USB backend, expected identity, serial port, the
simulated device when there is one), the bus they share, and the rig's barcode scanner.

A simulated rig gets SimulatedDevice objects with the ids, serials and seeds of its rig file behind one simulated
pyusb backend (one bus, as on a real hub); a real rig gets the libusb backend. Everything above is the same code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hardware.firmware import FirmwareModule
from hardware.identifiers import DeviceId, SerialNumber
from hardware.platforms import Platform
from hardware.scanner.serial_scanner import SerialScanner, parse_terminator
from hardware.serial import ConsoleTimeouts, find_port
from hardware.serial.console import DEFAULT_CONSOLE_TIMEOUTS
from hardware.simulated import SimulatedDevice, Timing, usb_backend
from hardware.simulated.scanner_pty import SimulatedSerialScanner
from hardware.usb.dfu import DfuSession
from hardware.usb.discovery import DeviceInfo, DeviceMode, UsbBackend, default_backend, list_devices, open_device
from hardware.usb.flashing import enter_dfu, leave_dfu, open_control
from hardware.usb.timing import HostTiming
from station.demo.simulated_line import product_firmware
from tests.hil.harness.operator import Operator, absent_reason
from tests.hil.harness.rig import Rig, RigDevice

SIMULATED_CONSOLE_TIMEOUTS = ConsoleTimeouts(reply=2.0, idle_gap=0.05, probe=0.3, enter_listening=2.0)
"""Short enough that a simulated rig stays fast, long enough for a loaded CI machine."""


class NoFirmwareError(LookupError):
    """The rig gives no application binary for a real device, so nothing may be flashed to it."""


@dataclass
class DeviceHandle:
    """One rig device as a test sees it: how to reach it and who it must turn out to be."""

    rig_device: RigDevice
    backend: UsbBackend = field(repr=False)
    host_timing: HostTiming = field(repr=False)
    console_timeouts: ConsoleTimeouts = field(repr=False)
    simulated: SimulatedDevice | None = None
    """The simulated device behind this handle (inject faults, pull its cable); None on a real rig."""
    operator: Operator | None = field(default=None, repr=False)
    """A person at the rig who can pull cables and scan labels; None when nobody said they are present."""

    @property
    def name(self) -> str:
        return self.rig_device.name

    @property
    def platform(self) -> Platform:
        return self.rig_device.platform

    @property
    def expected_id(self) -> DeviceId:
        if self.rig_device.device_id is not None:
            return self.rig_device.device_id
        assert self.simulated is not None, "a real rig device always has an id (the rig parser requires it)"
        return self.simulated.device_id

    @property
    def expected_serial(self) -> SerialNumber | None:
        if self.rig_device.serial is not None:
            return self.rig_device.serial
        return self.simulated.serial if self.simulated is not None else None

    @property
    def label(self) -> str | None:
        """What the unit's label scans as: the simulated label, or the serial the rig file gives."""
        if self.simulated is not None:
            return self.simulated.label
        return self.expected_serial.value if self.expected_serial is not None else None

    def describe(self) -> str:
        slot = f" in slot {self.rig_device.slot}" if self.rig_device.slot is not None else ""
        return f"rig device {self.name} ({self.platform.display_name} {self.expected_id}){slot}"

    def serial_port(self) -> str:
        """The path of the device's CDC serial port (a pty for a simulated device)."""
        if self.simulated is not None:
            return self.simulated.serial_port()
        if self.rig_device.serial_port is not None:
            return self.rig_device.serial_port
        return find_port(self.expected_id).path

    def start_listening(self) -> None:
        """Ask the device over USB to enter listening mode (Device OS 6 has no serial trigger for it)."""
        with open_device(self.expected_id, backend=self.backend, mode=DeviceMode.NORMAL) as device:
            open_control(device, self.host_timing).start_listening()

    def application(self, product_id: int, version: int) -> bytes:
        """An application binary for this device: the rig's file on a real rig, a built one on a simulated rig."""
        if self.rig_device.firmware is not None:
            return self.rig_device.firmware.read_bytes()
        if self.simulated is None:
            raise NoFirmwareError(
                f"{self.describe()} has no `firmware` in the rig file; a real device is only flashed with an "
                "application the rig names (a synthetic one would not run on it)"
            )
        return product_firmware(self.platform, product_id, version)

    def erase_application(self, module: FirmwareModule) -> None:
        """Erase the first page where ``module`` goes, so the device no longer runs it and the line must flash it."""
        device = open_device(self.expected_id, backend=self.backend)
        device = enter_dfu(device, self.host_timing)
        session = DfuSession(device, timing=self.host_timing)
        try:
            session.erase(module.start_address, 1)
        except BaseException:
            device.close()
            raise
        leave_dfu(session, self.host_timing).close()

    def present(self, mode: DeviceMode | None = DeviceMode.NORMAL) -> bool:
        """Whether the device enumerates now (in ``mode``, when given)."""
        return any(
            info.device_id == self.expected_id and (mode is None or info.mode is mode)
            for info in list_devices(backend=self.backend)
        )

    def close(self) -> None:
        if self.simulated is not None:
            self.simulated.console.close()


class Bench:
    """The devices of one rig, the bus they share and the rig's scanner, for the length of one test."""

    def __init__(
        self,
        rig: Rig,
        handles: tuple[DeviceHandle, ...],
        backend: UsbBackend,
        *,
        simulated_scanner: SimulatedSerialScanner | None = None,
    ) -> None:
        self.rig = rig
        self.handles = handles
        self.backend = backend
        self.simulated_scanner = simulated_scanner

    def handle(self, name: str) -> DeviceHandle:
        for handle in self.handles:
            if handle.name == name:
                return handle
        self.rig.device(name)  # raises RigError naming the rig's devices
        raise AssertionError(name)

    def expected(self) -> dict[DeviceId, Platform]:
        """The rig's device ids and the platform each must enumerate as."""
        return {handle.expected_id: handle.platform for handle in self.handles}

    def list_devices(self) -> list[DeviceInfo]:
        """Every Particle device on the rig's bus now (including any the rig file does not name)."""
        return list_devices(backend=self.backend)

    @property
    def scanner_port(self) -> str | None:
        if self.simulated_scanner is not None:
            return self.simulated_scanner.port_path
        return self.rig.scanner.port if self.rig.scanner is not None else None

    def open_scanner(self) -> SerialScanner:
        """The rig's barcode scanner, opened; the caller closes it."""
        scanner = self.rig.scanner
        port = self.scanner_port
        if scanner is None or port is None:
            raise LookupError(f"{self.rig.describe()} has no [scanner]")
        return SerialScanner.open(port, baudrate=scanner.baudrate, terminator=parse_terminator(scanner.terminator))

    def present_label(self, handle: DeviceHandle) -> None:
        """Put ``handle``'s label in front of the scanner: a simulated scan, or a request to the person at the rig."""
        if self.simulated_scanner is not None and handle.label is not None:
            self.simulated_scanner.scan(handle.label)
        elif handle.operator is not None:
            handle.operator.ask(f"scan the label of {handle.describe()} with the rig's scanner")
        else:
            raise LookupError(absent_reason(f"scan the label of {handle.describe()}"))

    def close(self) -> None:
        for handle in self.handles:
            handle.close()
        if self.simulated_scanner is not None:
            self.simulated_scanner.close()


def open_bench(
    rig: Rig,
    *,
    operator: Operator | None = None,
    load_backend: Callable[[], UsbBackend] = default_backend,
    device_timing: Timing | None = None,
) -> Bench:
    """The rig's devices: simulated ones built from the rig file, or real ones behind ``load_backend()``."""
    if not rig.simulated:
        backend = load_backend()
        handles = tuple(
            DeviceHandle(device, backend, HostTiming(), DEFAULT_CONSOLE_TIMEOUTS, operator=operator)
            for device in rig.devices
        )
        return Bench(rig, handles, backend)
    devices = [
        SimulatedDevice(
            device.platform, device_id=device.device_id, serial=device.serial, device_os=device.device_os,
            timing=device_timing or Timing.zero(), seed=device.seed or f"{rig.name}/{device.name}",
        )
        for device in rig.devices
    ]
    backend = usb_backend(*devices)
    handles = tuple(
        DeviceHandle(device, backend, HostTiming.fast(), SIMULATED_CONSOLE_TIMEOUTS, simulated=simulated,
                     operator=operator)
        for device, simulated in zip(rig.devices, devices, strict=True)
    )
    scanner = None
    if rig.scanner is not None:
        scanner = SimulatedSerialScanner(terminator=parse_terminator(rig.scanner.terminator))
    return Bench(rig, handles, backend, simulated_scanner=scanner)
