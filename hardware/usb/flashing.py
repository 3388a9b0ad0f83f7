"""Flash application firmware (a user part) over DFU and confirm the device runs it; shared mode-change steps.

Facts: particle-cli 3.43.1 src/lib/flash-helper.js (placement from the prefix, the 0xD4000-beats-0xB4000 rule,
DROP_MODULE_INFO); particle-usb 4.1.0 src/dfu.js (the DFU write) and src/device.js (enter DFU, re-open by id);
request 90 GetModuleInfo from device-os-protobuf control/storage.proto to confirm. A unit is reported good
only after the device, back in normal mode, reports the new user part valid with the expected version and hash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from hardware.firmware import FirmwareModule, ModuleFunction, validate_for
from hardware.firmware.versions import DeviceOsVersion
from hardware.identifiers import DeviceId
from hardware.platforms import Platform, UserPartRule
from hardware.progress import CancelToken, ProgressCallback, ProgressEvent
from hardware.usb.control import ControlChannel
from hardware.usb.dfu import DfuSession
from hardware.usb.discovery import DeviceMode, UsbDevice, wait_for_device
from hardware.usb.errors import FlashError, IncompatibleFirmwareError
from hardware.usb.module_info import ModuleInfo, find_module
from hardware.usb.requests import DeviceControl
from hardware.usb.timing import HostTiming

LEGACY_SLOT_INVALIDATION_SIZE = 4096
"""particle-cli blanks one 4 KB page (0xFF) at 0xD4000 so an old 128 K app cannot win over the new one
(src/lib/flash-helper.js, 'invalidate-128k-user-part')."""

AUTO_DFU_MIN_GEN2_VERSION = (2, 0, 0)
"""particle-cli refuses to switch a Gen 2 device below Device OS 2.0.0 into DFU mode by request
(src/cmd/device-util.js)."""


@dataclass(frozen=True)
class PhaseTime:
    phase: str
    seconds: float


class PhaseClock:
    """Measures named phases with the timing's clock and reports the non-byte ones as progress events."""

    def __init__(self, clock: Callable[[], float], progress: ProgressCallback | None) -> None:
        self._clock = clock
        self._progress = progress
        self.phases: list[PhaseTime] = []

    @contextmanager
    def phase(self, name: str, detail: str = "") -> Iterator[None]:
        if self._progress is not None and detail:
            self._progress(ProgressEvent(name, 0, 0, detail))
        start = self._clock()
        try:
            yield
        finally:
            self.phases.append(PhaseTime(name, self._clock() - start))


def open_control(device: UsbDevice, timing: HostTiming) -> DeviceControl:
    """Typed requests over a control channel that uses ``timing``'s schedule and clock."""
    channel = ControlChannel(
        device,
        check_delays=timing.check_delays,
        request_timeout=timing.request_timeout,
        transfer_timeout_ms=timing.transfer_timeout_ms,
        clock=timing.clock,
        sleep=timing.sleep,
    )
    return DeviceControl(channel)


def reopen(device: UsbDevice, mode: DeviceMode, timing: HostTiming) -> UsbDevice:
    """Close ``device`` and wait for it to enumerate again in ``mode``."""
    device.close()
    return wait_for_device(
        device.device_id,
        mode,
        timeout=timing.reenumerate_timeout,
        poll=timing.reenumerate_poll,
        backend=device.backend,
        clock=timing.clock,
        sleep=timing.sleep,
    )


def enter_dfu(device: UsbDevice, timing: HostTiming, control: DeviceControl | None = None) -> UsbDevice:
    """Switch a normal-mode device to DFU mode with request 50 and return the re-opened DFU handle."""
    if device.mode is DeviceMode.DFU:
        return device
    control = control or open_control(device, timing)
    if device.platform.generation == 2:
        version = DeviceOsVersion.parse_or_none(control.system_version())
        if version is not None and not version.reaches(AUTO_DFU_MIN_GEN2_VERSION):
            raise IncompatibleFirmwareError(
                f"{device.describe()} runs Device OS below 2.0.0 and cannot be switched to DFU mode over USB; "
                "hold MODE while tapping RESET until it blinks yellow, then retry"
            )
    control.enter_dfu_mode()
    return reopen(device, DeviceMode.DFU, timing)


