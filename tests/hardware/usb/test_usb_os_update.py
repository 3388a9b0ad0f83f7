"""Device OS updates from a bundle against simulated devices: particle-cli's order, skipping, DFU and normal-mode
steps, DROP_MODULE_INFO, and confirmation of the new versions (particle-cli 3.43.1 src/lib/flash-helper.js;
particle-usb 4.1.0 src/device.js updateFirmware)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from hardware.firmware import FirmwareModule, ModuleFlag, ModuleFunction, parse_module
from hardware.firmware_builder import build_module
from hardware.simulated import DeviceMode as SimMode
from hardware.simulated import SimulatedDevice, usb_backend
from hardware.usb import HostTiming, OsUpdateResult, open_device, update_device_os
from hardware.usb.errors import DeviceWaitTimeoutError, IncompatibleFirmwareError

Factory = Callable[..., SimulatedDevice]
F = ModuleFunction


def module(platform: str, function: F, index: int, version: int, size: int = 16 * 1024, **kw: object) -> FirmwareModule:
    return parse_module(build_module(platform, function, index, version, size=size, **kw))  # type: ignore[arg-type]


def update(device: SimulatedDevice, modules: list[FirmwareModule], timing: HostTiming) -> OsUpdateResult:
    handle = open_device(device.device_id, backend=usb_backend(device))
    result = update_device_os(handle, modules, timing=timing)
    result.device.close()
    return result


def versions(device: SimulatedDevice) -> dict[tuple[F, int], int]:
    return {(F(m.function.value), m.index): m.version for m in device.modules}


def test_bootloader_goes_in_normal_mode_before_the_system_part_over_dfu(
    boron: SimulatedDevice, timing: HostTiming
) -> None:
    bundle = [
        module("boron", F.SYSTEM_PART, 1, 6201, size=64 * 1024, dependencies=[(F.BOOTLOADER, 0, 3200)]),
        module("boron", F.BOOTLOADER, 0, 3200),
    ]
    result = update(boron, bundle, timing)
    phases = [p.phase for p in result.phases]
    assert phases.index("bootloader 0") < phases.index("enter_dfu") < phases.index("system 1 write")
    assert versions(boron)[(F.BOOTLOADER, 0)] == 3200 and versions(boron)[(F.SYSTEM_PART, 1)] == 6201


def test_system_part_lands_byte_exact_at_its_prefix_address(boron: SimulatedDevice, timing: HostTiming) -> None:
    system = module("boron", F.SYSTEM_PART, 1, 6201, size=64 * 1024)
    update(boron, [system], timing)
    assert boron.read_flash(system.start_address, system.file_size) == system.data


def test_modules_already_installed_are_skipped(boron: SimulatedDevice, timing: HostTiming) -> None:
    result = update(boron, [module("boron", F.BOOTLOADER, 0, 3100), module("boron", F.SYSTEM_PART, 1, 6201)], timing)
    assert [s.reason for s in result.skipped] == ["already installed"]
    assert result.flashed == ("system part 1 version 6201 for Boron (platform 13)",)


def test_device_in_dfu_mode_gets_its_dfu_modules_first(boron: SimulatedDevice, timing: HostTiming) -> None:
    boron.reboot(mode=SimMode.DFU)
    bundle = [module("boron", F.BOOTLOADER, 0, 3200), module("boron", F.SYSTEM_PART, 1, 6201)]
    phases = [p.phase for p in update(boron, bundle, timing).phases]
    assert phases.index("system 1 write") < phases.index("bootloader 0")


def test_system_parts_are_flashed_in_dependency_order(device_factory: Factory, timing: HostTiming) -> None:
    photon = device_factory("photon")
    part1 = module("photon", F.SYSTEM_PART, 1, 3303, size=32 * 1024)
    part2 = module("photon", F.SYSTEM_PART, 2, 3303, size=32 * 1024, dependencies=[(F.SYSTEM_PART, 1, 3303)])
    phases = [p.phase for p in update(photon, [part2, part1], timing).phases]
    assert phases.index("system 1 write") < phases.index("system 2 write")
    assert versions(photon)[(F.SYSTEM_PART, 1)] == versions(photon)[(F.SYSTEM_PART, 2)] == 3303


def test_drop_module_info_radio_stack_is_written_without_its_prefix(boron: SimulatedDevice, timing: HostTiming) -> None:
    boron.reboot(mode=SimMode.DFU)  # module info cannot be read in DFU mode, so nothing is skipped
    radio = module("boron", F.RADIO_STACK, 0, 202, size=8 * 1024, flags=ModuleFlag.DROP_MODULE_INFO)
    update(boron, [radio], timing)
    assert boron.read_flash(radio.start_address, radio.file_size - 24) == radio.data[24:]


def test_encrypted_and_non_device_os_modules_are_skipped_with_reasons(
    boron: SimulatedDevice, make_user_part: Callable[..., FirmwareModule], timing: HostTiming
) -> None:
    encrypted = module("boron", F.BOOTLOADER, 0, 3200, flags=ModuleFlag.ENCRYPTED)
    result = update(boron, [encrypted, make_user_part("boron")], timing)
    reasons = sorted(s.reason for s in result.skipped)
    assert reasons[0] == "a user part is not part of a Device OS update" and reasons[1].startswith("encrypted")
    assert result.flashed == ()


def test_modules_for_another_platform_are_refused(boron: SimulatedDevice, timing: HostTiming) -> None:
    with pytest.raises(IncompatibleFirmwareError, match="P2"):
        update(boron, [module("p2", F.SYSTEM_PART, 1, 6201, size=32 * 1024)], timing)


def test_modules_depending_on_each_other_in_a_circle_are_refused(boron: SimulatedDevice, timing: HostTiming) -> None:
    a = module("boron", F.SYSTEM_PART, 1, 6201, dependencies=[(F.BOOTLOADER, 0, 3200)])
    b = module("boron", F.BOOTLOADER, 0, 3200, dependencies=[(F.SYSTEM_PART, 1, 6201)])
    with pytest.raises(IncompatibleFirmwareError, match="circle"):
        update(boron, [a, b], timing)


def test_system_part_whose_dependency_is_missing_never_counts_as_updated(
    boron: SimulatedDevice, timing: HostTiming
) -> None:
    system = module("boron", F.SYSTEM_PART, 1, 6201, size=32 * 1024, dependencies=[(F.BOOTLOADER, 0, 3999)])
    with pytest.raises(DeviceWaitTimeoutError, match="normal mode"):
        update(boron, [system], replace(timing, reenumerate_timeout=0.2))
