"""Fixtures for the serial tests: simulated devices whose consoles run on real ptys, and ports opened on them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
import serial

from hardware.firmware import ModuleFunction
from hardware.firmware_builder import build_module
from hardware.serial import ConsoleTimeouts, ListeningConsole
from hardware.serial.ymodem import YmodemTimeouts
from hardware.simulated.device import SimulatedDevice
from hardware.simulated.serial_pty import close_all_serial_consoles

FAST = ConsoleTimeouts(reply=2.0, idle_gap=0.1, probe=0.3, enter_listening=1.0)
"""Short enough that failure paths stay quick, long enough for a loaded CI machine."""
FAST_YMODEM = YmodemTimeouts(start=1.0, block=0.5, validation=3.0, retries=5)

DeviceFactory = Callable[..., SimulatedDevice]
ConsoleFactory = Callable[..., ListeningConsole]


@pytest.fixture(autouse=True)
def no_leaked_console_threads() -> Iterator[None]:
    yield
    close_all_serial_consoles()
    leaked = [t.name for t in threading.enumerate() if t.name.startswith("serial-pty")]
    assert not leaked, f"console threads still running: {leaked}"


@pytest.fixture
def make_device() -> DeviceFactory:
    """A simulated device, in listening mode unless ``listening=False``."""

    def make(
        platform: str = "boron", device_os: str = "5.9.0", *, listening: bool = True, **kwargs: object
    ) -> SimulatedDevice:
        device = SimulatedDevice(platform, device_os=device_os, seed=f"{platform}-{device_os}", **kwargs)  # type: ignore[arg-type]
        if listening:
            device.start_listening()
        return device

    return make


@pytest.fixture
def open_serial() -> Iterator[Callable[[str], serial.Serial]]:
    """Open a pty path with pyserial at 9600 baud, closed again at teardown."""
    opened: list[serial.Serial] = []

    def open_(path: str) -> serial.Serial:
        port = serial.Serial(path, 9600, timeout=0.02)
        opened.append(port)
        return port

    yield open_
    for port in opened:
        port.close()


@pytest.fixture
def console_for(open_serial: Callable[[str], serial.Serial]) -> ConsoleFactory:
    """A ListeningConsole on a real pyserial port opened on the device's simulated CDC port."""

    def make(device: SimulatedDevice, timeouts: ConsoleTimeouts = FAST) -> ListeningConsole:
        return ListeningConsole(open_serial(device.serial_port()), timeouts=timeouts)

    return make


@pytest.fixture
def user_part() -> Callable[..., bytes]:
    """Builds a valid user-part binary: ``user_part(platform="boron", version=7, size=6000, system=5901)``."""
    return build_user_part


def build_user_part(
    platform: str = "boron", *, version: int = 7, size: int = 6000, system: int = 5901, seed: int = 1
) -> bytes:
    """A valid user-part binary for ``platform`` that depends on system part 1 at module version ``system``."""
    index = 2 if platform in ("boron", "argon", "bsom") else 1
    dependency_index = 2 if platform in ("photon", "electron") else 1
    return build_module(
        platform,
        ModuleFunction.USER_PART,
        index,
        version,
        size=size,
        dependencies=[(ModuleFunction.SYSTEM_PART, dependency_index, system)],
        seed=seed,
    )
