"""Flashing application firmware end to end against simulated devices: placement per MCU family, the 0xD4000 rule,
validation, faults with a retry after each, and the rule that a unit is good only when it runs the new user part."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hardware.firmware import FirmwareModule, ModuleFunction, parse_module
from hardware.firmware_builder import build_module
from hardware.progress import Cancelled, CancelToken, ProgressEvent
from hardware.simulated import DeviceMode as SimMode
from hardware.simulated import SimulatedDevice, Timing, usb_backend
from hardware.usb import FlashResult, HostTiming, flash_user_firmware, open_device
from hardware.usb.errors import (
    DeviceDisconnectedError,
    FlashError,
    IncompatibleFirmwareError,
    UsbStallError,
    UsbTimeoutError,
    VerifyError,
)
from hardware.usb.protocol import DfuRequest, ServiceRequest

Factory = Callable[..., SimulatedDevice]
MakePart = Callable[..., FirmwareModule]

LEGACY_SLOT = 0xD4000
PAGE = 4096


def flash(device: SimulatedDevice, module: FirmwareModule, timing: HostTiming, **kwargs: object) -> FlashResult:
    handle = open_device(device.device_id, backend=usb_backend(device))
    result = flash_user_firmware(handle, module, timing=timing, **kwargs)  # type: ignore[arg-type]
    result.device.close()
    return result


def assert_runs(device: SimulatedDevice, module: FirmwareModule) -> None:
    assert device.read_flash(module.start_address, module.file_size) == module.data
    running = device.running_user_part
    assert device.mode is SimMode.NORMAL and running is not None
    assert (running.start, running.version, running.sha256) == (
        module.start_address,
        module.version,
        module.fw_unique_id,
    )


@pytest.mark.parametrize(
    ("platform", "address"),
    [
        ("boron", 0xB4000),
        ("argon", 0xB4000),
        ("tracker", 0xB4000),
        ("photon", 0x080A0000),
        ("p1", 0x080A0000),
        ("electron", 0x08080000),
        ("p2", 0x08600000 - 96 * 1024),
        ("msom", 0x08600000 - 96 * 1024),
    ],
)
def test_user_part_lands_byte_exact_at_its_platform_address_and_runs(
    platform: str, address: int, device_factory: Factory, make_user_part: MakePart, timing: HostTiming
) -> None:
    device = device_factory(platform)
    module = make_user_part(platform, size=96 * 1024)
    result = flash(device, module, timing)
    assert (result.address, result.running.version, result.bytes_written) == (address, 42, 96 * 1024)
    assert_runs(device, module)


@pytest.mark.parametrize("size", [48 * 1024, 200 * 1024])
def test_rtl872x_user_part_start_moves_with_its_size(
    size: int, device_factory: Factory, make_user_part: MakePart, timing: HostTiming
) -> None:
    device = device_factory("p2")
    module = make_user_part("p2", size=size)
    assert flash(device, module, timing).address == 0x08600000 - size
    assert_runs(device, module)


def test_legacy_slot_is_invalidated_when_the_dependency_is_3_1_or_later(
    device_factory: Factory, make_user_part: MakePart, timing: HostTiming
) -> None:
    device = device_factory("boron", device_os="5.9.0")  # a bootloader that does not erase 0xD4000 itself
    device.write_flash(LEGACY_SLOT, bytes(range(256)) * 16)
    result = flash(device, make_user_part("boron", dependency=3103), timing)
    assert result.legacy_slot_invalidated
    assert device.read_flash(LEGACY_SLOT, PAGE) == b"\xff" * PAGE


def test_legacy_slot_is_left_alone_when_the_dependency_is_older_than_3_1(
    device_factory: Factory, make_user_part: MakePart, timing: HostTiming
) -> None:
    device = device_factory("boron", device_os="5.9.0")
    old_page = bytes(range(256)) * 16
    device.write_flash(LEGACY_SLOT, old_page)
    result = flash(device, make_user_part("boron", dependency=3005), timing)
    assert not result.legacy_slot_invalidated
    assert device.read_flash(LEGACY_SLOT, PAGE) == old_page


def _old_app_in_legacy_slot(device: SimulatedDevice) -> None:
    old = build_module("boron", ModuleFunction.USER_PART, 1, 3, size=32 * 1024, dependencies=[(4, 1, 326)])
    assert parse_module(old).start_address == LEGACY_SLOT
    device.install_module(old)


def test_valid_old_app_at_0xd4000_that_keeps_running_means_the_flash_failed(
    device_factory: Factory, make_user_part: MakePart, timing: HostTiming
) -> None:
    device = device_factory("boron", device_os="5.9.0")
    _old_app_in_legacy_slot(device)
    with pytest.raises(FlashError, match="NOT flashed"):
        flash(device, make_user_part("boron", dependency=3005), timing)


def test_invalidating_the_legacy_slot_lets_the_new_app_run(
    device_factory: Factory, make_user_part: MakePart, timing: HostTiming
) -> None:
    device = device_factory("boron", device_os="5.9.0")
    _old_app_in_legacy_slot(device)
    module = make_user_part("boron", dependency=5901)
    flash(device, module, timing)
    assert_runs(device, module)


def test_firmware_for_another_platform_is_refused_before_touching_the_device(
    boron: SimulatedDevice, make_user_part: MakePart, timing: HostTiming
) -> None:
    before = boron.read_flash(0xB4000, 64 * 1024)
    with pytest.raises(IncompatibleFirmwareError, match="P2"):
        flash(boron, make_user_part("p2"), timing)
    assert boron.mode is SimMode.NORMAL and boron.read_flash(0xB4000, 64 * 1024) == before


def test_firmware_needing_a_newer_device_os_is_refused(
    boron: SimulatedDevice, make_user_part: MakePart, timing: HostTiming
) -> None:
    with pytest.raises(IncompatibleFirmwareError, match="update the device's Device OS"):
        flash(boron, make_user_part("boron", dependency=6300), timing)
    assert boron.mode is SimMode.NORMAL


def test_a_system_part_is_refused_as_application_firmware(boron: SimulatedDevice, timing: HostTiming) -> None:
    system = parse_module(build_module("boron", ModuleFunction.SYSTEM_PART, 1, 6200, size=16 * 1024))
    with pytest.raises(IncompatibleFirmwareError, match="not application firmware"):
        flash(boron, system, timing)


def test_device_already_in_dfu_mode_is_flashed_without_the_dependency_check(
    boron: SimulatedDevice, make_user_part: MakePart, timing: HostTiming
) -> None:
    boron.reboot(mode=SimMode.DFU)
    module = make_user_part("boron")
    result = flash(boron, module, timing)
    assert not result.dependency_checked
    assert_runs(boron, module)


def test_result_times_every_phase(boron: SimulatedDevice, make_user_part: MakePart, timing: HostTiming) -> None:
    result = flash(boron, make_user_part("boron"), timing)
    assert [p.phase for p in result.phases if not p.phase.startswith("invalidate")] == [
        "check", "enter_dfu", "erase", "write", "verify", "leave", "reboot", "confirm",
    ]  # fmt: skip
    assert result.total_seconds >= result.seconds("write") > 0


def test_progress_announces_phases_and_counts_bytes(
    boron: SimulatedDevice, make_user_part: MakePart, timing: HostTiming
) -> None:
    events: list[ProgressEvent] = []
    module = make_user_part("boron", size=20 * 1024)
    flash(boron, module, timing, progress=events.append)
    announced = [e.phase for e in events if e.total == 0]
    assert announced == ["check", "enter_dfu", "leave", "reboot", "confirm"]
    assert [e.done for e in events if e.phase == "write"][-1] == module.file_size


def test_transient_command_stall_is_retried_and_the_flash_succeeds(
    boron: SimulatedDevice, make_user_part: MakePart, timing: HostTiming
) -> None:
    module = make_user_part("boron")
    boron.reboot(mode=SimMode.DFU)
    boron.faults.stall_next(DfuRequest.DNLOAD, count=2)
    flash(boron, module, timing)
    assert_runs(boron, module)


def test_corrupted_write_is_never_reported_good_and_a_retry_succeeds(
    boron: SimulatedDevice, make_user_part: MakePart, timing: HostTiming
) -> None:
    module = make_user_part("boron")
    boron.faults.corrupt_next_write()
    with pytest.raises(VerifyError, match="NOT flashed"):
        flash(boron, module, timing)
    flash(boron, module, timing)
    assert_runs(boron, module)


def test_disconnect_mid_transfer_fails_and_a_retry_after_replug_succeeds(
    boron: SimulatedDevice, make_user_part: MakePart, timing: HostTiming
) -> None:
    module = make_user_part("boron", size=128 * 1024)
    boron.faults.disconnect_after_bytes(40 * 1024)
    with pytest.raises(DeviceDisconnectedError):
        flash(boron, module, timing)
    boron.plug()
    flash(boron, module, timing)
    assert_runs(boron, module)


def test_status_timeout_mid_write_fails_and_a_retry_succeeds(
    boron: SimulatedDevice, make_user_part: MakePart, short_timeouts: HostTiming
) -> None:
    module = make_user_part("boron")
    boron.reboot(mode=SimMode.DFU)
    boron.faults.timeout_next(DfuRequest.GETSTATUS)
    with pytest.raises(UsbTimeoutError):
        flash(boron, module, short_timeouts)
    flash(boron, module, short_timeouts)
    assert_runs(boron, module)


def test_stalled_control_request_fails_and_a_retry_succeeds(
    boron: SimulatedDevice, make_user_part: MakePart, timing: HostTiming
) -> None:
    module = make_user_part("boron")
    boron.faults.stall_next(ServiceRequest.INIT)
    with pytest.raises(UsbStallError):
        flash(boron, module, timing)
    flash(boron, module, timing)
    assert_runs(boron, module)


def test_busy_device_is_waited_for_and_the_flash_succeeds(
    boron: SimulatedDevice, make_user_part: MakePart, timing: HostTiming
) -> None:
    module = make_user_part("boron")
    boron.faults.busy_next(5)
    flash(boron, module, timing)
    assert_runs(boron, module)


def test_slow_erase_is_waited_out(device_factory: Factory, make_user_part: MakePart, timing: HostTiming) -> None:
    device = device_factory("boron", timing=Timing.zero().with_changes(page_erase_s=0.0005))
    device.faults.slow_erase(8)
    module = make_user_part("boron", size=32 * 1024)
    flash(device, module, timing)
    assert_runs(device, module)


def test_cancelled_flash_raises_cancelled_and_a_retry_succeeds(
    boron: SimulatedDevice, make_user_part: MakePart, timing: HostTiming
) -> None:
    module = make_user_part("boron")
    token = CancelToken()

    def cancel_during_write(event: ProgressEvent) -> None:
        if event.phase == "write":
            token.cancel()

    with pytest.raises(Cancelled):
        flash(boron, module, timing, progress=cancel_during_write, cancel=token)
    flash(boron, module, timing)
    assert_runs(boron, module)