def leave_dfu(session: DfuSession, timing: HostTiming) -> UsbDevice:
    """Leave DFU mode and return the device re-opened in normal mode."""
    session.leave()
    return reopen(session.device, DeviceMode.NORMAL, timing)


def write_and_verify(
    session: DfuSession,
    address: int,
    data: bytes,
    phases: PhaseClock,
    *,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
    label: str = "",
) -> None:
    """Erase, download and read back one image on alt setting 0, timing each phase."""
    prefix = f"{label} " if label else ""
    with phases.phase(f"{prefix}erase".strip()):
        session.erase(address, len(data), progress=progress, cancel=cancel)
    with phases.phase(f"{prefix}write".strip()):
        session.download(address, data, progress=progress, cancel=cancel)
    with phases.phase(f"{prefix}verify".strip()):
        session.verify(address, data, progress=progress, cancel=cancel)


def system_version_for(module: FirmwareModule, modules: list[ModuleInfo]) -> int | None:
    """The device's version of the system part ``module`` depends on, from module info (None when absent)."""
    dependency = module.system_dependency
    if dependency is None:
        return None
    installed = find_module(modules, ModuleFunction.SYSTEM_PART, dependency.index)
    return installed.version if installed is not None else None


def raise_if_incompatible(
    module: FirmwareModule,
    platform: Platform,
    who: str,
    *,
    device_os_version: int | str | None = None,
    require_user_part: bool = False,
) -> None:
    """IncompatibleFirmwareError listing every reason ``module`` must not go to this device."""
    problems = validate_for(module, platform, device_os_version=device_os_version, require_user_part=require_user_part)
    if problems:
        details = "; ".join(str(p) for p in problems)
        raise IncompatibleFirmwareError(f"cannot flash {module.describe()} to {who}: {details}")


def legacy_slot_to_invalidate(module: FirmwareModule, platform: Platform) -> int | None:
    """0xD4000 when ``module`` goes to the 256 K slot at 0xB4000 and depends on Device OS >= 3.1.0, else None."""
    placement = platform.user_part
    if placement.rule is not UserPartRule.NRF_TWO_SLOTS or placement.legacy_start is None:
        return None
    if module.start_address != placement.start or not module.invalidates_legacy_user_part:
        return None
    return placement.legacy_start


@dataclass(frozen=True)
class FlashResult:
    """A user part flashed, verified and confirmed running."""

    device_id: DeviceId
    platform: Platform
    module: str
    address: int
    bytes_written: int
    legacy_slot_invalidated: bool
    dependency_checked: bool
    """False when the device was already in DFU mode, so its Device OS could not be compared beforehand."""
    running: ModuleInfo
    phases: tuple[PhaseTime, ...]
    device: UsbDevice = field(repr=False, compare=False)
    """The device, open in normal mode; the caller closes it."""

    @property
    def total_seconds(self) -> float:
        return sum(p.seconds for p in self.phases)

    def seconds(self, phase: str) -> float:
        return sum(p.seconds for p in self.phases if p.phase == phase)


