"""Particle's own ``particle device-protection status|disable|enable`` and ``usb list`` (particle-cli 3.43.1,
src/cmd/device-protection.js, src/lib/device-protection-helper.js, src/cmd/usb.js) against simulated devices on the
USB bridge and the cloud emulator on a real socket: each of the three states read in normal and in DFU mode as on a
real device, the full disable handshake (device, cloud, device) into Service Mode and ``enable`` back to protected.

Needs node and particle-cli in .cache/particle-cli (``.ci/setup --tests``); skipped with that reason without them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.firmware import ModuleFunction
from hardware.firmware.extensions import ProductDataExtension
from hardware.firmware_builder import build_module
from hardware.simulated import DeviceMode, SimulatedDevice
from hardware.simulated.security_module import security_mode

from .cli_bench import NEEDS_PARTICLE_CLI, OWNER, PRODUCT, Bench, bench_of

pytestmark = NEEDS_PARTICLE_CLI

# particle-cli src/cmd/device-protection.js getStatus: the three names of a device's state.
STATUS_TEXT = {"open": "Open Device", "protected": "Protected Device", "service": "Protected Device (Service Mode)"}
SERVICE_MODE_TEXT = "is now in Service Mode."
SECURITY_MODE_PROTECTED = 1
"""Device OS dynalib/inc/module_info.h MODULE_INFO_SECURITY_MODE_PROTECTED."""


def _boron_in(tmp_path: Path, protection: str, *, product: bool = True, device_protection: str = "active"
              ) -> Iterator[Bench]:
    """A boron in ``protection``, known to the emulator (in PRODUCT unless ``product`` is False)."""
    device = SimulatedDevice("boron", seed=15, protection=protection)
    for bench in bench_of(tmp_path, device, device_protection=device_protection):
        bench.cloud.add_device(device.device_id.value, "boron", owner=OWNER,
                               product_id=PRODUCT if product else None, protected=protection != "open")
        yield bench


@pytest.fixture
def boron(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Bench]:
    """A boron of PRODUCT (Device Protection active) in the state named by the test's ``boron`` parameter."""
    yield from _boron_in(tmp_path, request.param)


def _status(bench: Bench) -> str:
    device = bench.devices[0]
    result = bench.particle("device-protection", "status", "--device", device.device_id.value)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _unprotect_calls(bench: Bench) -> list[tuple[str, str, int]]:
    suffix = f"/v1/devices/{bench.devices[0].device_id.value}/unprotect"
    return [(m, p, s) for m, p, s in bench.cloud.request_log if p == suffix]


# --- status -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("boron", "text"), STATUS_TEXT.items(), indirect=["boron"])
def test_status_names_each_state_in_normal_mode(boron: Bench, text: str) -> None:
    device = boron.devices[0]
    assert f"[{device.device_id.value}] (Product {PRODUCT}): {text}\n" in _status(boron)
    assert device.mode is DeviceMode.NORMAL


@pytest.mark.parametrize(("boron", "text"), STATUS_TEXT.items(), indirect=["boron"])
def test_status_names_each_state_in_dfu_mode(boron: Bench, text: str) -> None:
    # In DFU mode particle-usb reads string descriptor 0xFA ("sm=o|p|s", particle-usb src/dfu.js).
    device = boron.devices[0]
    device.reboot(DeviceMode.DFU)
    assert f"[{device.device_id.value}] (Product {PRODUCT}): {text}\n" in _status(boron)
    assert device.mode is DeviceMode.DFU


def test_status_of_a_device_in_no_product_says_product_na(tmp_path: Path) -> None:
    for bench in _boron_in(tmp_path, "protected", product=False):
        device = bench.devices[0]
        assert f"[{device.device_id.value}] (Product N/A): Protected Device\n" in _status(bench)


def test_status_of_a_gen2_photon_is_not_supported(tmp_path: Path) -> None:
    for bench in bench_of(tmp_path, SimulatedDevice("photon", seed=14)):
        result = bench.particle("device-protection", "status", "--device", bench.devices[0].device_id.value)
        assert result.returncode == 1
        assert "Device Protection feature is not supported on this device" in result.stdout + result.stderr


# --- usb list -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("boron", ["protected"], indirect=True)
def test_usb_list_shows_a_protected_device_as_protected(boron: Bench) -> None:
    # particle-cli src/cmd/usb.js: GetDeviceMode (72) answers -1801, so the type column says PROTECTED.
    device = boron.devices[0]
    result = boron.particle("usb", "list")
    assert result.returncode == 0, result.stderr
    assert f"<no name> [{device.device_id.value}] (Boron, PROTECTED)" in result.stdout.splitlines()


# --- disable: the handshake into Service Mode, then enable back -------------------------------------------------


