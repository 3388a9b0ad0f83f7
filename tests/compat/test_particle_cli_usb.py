"""Particle's own CLI (particle-cli 3.43.1) drives the simulated devices: ``particle usb list`` (device names from
the cloud emulator), ``usb dfu / reset / start-listening / safe-mode``, ``serial list``, ``identify``,
and ``flash --local``, with node-usb replaced through ``NODE_OPTIONS=-r preload.js``
by the shim that reaches the USB bridge over a real socket (and serialport's port list by the simulated consoles,
real ptys the CLI opens itself). Device Protection: test_particle_cli_protection.py.

Needs node and particle-cli in .cache/particle-cli (``.ci/setup --tests``); skipped with that reason without them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hardware.simulated import DeviceMode, SimulatedDevice

from .cli_bench import INSTALL, MODULES, NEEDS_PARTICLE_CLI, OWNER, PRODUCT, REPO, TOKEN, Bench, bench_of

BORON_USER = REPO / "fixtures" / "firmware" / "boron-user.bin"
"""Boron user part 2 v6 at 0xB4000, product 12345 v7 (fixtures/firmware/manifest.json)."""

pytestmark = NEEDS_PARTICLE_CLI

# particle-cli 3.43.1 loads execa in its serial commands (src/lib/qdl.js) but ships it only as a devDependency.
needs_execa = pytest.mark.skipif(
    not (MODULES / "execa").is_dir(),
    reason=f"particle-cli's serial commands need execa, which npm does not install with it: {INSTALL}",
)


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[Bench]:
    yield from bench_of(tmp_path, SimulatedDevice("boron", seed=11), SimulatedDevice("argon", seed=12))


@pytest.fixture
def electron(tmp_path: Path) -> Iterator[Bench]:
    yield from bench_of(tmp_path, SimulatedDevice("electron", seed=13))


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
