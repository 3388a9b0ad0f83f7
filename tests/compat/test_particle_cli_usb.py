"""Particle's own CLI (particle-cli 3.43.1) drives the simulated devices: ``particle usb list`` (device names from
the cloud emulator), ``usb dfu / reset / start-listening / safe-mode``, ``serial list``, ``identify``,
``flash --local`` and ``device-protection status``, with node-usb replaced through ``NODE_OPTIONS=-r preload.js``
by the shim that reaches the USB bridge over a real socket (and serialport's port list by the simulated consoles,
real ptys the CLI opens itself).

Needs node and particle-cli in .cache/particle-cli (``.ci/setup --tests``); skipped with that reason without them.
"""

from __future__ import annotations

import inspect
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
MODULES = REPO / ".cache" / "particle-cli" / "node_modules"
PARTICLE = MODULES / ".bin" / "particle"
INSTALL = "run `.ci/setup --tests` (npm install --prefix .cache/particle-cli particle-cli@3.43.1)"
CLI_TIMEOUT_S = 120
OWNER, PASSWORD, TOKEN = "alice@example.com", "alice-pw", "alice-token-0123456789"
PRODUCT = 12345
BORON_USER = REPO / "fixtures" / "firmware" / "boron-user.bin"
"""Boron user part 2 v6 at 0xB4000, product 12345 v7 (fixtures/firmware/manifest.json)."""

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
            "NODE_OPTIONS": f'-r "{PRELOAD}"',
            ENVIRONMENT_VARIABLE: self.bridge.address,
        }
        return subprocess.run(
            [str(PARTICLE), *args], env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )


# particle-cli 3.43.1 loads execa in its serial commands (src/lib/qdl.js) but ships it only as a devDependency.
needs_execa = pytest.mark.skipif(
    not (MODULES / "execa").is_dir(),
    reason=f"particle-cli's serial commands need execa, which npm does not install with it: {INSTALL}",
)


def _bench(home: Path, *devices: SimulatedDevice) -> Iterator[Bench]:
    cloud = EmulatorServer(seed=7)
    cloud.add_owned_product(PRODUCT, "boron", OWNER, password=PASSWORD, access_token=TOKEN, name="Widget")
    try:
        with cloud, UsbBridge(SimulatedUsbBackend(devices)) as bridge:
            yield Bench(bridge, cloud, home, devices)
    finally:
        for device in devices:
            device.console.close()  # the pty a serial command opened


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[Bench]:
    yield from _bench(tmp_path, SimulatedDevice("boron", seed=11), SimulatedDevice("argon", seed=12))


@pytest.fixture
def electron(tmp_path: Path) -> Iterator[Bench]:
    yield from _bench(tmp_path, SimulatedDevice("electron", seed=13))


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


def test_usb_start_listening_puts_the_device_into_listening_mode(bench: Bench) -> None:
    boron = bench.devices[0]
    result = bench.particle("usb", "start-listening", boron.device_id.value)
    assert result.returncode == 0, result.stderr
    assert boron.mode is DeviceMode.LISTENING


def test_usb_safe_mode_reboots_the_device_into_safe_mode(bench: Bench) -> None:
    argon = bench.devices[1]
    result = bench.particle("usb", "safe-mode", argon.device_id.value)
    assert result.returncode == 0, result.stderr
    assert argon.safe_mode


@needs_execa
def test_serial_list_shows_each_devices_console_with_its_id(bench: Bench) -> None:
    result = bench.particle("serial", "list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for device in bench.devices:
        assert f"{device.serial_port()} - {device.platform.display_name} - {device.device_id.value}" in lines


@needs_execa
def test_identify_reads_a_borons_id_imei_iccid_and_device_os(bench: Bench) -> None:
    boron = bench.devices[0]
    result = bench.particle("identify", "--port", boron.serial_port())
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"Your device id is {boron.device_id.value}",
        f"Your IMEI is {boron.imei}",
        f"Your ICCID is {boron.iccid}",
        f"Your system firmware version is {boron.device_os}",
    ]


@needs_execa
def test_identify_reads_a_listening_gen2_electrons_imei_and_iccid_over_serial(electron: Bench) -> None:
    device = electron.devices[0]
    device.start_listening()
    result = electron.particle("identify", "--port", device.serial_port())
    assert result.returncode == 0, result.stderr
    assert f"Your IMEI is {device.imei}" in result.stdout.splitlines()
    assert f"Your ICCID is {device.iccid}" in result.stdout.splitlines()
    assert f"Your system firmware version is {device.device_os}" in result.stdout.splitlines()



@needs_execa
def test_flash_local_puts_the_user_part_into_the_simulated_flash_over_dfu(bench: Bench) -> None:
    boron = bench.devices[0]
    image = BORON_USER.read_bytes()
    result = bench.particle("flash", "--local", boron.device_id.value, str(BORON_USER))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Flash success!" in result.stdout
    assert boron.mode is DeviceMode.NORMAL
    running = boron.running_user_part
    assert running is not None
    assert (running.start, running.version, running.product) == (0xB4000, 6, (PRODUCT, 7))
    assert boron.read_flash(0xB4000, len(image)) == image


# --- particle device-protection status (particle-cli src/cmd/device-protection.js getStatus) ---------------------

PROTECTION_SIMULATED = "protection" in inspect.signature(SimulatedDevice).parameters
STATUS_TEXT = {"open": "Open Device", "protected": "Protected Device", "service": "Protected Device (Service Mode)"}


def test_device_protection_status_of_an_open_boron_names_its_product(bench: Bench) -> None:
    boron = bench.devices[0]
    bench.cloud.add_device(boron.device_id.value, "boron", owner=OWNER, product_id=PRODUCT)
    result = bench.particle("device-protection", "status", "--device", boron.device_id.value)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"[{boron.device_id.value}] (Product {PRODUCT}): Open Device" in result.stdout


@pytest.fixture
def photon(tmp_path: Path) -> Iterator[Bench]:
    yield from _bench(tmp_path, SimulatedDevice("photon", seed=14))


def test_device_protection_status_of_a_gen2_photon_is_not_supported(photon: Bench) -> None:
    device = photon.devices[0]
    result = photon.particle("device-protection", "status", "--device", device.device_id.value)
    assert result.returncode == 1
    assert "Device Protection feature is not supported on this device" in result.stdout + result.stderr


@pytest.fixture
def protected_boron(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Bench]:
    """A boron in the protection state named by the test's ``protected_boron`` parameter."""
    yield from _bench(tmp_path, SimulatedDevice("boron", seed=15, **{"protection": request.param}))


@pytest.mark.skipif(not PROTECTION_SIMULATED, reason="needs SimulatedDevice(protection=...)")
@pytest.mark.parametrize(("protected_boron", "text"), STATUS_TEXT.items(), indirect=["protected_boron"])
def test_device_protection_status_names_each_state(protected_boron: Bench, text: str) -> None:
    boron = protected_boron.devices[0]
    result = protected_boron.particle("device-protection", "status", "--device", boron.device_id.value)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"[{boron.device_id.value}] (Product N/A): {text}" in result.stdout
