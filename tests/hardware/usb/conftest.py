"""Fixtures for the USB host tests: simulated devices behind a simulated pyusb backend, fast host timing, and
synthetic module binaries built from the format facts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from hardware.firmware import FirmwareModule, ModuleFunction, parse_module
from hardware.firmware_builder import build_module
from hardware.simulated import SimulatedDevice, usb_backend
from hardware.usb import DeviceControl, HostTiming, UsbDevice, open_control, open_device

SYSTEM_DEPENDENCY_INDEX = {"photon": 2, "p1": 2, "electron": 2}
"""Gen 2 user parts depend on system part 2, Gen 3 ones on system part 1 (particle-cli assets/knownApps binaries)."""
DEVICE_OS_MODULE = {"photon": 3302, "p1": 3302, "electron": 3302}
"""Simulated Gen 2 devices run Device OS 3.3.1; everything else 6.2.0 (6200)."""


@pytest.fixture
def timing() -> HostTiming:
    return HostTiming.fast(poll=0.001)


@pytest.fixture
def short_timeouts(timing: HostTiming) -> HostTiming:
    """For injected timeouts: the simulator makes the host wait its whole transfer timeout."""
    return replace(timing, transfer_timeout_ms=50, request_timeout=1.0)


@pytest.fixture
def device_factory() -> Callable[..., SimulatedDevice]:
    counter = iter(range(1000))

    def make(platform: str = "boron", **kwargs: object) -> SimulatedDevice:
        kwargs.setdefault("seed", f"usb-test-{platform}-{next(counter)}")
        return SimulatedDevice(platform, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def boron(device_factory: Callable[..., SimulatedDevice]) -> SimulatedDevice:
    return device_factory("boron")


@pytest.fixture
def open_usb() -> Iterator[Callable[[SimulatedDevice], UsbDevice]]:
    """Open a simulated device through pyusb (closed again at the end of the test)."""
    opened: list[UsbDevice] = []

    def opener(device: SimulatedDevice) -> UsbDevice:
        handle = open_device(device.device_id, backend=usb_backend(device))
        opened.append(handle)
        return handle

    yield opener
    for handle in opened:
        handle.close()


@pytest.fixture
def control_of(
    open_usb: Callable[[SimulatedDevice], UsbDevice], timing: HostTiming
) -> Callable[[SimulatedDevice], DeviceControl]:
    return lambda device: open_control(open_usb(device), timing)


def _user_part(
    platform: str,
    *,
    version: int = 42,
    size: int = 64 * 1024,
    index: int | None = None,
    dependency: int | None = None,
    seed: int = 0,
) -> FirmwareModule:
    """A user part binary for ``platform`` that its simulated device accepts (index 2 at 0xB4000 on nRF52840)."""
    if index is None:
        index = 2 if platform in ("boron", "argon", "bsom", "b5som", "tracker", "esomx", "electron2") else 1
    dep_version = DEVICE_OS_MODULE.get(platform, 6200) if dependency is None else dependency
    data = build_module(
        platform,
        ModuleFunction.USER_PART,
        index,
        version,
        size=size,
        dependencies=[(ModuleFunction.SYSTEM_PART, SYSTEM_DEPENDENCY_INDEX.get(platform, 1), dep_version)],
        seed=seed,
    )
    return parse_module(data, source=f"{platform}-app-v{version}.bin")


@pytest.fixture
def make_user_part() -> Callable[..., FirmwareModule]:
    """``make_user_part(platform, version=, size=, index=, dependency=, seed=)``: a parsed user part binary."""
    return _user_part