def confirm_user_part(control: DeviceControl, module: FirmwareModule) -> ModuleInfo:
    """The running user part as module info reports it; FlashError unless it is valid and is ``module``."""
    who = control.who
    modules = control.module_info()
    running = find_module(modules, ModuleFunction.USER_PART, module.index)
    if running is None:
        found = ", ".join(m.describe() for m in modules if m.function is ModuleFunction.USER_PART) or "none"
        raise FlashError(
            f"{who} reports no user part {module.index} after flashing (user parts: {found}); the unit is NOT "
            "flashed — flash it again"
        )
    problems = []
    if running.version != module.version:
        problems.append(f"version {running.version} instead of {module.version}")
    if running.hash is not None and module.fw_unique_id is not None and running.hash != module.fw_unique_id:
        problems.append(f"SHA-256 {running.hash.hex()[:16]}… instead of {module.fw_unique_id.hex()[:16]}…")
    if not running.valid:
        problems.append(f"failed checks {running.failed!r}")
    if problems:
        raise FlashError(
            f"{who} runs a different user part than was flashed ({'; '.join(problems)}); the unit is NOT "
            "flashed — flash it again"
        )
    return running


def _check_and_enter_dfu(
    device: UsbDevice, module: FirmwareModule, phases: PhaseClock, timing: HostTiming
) -> tuple[UsbDevice, bool]:
    """Validate ``module`` for the device (with its Device OS when in normal mode), then switch it to DFU mode."""
    who = device.describe()
    if device.mode is DeviceMode.DFU:
        raise_if_incompatible(module, device.platform, who, require_user_part=True)
        return device, False
    with phases.phase("check", f"checking {who}"):
        control = open_control(device, timing)
        installed = system_version_for(module, control.module_info())
        version: int | str = installed if installed is not None else control.system_version()
        raise_if_incompatible(module, device.platform, who, device_os_version=version, require_user_part=True)
    with phases.phase("enter_dfu", "switching to DFU mode"):
        return enter_dfu(device, timing, control), True


def flash_user_firmware(
    device: UsbDevice,
    module: FirmwareModule,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    timing: HostTiming | None = None,
) -> FlashResult:
    """Validate, enter DFU, erase/write/verify the user part at its prefix address, leave, and confirm it runs.

    ``device`` may be in normal or DFU mode; its handle is consumed (closed or re-opened). Raises
    IncompatibleFirmwareError before touching flash, DfuError/VerifyError/UsbError while flashing, FlashError when the
    device does not run the new firmware afterwards, and ``hardware.progress.Cancelled`` when cancelled.
    """
    timing = timing or HostTiming()
    phases = PhaseClock(timing.clock, progress)
    platform, device_id = device.platform, device.device_id
    who = device.describe()
    if platform.dfu_product_id is None or not platform.control_requests_supported:
        raise IncompatibleFirmwareError(f"{who} has no DFU mode; flash it with {platform.display_name}'s own tools")
    if cancel is not None:
        cancel.raise_if_cancelled(f"flashing {who}")
    try:
        device, dependency_checked = _check_and_enter_dfu(device, module, phases, timing)
        session = DfuSession(device, timing=timing)
        data, address = module.payload_for_flash, module.start_address
        legacy = legacy_slot_to_invalidate(module, platform)
        if legacy is not None:
            # Before the user part, as particle-cli does: a user part larger than 128 K itself covers 0xD4000.
            blank = b"\xff" * LEGACY_SLOT_INVALIDATION_SIZE
            write_and_verify(session, legacy, blank, phases, progress=None, cancel=cancel, label="invalidate")
        write_and_verify(session, address, data, phases, progress=progress, cancel=cancel)
        if cancel is not None:
            cancel.raise_if_cancelled(f"flashing {who}")
        with phases.phase("leave", "leaving DFU mode"):
            session.leave()
        with phases.phase("reboot", "waiting for the device to restart"):
            device = reopen(device, DeviceMode.NORMAL, timing)
        with phases.phase("confirm", "confirming the new firmware runs"):
            running = confirm_user_part(open_control(device, timing), module)
    except BaseException:
        device.close()  # the handle of whatever mode the device was last opened in
        raise
    return FlashResult(
        device_id=device_id,
        platform=platform,
        module=module.describe(),
        address=address,
        bytes_written=len(data),
        legacy_slot_invalidated=legacy is not None,
        dependency_checked=dependency_checked,
        running=running,
        phases=tuple(phases.phases),
        device=device,
    )
