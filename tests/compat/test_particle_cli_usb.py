"""Particle's own CLI (particle-cli 3.43.1) drives the simulated devices: ``particle usb list`` (device names from
the cloud emulator), ``usb dfu`` and ``usb reset``, with node-usb replaced through ``NODE_OPTIONS=-r preload.js``
by the shim that reaches the USB bridge over a real socket.

Needs node and particle-cli in .cache/particle-cli (``.ci/setup --tests``); skipped with that reason without them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cloud_client.emulator import EmulatorServer
from hardware.simulated import DeviceMode, SimulatedDevice, SimulatedUsbBackend
from hardware.simulated.usb_bridge import ENVIRONMENT_VARIABLE, UsbBridge

REPO = Path(__file__).resolve().parents[2]
PRELOAD = REPO / "tests" / "compat" / "node" / "preload.js"
PARTICLE = REPO / ".cache" / "particle-cli" / "node_modules" / ".bin" / "particle"
INSTALL = "run `.ci/setup --tests` (npm install --prefix .cache/particle-cli particle-cli@3.43.1)"
CLI_TIMEOUT_S = 120
OWNER, PASSWORD, TOKEN = "alice@example.com", "alice-pw", "alice-token-0123456789"
PRODUCT = 12345

pytestmark = [
    pytest.mark.skipif(shutil.which("node") is None, reason=f"node is not installed: install Node.js, then {INSTALL}"),
    pytest.mark.skipif(not PARTICLE.exists(), reason=f"particle-cli is not installed: {INSTALL}"),
]


class Bench:
    """Simulated devices on a USB bridge, the cloud emulator, and a HOME whose particle-cli profile uses both."""

    def __init__(self, bridge: UsbBridge, cloud: EmulatorServer, home: Path, devices: tuple[SimulatedDevice, ...]):
        self.bridge = bridge
        self.cloud = cloud
        self.home = home
        self.devices = devices

    def particle(self, *args: str) -> subprocess.CompletedProcess[str]:
        settings = self.home / ".particle" / "particle.config.json"
        if not settings.exists():
            settings.parent.mkdir(parents=True)
            settings.write_text(json.dumps({"apiUrl": self.cloud.base_url, "access_token": TOKEN, "username": OWNER}))
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(self.home),
            "CI": "true",
            "NO_COLOR": "1",
            "NODE_OPTIONS": f"-r {PRELOAD}",
            ENVIRONMENT_VARIABLE: self.bridge.address,
        }
        return subprocess.run(
            [str(PARTICLE), *args], env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[Bench]:
    devices = (SimulatedDevice("boron", seed=11), SimulatedDevice("argon", seed=12))
    cloud = EmulatorServer(seed=7)
    cloud.add_owned_product(PRODUCT, "boron", OWNER, password=PASSWORD, access_token=TOKEN, name="Widget")
    with cloud, UsbBridge(SimulatedUsbBackend(devices)) as bridge:
        yield Bench(bridge, cloud, tmp_path, devices)


def test_usb_list_ids_only_lists_the_simulated_devices(bench: Bench) -> None:
    result = bench.particle("usb", "list", "--ids-only")
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.split()) == sorted(d.device_id.value for d in bench.devices)


def test_usb_list_names_the_devices_the_cloud_knows(bench: Bench) -> None:
    boron, argon = bench.devices
    bench.cloud.add_device(boron.device_id.value, "boron", owner=OWNER)
    with httpx.Client(base_url=str(bench.cloud.base_url), headers={"Authorization": f"Bearer {TOKEN}"}) as api:
        api.put(f"/v1/devices/{boron.device_id.value}", json={"name": "bench-boron"}).raise_for_status()
    result = bench.particle("usb", "list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f"bench-boron [{boron.device_id.value}] (Boron)" in lines
    assert f"<no name> [{argon.device_id.value}] (Argon)" in lines


def test_usb_dfu_puts_the_device_into_dfu_mode_and_usb_list_says_so(bench: Bench) -> None:
    boron = bench.devices[0]
    result = bench.particle("usb", "dfu", boron.device_id.value)
    assert result.returncode == 0, result.stderr
    assert boron.mode is DeviceMode.DFU
    assert bench.devices[1].mode is DeviceMode.NORMAL
    listed = bench.particle("usb", "list")
    assert f"<no name> [{boron.device_id.value}] (Boron, DFU)" in listed.stdout.splitlines()


def test_usb_reset_reboots_only_the_named_device(bench: Bench) -> None:
    boron, argon = bench.devices
    boots = boron.boot_count, argon.boot_count
    result = bench.particle("usb", "reset", argon.device_id.value)
    assert result.returncode == 0, result.stderr
    assert (boron.boot_count, argon.boot_count) == (boots[0], boots[1] + 1)


def test_an_unreachable_bridge_fails_the_command_and_says_why(bench: Bench) -> None:
    bench.bridge.close()
    result = bench.particle("usb", "list", "--ids-only")
    assert result.returncode == 1
    assert f"USB bridge at {bench.bridge.address}" in result.stderr
    assert "ECONNREFUSED" in result.stderr