@pytest.mark.parametrize("boron", ["protected"], indirect=True)
@pytest.mark.parametrize("mode", [DeviceMode.NORMAL, DeviceMode.DFU])
def test_disable_runs_the_handshake_into_service_mode_and_enable_protects_again(
    boron: Bench, mode: DeviceMode
) -> None:
    device = boron.devices[0]
    if mode is DeviceMode.DFU:
        device.reboot(DeviceMode.DFU)
    result = boron.particle("device-protection", "disable", "--device", device.device_id.value)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"[{device.device_id.value}] (Product {PRODUCT}) {SERVICE_MODE_TEXT}" in result.stdout
    # The device verified the emulator's signature: Service Mode with its 20 resets.
    assert device.protection == "service"
    assert device.security.service_mode_resets_left == 20
    if mode is DeviceMode.DFU:  # DfuSe 0xFA first: the device left DFU for safe mode (particle-usb src/dfu.js)
        assert device.mode is DeviceMode.NORMAL and device.safe_mode
    # The emulator issued a nonce ('prepare'), signed for it ('confirm'), and the nonce is spent.
    path = f"/v1/devices/{device.device_id.value}/unprotect"
    assert _unprotect_calls(boron) == [("PUT", path, 200), ("PUT", path, 200)]
    assert device.device_id.value not in boron.cloud.cloud.unprotect_nonces
    assert STATUS_TEXT["service"] in _status(boron)

    result = boron.particle("device-protection", "enable", "--device", device.device_id.value)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"[{device.device_id.value}] (Product {PRODUCT}) is now a Protected Device." in result.stdout
    assert device.protection == "protected"
    assert f"(Product {PRODUCT}): {STATUS_TEXT['protected']}\n" in _status(boron)


@pytest.mark.parametrize("boron", ["open"], indirect=True)
def test_disable_on_an_open_device_says_it_is_not_protected_and_asks_no_nonce(boron: Bench) -> None:
    device = boron.devices[0]
    result = boron.particle("device-protection", "disable", "--device", device.device_id.value)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"[{device.device_id.value}] (Product {PRODUCT}) is not a Protected Device." in result.stdout
    assert device.protection == "open"
    assert _unprotect_calls(boron) == []


@pytest.mark.parametrize("boron", ["service"], indirect=True)
def test_enable_in_dfu_mode_leaves_service_mode_without_leaving_dfu(boron: Bench) -> None:
    # particle-usb src/dfu.js clearSecurityModeOverride: DfuSe 0xFB, the device stays in DFU.
    device = boron.devices[0]
    device.reboot(DeviceMode.DFU)
    result = boron.particle("device-protection", "enable", "--device", device.device_id.value)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is now a Protected Device." in result.stdout
    assert device.protection == "protected"
    assert device.mode is DeviceMode.DFU


@pytest.mark.parametrize("boron", ["protected"], indirect=True)
def test_enable_on_a_protected_device_says_it_already_is(boron: Bench) -> None:
    result = boron.particle("device-protection", "enable", "--device", boron.devices[0].device_id.value)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is already a Protected Device." in result.stdout


# --- enable on an Open Device -------------------------------------------------------------------------------------


def _device_os_bootloader(directory: Path) -> Path:
    """A Boron bootloader 0 v3100 shaped like Device OS's own: its suffix always carries the PRODUCT_DATA extension
    (device-os dynalib/inc/module_info.h, module_info_suffix_t ext_product, "always present"), which
    binary-version-reader's createProtectedModule needs to add SECURITY_MODE in front of it."""
    path = directory / "boron-bootloader@6.2.0.bin"
    image = build_module("boron", ModuleFunction.BOOTLOADER, 0, 3100, None, 8192,
                         suffix_extensions=[ProductDataExtension(0xFFFF, 0xFFFF)])
    path.write_bytes(image)
    return path


@pytest.mark.parametrize("boron", ["open"], indirect=True)
def test_enable_with_a_bootloader_file_protects_an_open_device(boron: Bench, tmp_path: Path) -> None:
    # Offline form (--file): particle-cli adds SECURITY_MODE to the bootloader and flashes it over DFU.
    device = boron.devices[0]
    bootloader = _device_os_bootloader(tmp_path)
    result = boron.particle("device-protection", "enable", "--device", device.device_id.value,
                            "--file", str(bootloader))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"[{device.device_id.value}] (Product {PRODUCT}) is now a Protected Device." in result.stdout
    assert device.protection == "protected"
    boot = next(m for m in device.modules if m.function.name == "BOOTLOADER")
    assert security_mode(device.read_flash(boot.start, boot.size)) == SECURITY_MODE_PROTECTED
    assert f"(Product {PRODUCT}): {STATUS_TEXT['protected']}\n" in _status(boron)


def test_enable_online_needs_a_product_with_device_protection(tmp_path: Path) -> None:
    # Online form: GET /v1/devices/:id (product_id) then GET /v1/products/:id (device_protection == "active").
    for bench in _boron_in(tmp_path, "open", device_protection=""):
        device = bench.devices[0]
        result = bench.particle("device-protection", "enable", "--device", device.device_id.value)
        assert result.returncode == 0, result.stdout + result.stderr
        assert (f"[{device.device_id.value}] (Product {PRODUCT}) is not in a product that supports Device "
                "Protection.") in result.stdout
        assert device.protection == "open"
        assert ("GET", f"/v1/products/{PRODUCT}", 200) in bench.cloud.request_log
