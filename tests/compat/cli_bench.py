"""A bench for running Particle's own CLI (particle-cli 3.43.1) against simulated devices and the cloud emulator:
the devices on a USB bridge (node-usb replaced through ``NODE_OPTIONS=-r preload.js``), the emulator on a real
socket, and a HOME whose particle-cli profile points at both. Shared by the tests/compat CLI tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloud_client.emulator import EmulatorServer
from hardware.simulated import SimulatedDevice, SimulatedUsbBackend
from hardware.simulated.usb_bridge import ENVIRONMENT_VARIABLE, UsbBridge

REPO = Path(__file__).resolve().parents[2]
PRELOAD = REPO / "tests" / "compat" / "node" / "preload.js"
MODULES = REPO / ".cache" / "particle-cli" / "node_modules"
PARTICLE = MODULES / ".bin" / "particle"
INSTALL = "run `.ci/setup --tests` (npm install --prefix .cache/particle-cli particle-cli@3.43.1)"
CLI_TIMEOUT_S = 120
OWNER, PASSWORD, TOKEN = "alice@example.com", "alice-pw", "alice-token-0123456789"
PRODUCT = 12345

NEEDS_PARTICLE_CLI = [
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
            "NODE_OPTIONS": f'-r "{PRELOAD}"',
            ENVIRONMENT_VARIABLE: self.bridge.address,
        }
        return subprocess.run(
            [str(PARTICLE), *args], env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )


def bench_of(home: Path, *devices: SimulatedDevice, device_protection: str = "") -> Iterator[Bench]:
    """A bench with ``devices``; the emulator has OWNER's product PRODUCT (Boron) with ``device_protection``."""
    cloud = EmulatorServer(seed=7)
    cloud.add_owned_product(PRODUCT, "boron", OWNER, password=PASSWORD, access_token=TOKEN, name="Widget",
                            device_protection=device_protection)
    try:
        with cloud, UsbBridge(SimulatedUsbBackend(devices)) as bridge:
            yield Bench(bridge, cloud, home, devices)
    finally:
        for device in devices:
            device.console.close()  # the pty a serial command opened
