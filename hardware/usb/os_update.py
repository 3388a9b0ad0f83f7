"""Update a device's Device OS from a bundle of modules, in particle-cli's order, skipping what is already current.

Facts: particle-cli 3.43.1 src/lib/flash-helper.js: bootloader and (external-MCU) NCP go in normal mode with
250/253/251 and a re-open after each; system parts and the radio stack over DFU at their prefix address
(DROP_MODULE_INFO modules without their first 24 bytes); encrypted modules are always skipped; normal-mode modules
first, unless the device is already in DFU mode; dependency order within each group; before a normal-mode step the
device is put in listening mode (70, then 72 polling) and given a second to settle.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from hardware.firmware import FirmwareModule, ModuleFlag, ModuleFunction
from hardware.identifiers import DeviceId
from hardware.progress import CancelToken, ProgressCallback
from hardware.usb.dfu import DfuSession
from hardware.usb.discovery import DeviceMode, UsbDevice, open_device
from hardware.usb.errors import (
    DeviceNotFoundError,
    FlashError,
    IncompatibleFirmwareError,
    UsbRequestError,
)
from hardware.usb.flashing import (
    PhaseClock,
    PhaseTime,
    enter_dfu,
    open_control,
    raise_if_incompatible,
    reopen,
    write_and_verify,
)
from hardware.usb.module_info import ModuleInfo, find_module
from hardware.usb.protocol import DeviceModeValue
from hardware.usb.timing import HostTiming

NORMAL_MODE_FUNCTIONS = (ModuleFunction.BOOTLOADER, ModuleFunction.NCP)
DFU_FUNCTIONS = (ModuleFunction.SYSTEM_PART, ModuleFunction.RADIO_STACK)


@dataclass(frozen=True)
class SkippedModule:
    module: str
    reason: str


@dataclass(frozen=True)
class OsUpdateResult:
    device_id: DeviceId
    flashed: tuple[str, ...]
    skipped: tuple[SkippedModule, ...]
    phases: tuple[PhaseTime, ...]
    device: UsbDevice = field(repr=False, compare=False)
    """The device, open in normal mode; the caller closes it."""


def dependency_order(modules: list[FirmwareModule]) -> list[FirmwareModule]:
    """``modules`` with every module after the bundle modules it depends on; otherwise in the given order."""
    remaining = list(modules)
    ordered: list[FirmwareModule] = []
    while remaining:
        for candidate in remaining:
            waits_for = [
                other
                for other in remaining
                if other is not candidate
                and any(d.function is other.function and d.index == other.index for d in candidate.dependencies)
            ]
            if not waits_for:
                ordered.append(candidate)
                remaining.remove(candidate)
                break
        else:
            names = ", ".join(m.describe() for m in remaining)
            raise IncompatibleFirmwareError(f"the Device OS modules depend on each other in a circle: {names}")
    return ordered


def _skip_reason(module: FirmwareModule) -> str | None:
    if module.flags & ModuleFlag.ENCRYPTED:
        return "encrypted module: only Particle's own tools install it"
    if module.function not in NORMAL_MODE_FUNCTIONS + DFU_FUNCTIONS:
        return f"a {module.function.description} is not part of a Device OS update"
    return None


def _is_current(module: FirmwareModule, installed: list[ModuleInfo] | None) -> bool:
    if installed is None:
        return False
    found = find_module(installed, module.function, module.index)
    return found is not None and found.version == module.version and found.valid


def _enter_listening(device: UsbDevice, timing: HostTiming) -> None:
    """Request 70, then poll 72 until LISTENING so the device stays off the cloud while it updates
    (particle-usb src/device.js enterListeningMode; particle-cli src/lib/flash-helper.js)."""
    control = open_control(device, timing)
    with contextlib.suppress(UsbRequestError):
        control.start_listening()
        deadline = timing.clock() + timing.reenumerate_timeout
        while control.device_mode() is not DeviceModeValue.LISTENING and timing.clock() < deadline:
            timing.sleep(timing.listening_poll)
    timing.sleep(timing.settle_delay)


def _wait_until_gone(device_id: DeviceId, device: UsbDevice, timing: HostTiming) -> None:
    """After a normal-mode update the device applies it and resets: wait (up to apply_delay) until it drops off."""
    deadline = timing.clock() + timing.apply_delay
    while timing.clock() < deadline:
        try:
            open_device(device_id, backend=device.backend).close()
        except DeviceNotFoundError:
            return
        timing.sleep(timing.reenumerate_poll)


def update_device_os(
    device: UsbDevice,
    modules: list[FirmwareModule],
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    timing: HostTiming | None = None,
) -> OsUpdateResult:
    """Install a Device OS bundle as ``particle update`` does and confirm every flashed module's new version."""
    timing = timing or HostTiming()
    phases = PhaseClock(timing.clock, progress)
    platform, device_id = device.platform, device.device_id
    who = device.describe()
    for module in modules:
        raise_if_incompatible(module, platform, who)
    skipped: list[SkippedModule] = []
    wanted: list[FirmwareModule] = []
    for module in dependency_order(modules):
        reason = _skip_reason(module)
        if reason is None:
            wanted.append(module)
        else:
            skipped.append(SkippedModule(module.describe(), reason))
    normal = [m for m in wanted if m.function in NORMAL_MODE_FUNCTIONS]
    dfu = [m for m in wanted if m.function in DFU_FUNCTIONS]
    installed = open_control(device, timing).module_info() if device.mode is DeviceMode.NORMAL else None
    flashed: list[str] = []

    def run_normal(dev: UsbDevice, todo: list[FirmwareModule], known: list[ModuleInfo] | None) -> UsbDevice:
        for module in todo:
            if _is_current(module, known):
                skipped.append(SkippedModule(module.describe(), "already installed"))
                continue
            if cancel is not None:
                cancel.raise_if_cancelled(f"updating {who}")
            with phases.phase(f"{module.function.short_name} {module.index}", f"installing {module.describe()}"):
                _enter_listening(dev, timing)
                open_control(dev, timing).update_firmware(
                    module.data,
                    progress=progress,
                    cancel=cancel,
                    timeout=timing.firmware_update_timeout,
                    clock=timing.clock,
                )
                _wait_until_gone(device_id, dev, timing)
                dev = reopen(dev, DeviceMode.NORMAL, timing)
            flashed.append(module.describe())
        return dev

    def run_dfu(dev: UsbDevice, todo: list[FirmwareModule], known: list[ModuleInfo] | None) -> UsbDevice:
        todo = [m for m in todo if not _is_current(m, known)]
        skipped.extend(SkippedModule(m.describe(), "already installed") for m in dfu if m not in todo)
        if not todo:
            return dev
        with phases.phase("enter_dfu", "switching to DFU mode"):
            dev = enter_dfu(dev, timing)
        session = DfuSession(dev, timing=timing)
        for module in todo:
            label = f"{module.function.short_name} {module.index}"
            write_and_verify(
                session,
                module.start_address,
                module.payload_for_flash,
                phases,
                progress=progress,
                cancel=cancel,
                label=label,
            )
            flashed.append(module.describe())
        with phases.phase("reboot", "leaving DFU mode"):
            session.leave()
            dev = reopen(dev, DeviceMode.NORMAL, timing)
        return dev

    try:
        if device.mode is DeviceMode.DFU:
            device = run_dfu(device, dfu, None)
            installed = open_control(device, timing).module_info()
            device = run_normal(device, normal, installed)
        else:
            device = run_normal(device, normal, installed)
            installed = open_control(device, timing).module_info()
            device = run_dfu(device, dfu, installed)
        with phases.phase("confirm", "confirming the new versions"):
            _confirm(open_control(device, timing).module_info(), wanted, who)
    except BaseException:
        device.close()
        raise
    return OsUpdateResult(device_id, tuple(flashed), tuple(skipped), tuple(phases.phases), device)


def _confirm(installed: list[ModuleInfo], wanted: list[FirmwareModule], who: str) -> None:
    problems = []
    for module in wanted:
        found = find_module(installed, module.function, module.index)
        if found is None:
            problems.append(f"{module.describe()} is missing")
        elif found.version != module.version:
            problems.append(f"{module.describe()} reports version {found.version}")
        elif not found.valid:
            problems.append(f"{module.describe()} fails checks {found.failed!r}")
    if problems:
        raise FlashError(
            f"Device OS update of {who} did not take: {'; '.join(problems)}; the unit is NOT updated — run the "
            "update again"
        )
