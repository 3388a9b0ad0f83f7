"""Particle's own USB library (particle-usb 4.1.0, as particle-cli 3.43.1 ships it) accepts the simulated devices:
node runs particle-usb's public API, with node-usb replaced by tests/compat/node/usb_shim.js, against simulated
devices served by the USB bridge over a real socket, and what particle-usb returns is compared with the simulator.

Needs node and particle-cli in .cache/particle-cli (``.ci/setup --tests``); skipped with that reason without them.
"""

from __future__ import annotations

import inspect
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hardware.simulated import DeviceMode, SimulatedDevice, SimulatedUsbBackend
from hardware.simulated.memory_map import dfu_layouts
from hardware.simulated.usb_bridge import ENVIRONMENT_VARIABLE, UsbBridge

REPO = Path(__file__).resolve().parents[2]
NODE_DIR = REPO / "tests" / "compat" / "node"
PRELOAD = NODE_DIR / "preload.js"
PARTICLE_USB = REPO / ".cache" / "particle-cli" / "node_modules" / "particle-usb"
NODE = shutil.which("node")
NODE_TIMEOUT_S = 60
INSTALL = "run `.ci/setup --tests` (npm install --prefix .cache/particle-cli particle-cli@3.43.1)"

pytestmark = [
    pytest.mark.skipif(NODE is None, reason=f"node is not installed: install Node.js, then {INSTALL}"),
    pytest.mark.skipif(not PARTICLE_USB.is_dir(), reason=f"particle-usb (particle-cli) is not installed: {INSTALL}"),
]


class Line:
    """Simulated devices on a bridge, and a way to run particle-usb against them."""

    def __init__(self, bridge: UsbBridge, devices: tuple[SimulatedDevice, ...]) -> None:
        self.bridge = bridge
        self.devices = devices

    def probe(self, *args: object) -> Any:
        """Run tests/compat/node/probe.js; its JSON result, or fail with what node printed."""
        assert NODE is not None
        result = subprocess.run(
            [NODE, "-r", str(PRELOAD), str(NODE_DIR / "probe.js"), str(PARTICLE_USB), *map(str, args)],
            env={ENVIRONMENT_VARIABLE: self.bridge.address, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=NODE_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


def _line(*devices: SimulatedDevice) -> Iterator[Line]:
    with UsbBridge(SimulatedUsbBackend(devices)) as bridge:
        yield Line(bridge, devices)


@pytest.fixture
def line() -> Iterator[Line]:
    yield from _line(
        SimulatedDevice("boron", seed=1),
        SimulatedDevice("argon", seed=2),
        SimulatedDevice("p2", seed=3),
        SimulatedDevice("photon", seed=4),
    )


@pytest.fixture
def boron() -> Iterator[Line]:
    yield from _line(SimulatedDevice("boron", seed=4))


def test_get_devices_finds_every_simulated_device_with_its_identity(line: Line) -> None:
    listed = {entry["id"]: entry for entry in line.probe("list")}
    assert set(listed) == {device.device_id.value for device in line.devices}
    for device in line.devices:
        entry = listed[device.device_id.value]
        assert entry["type"] == device.platform.name
        assert entry["platformId"] == device.platform.id
        assert entry["firmwareVersion"] == device.device_os
        assert entry["serialNumber"] == str(device.serial)
        assert entry["deviceId"] == device.device_id.value
        assert entry["deviceMode"] == "NORMAL"
        assert entry["isInDfuMode"] is False


def test_open_device_by_id_opens_the_device_with_that_id(line: Line) -> None:
    argon = line.devices[1]
    identified = line.probe("identify", argon.device_id.value)
    assert identified["deviceId"] == argon.device_id.value
    assert identified["type"] == "argon"


def test_a_listening_device_reports_listening_mode(boron: Line) -> None:
    device = boron.devices[0]
    device.start_listening()
    assert boron.probe("identify", device.device_id.value)["deviceMode"] == "LISTENING"


def test_reset_reboots_the_simulated_device(boron: Line) -> None:
    device = boron.devices[0]
    boots = device.boot_count
    boron.probe("reset", device.device_id.value)
    assert device.boot_count == boots + 1
    assert device.mode is DeviceMode.NORMAL


def test_enter_dfu_mode_brings_the_device_into_dfu_with_its_memory_map(boron: Line) -> None:
    device = boron.devices[0]
    result = boron.probe("dfu", device.device_id.value)
    assert device.mode is DeviceMode.DFU
    assert result["isInDfuMode"] is True
    internal = dfu_layouts(device.board)[0]
    assert result["memoryMap"]["name"] == internal.name
    assert [(s["start"], s["end"], s["sectorSize"], s["erasable"]) for s in result["memoryMap"]["segments"]] == [
        (s.start, s.end, s.page_size, s.erasable) for s in internal.segments
    ]


def test_dfu_upload_reads_what_the_simulator_holds(boron: Line) -> None:
    device = boron.devices[0]
    device.reboot(DeviceMode.DFU)
    bootloader = next(m for m in device.modules if m.function.name == "BOOTLOADER")
    result = boron.probe("read", device.device_id.value, 0, bootloader.start, 256)
    assert bytes.fromhex(result["data"]) == device.read_flash(bootloader.start, 256)


def test_an_open_device_of_device_os_6_is_not_protected(boron: Line) -> None:
    device = boron.devices[0]
    assert boron.probe("protection", device.device_id.value)["state"] == {"protected": False}
    device.reboot(DeviceMode.DFU)
    assert boron.probe("protection", device.device_id.value)["state"] == {"protected": False, "overridden": False}


# --- Device Protection: what particle-usb returns per state ----------------------------------------------------------

PROTECTION_SIMULATED = "protection" in inspect.signature(SimulatedDevice).parameters
needs_protection = pytest.mark.skipif(not PROTECTION_SIMULATED, reason="needs SimulatedDevice(protection=...)")

# particle-usb src/device.js getProtectionState (normal mode: GetProtectedState, 76) and src/dfu.js
# getProtectionState (DFU mode: string descriptor 0xFA "sm=o|p|s"); states from device-os system/src/control/config.cpp.
NORMAL_MODE_STATES = {
    "open": {"protected": False},
    "protected": {"protected": True},
    "service": {"protected": False, "overridden": True},
}
DFU_MODE_STATES = {
    "open": {"protected": False, "overridden": False},
    "protected": {"protected": True},
    "service": {"protected": False, "overridden": True},
}


@pytest.fixture
def protected_boron(request: pytest.FixtureRequest) -> Iterator[Line]:
    """A boron in the protection state named by the test's ``protected_boron`` parameter."""
    yield from _line(SimulatedDevice("boron", seed=5, **{"protection": request.param}))


@needs_protection
@pytest.mark.parametrize(("protected_boron", "expected"), NORMAL_MODE_STATES.items(), indirect=["protected_boron"])
def test_particle_usb_reads_the_protection_state_in_normal_mode(
    protected_boron: Line, expected: dict[str, bool]
) -> None:
    device = protected_boron.devices[0]
    result = protected_boron.probe("protection", device.device_id.value)
    assert result == {"isInDfuMode": False, "state": expected}


@needs_protection
@pytest.mark.parametrize(("protected_boron", "expected"), DFU_MODE_STATES.items(), indirect=["protected_boron"])
def test_particle_usb_reads_the_protection_state_in_dfu_mode(
    protected_boron: Line, expected: dict[str, bool]
) -> None:
    device = protected_boron.devices[0]
    device.reboot(DeviceMode.DFU)
    result = protected_boron.probe("protection", device.device_id.value)
    assert result == {"isInDfuMode": True, "state": expected}
