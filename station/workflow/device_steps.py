"""The device steps of one unit, in order on the slot's thread: find, identify, check label, Device OS, validate
firmware, flash + verify, Wi-Fi, setup done, claim code, final check; and which slot has taken which device."""

from __future__ import annotations

import contextlib
import enum
import threading
import time
from collections.abc import Callable
from typing import Any

from cloud_client.client import ParticleCloud
from hardware.errors import HardwareError
from hardware.firmware import DeviceOsVersion, FirmwareModule, validate_for
from hardware.identifiers import SerialNumber
from hardware.progress import CancelToken, ProgressEvent
from station.config.profile import StationProfile
from station.config.wifi import wifi_settings
from station.line.feed import ScanScreen
from station.records.reason_code import ReasonCode
from station.records.step_table import StepStatus
from station.records.unit_table import UnitTable
from station.workflow.device import SETUP_DONE_SKIPPED, ConnectedDevice, DeviceFacts, DeviceLink
from station.workflow.events import EventKind
from station.workflow.outcome import UnitFailure
from station.workflow.unit_steps import StepRecorder, UnitContext


class LabelPresence(enum.Enum):
    """What a slot shows for a scanned label before a unit exists."""

    FOUND = "found"
    """A free device on the slot has the label's serial number."""
    UNCERTAIN = "uncertain"
    """A device is there whose serial number cannot be read: the unit's find and label check decide."""
    ABSENT = "absent"
    """No free device on the slot."""
    OTHERS = "others"
    """Only devices with other serial numbers: the label belongs to a unit not plugged in."""


class SlotClaims:
    """Which device each slot is working on, so two slots never take the same device."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_device: dict[str, int] = {}

    def take(self, device_id: str, slot: int) -> bool:
        with self._lock:
            owner = self._by_device.get(device_id)
            if owner is not None and owner != slot:
                return False
            self._by_device[device_id] = slot
            return True

    def release(self, slot: int) -> None:
        with self._lock:
            for device_id in [d for d, s in self._by_device.items() if s == slot]:
                del self._by_device[device_id]

    def busy(self, slot: int) -> set[str]:
        with self._lock:
            return {d for d, s in self._by_device.items() if s != slot}


class DeviceSteps:
    """The device side of a unit; shared by every slot (it holds no per-unit state). Each step returns the detail
    the journal keeps (``_status`` in it for an outcome other than passed) or what the next step needs."""

    def __init__(
        self,
        *,
        profile: StationProfile,
        units: UnitTable,
        link: DeviceLink,
        cloud: ParticleCloud,
        module: FirmwareModule,
        recorder: StepRecorder,
        claims: SlotClaims,
        clock: Callable[[], float],
        find_timeout: float,
        device_os_bundle: tuple[FirmwareModule, ...],
        line_check: Callable[[str], ScanScreen] | None = None,
    ) -> None:
        """``line_check``: the line database's word on a device id (station.line.feed.device_screen), or None."""
        self.profile = profile
        self.units = units
        self.link = link
        self.cloud = cloud
        self.module = module
        self.recorder = recorder
        self.claims = claims
        self.clock = clock
        self.find_timeout = find_timeout
        self.device_os_bundle = device_os_bundle
        self.line_check = line_check

    def find(self, ctx: UnitContext, *, waited: bool = False) -> ConnectedDevice:
        """The device of this label: the one whose stored serial matches; a lone other device only at the deadline.

        A unit just plugged in takes a moment to enumerate while the previous unit may still hang on the cable, so
        a device with another serial is never taken before the wait is over (it then fails the label check).
        ``waited``: the scan already waited the find time-out (``label_presence``), so the deadline is now.
        """
        deadline = self.clock() + (0.0 if waited else self.find_timeout)
        ports = self.profile.slots.ports
        serials: dict[str, SerialNumber | None] = {}
        candidates: list[ConnectedDevice] = []
        while True:
            busy = self.claims.busy(ctx.slot)
            candidates = [d for d in self.link.connected() if d.device_id.value not in busy]
            if ports:
                wanted = ports[ctx.slot]
                candidates = [d for d in candidates if wanted in (d.port, d.device_id.value)]
            expired = self.clock() >= deadline
            chosen = self._match(ctx, candidates, serials, last_chance=expired)
            if chosen is not None and self.claims.take(chosen.device_id.value, ctx.slot):
                self.units.update(ctx.unit.id, device_id=chosen.device_id.value, platform=chosen.platform.name)
                return chosen
            if expired:
                break
            ctx.cancel.raise_if_cancelled("finding the device")
            time.sleep(0.1)
        where = f"slot {ctx.slot + 1}" + (f" (port {ports[ctx.slot]})" if ports else "")
        if candidates:
            raise UnitFailure(
                f"None of the {len(candidates)} devices connected to {where} has serial {ctx.label.serial}.",
                "Plug in the unit whose label you scanned, then scan it again.",
                code=ReasonCode.LABEL_MISMATCH,
            )
        raise UnitFailure(
            f"No Particle device found on USB for {where} (waited {self.find_timeout:.0f} s).",
            "Plug the unit in (check the USB cable and power), then scan the label again.",
            code=ReasonCode.DEVICE_NOT_FOUND,
        )

    def label_presence(self, slot: int, serial: SerialNumber, cancel: CancelToken) -> tuple[LabelPresence, int]:
        """Whether the label's device is on this slot, polled until the find time-out, and how many free devices
        are there: a label with no device behind it, or with only other units' devices, is refused before a unit
        exists. A device that cannot tell its serial (left in DFU mode, none stored, too old a Device OS) leaves
        the question to the unit's own steps."""
        deadline = self.clock() + self.find_timeout
        ports = self.profile.slots.ports
        serials: dict[str, SerialNumber | None] = {}
        while True:
            busy = self.claims.busy(slot)
            candidates = [d for d in self.link.connected() if d.device_id.value not in busy]
            if ports:
                candidates = [d for d in candidates if ports[slot] in (d.port, d.device_id.value)]
            unknown = 0
            for device in candidates:
                key = device.device_id.value
                if not device.dfu_mode and key not in serials:
                    # Still booting, just unplugged, or a Device OS without the request: ask again on the next poll.
                    with contextlib.suppress(HardwareError):
                        serials[key] = self.link.serial_number(device.device_id)
                if serials.get(key) == serial:
                    return LabelPresence.FOUND, len(candidates)
                if serials.get(key) is None:
                    unknown += 1
            if len(candidates) == 1 and candidates[0].dfu_mode:
                return LabelPresence.UNCERTAIN, 1  # find() takes a lone unit in DFU mode at once
            if self.clock() >= deadline:
                if not candidates:
                    return LabelPresence.ABSENT, 0
                return (LabelPresence.UNCERTAIN if unknown else LabelPresence.OTHERS), len(candidates)
            cancel.raise_if_cancelled("finding the device")
            time.sleep(0.1)

    def _match(
        self,
        ctx: UnitContext,
        candidates: list[ConnectedDevice],
        serials: dict[str, SerialNumber | None],
        *,
        last_chance: bool,
    ) -> ConnectedDevice | None:
        unreadable = []
        for device in candidates:
            if device.dfu_mode:
                unreadable.append(device)  # a unit left in DFU (e.g. after a crash) cannot tell its serial yet
                continue
            key = device.device_id.value
            if key not in serials:
                try:
                    serials[key] = self.link.serial_number(device.device_id)
                except HardwareError as exc:
                    if type(exc).__name__ == "DeviceProtectedError":
                        # A Protected Device hides its serial: like a unit in DFU, it is matched when it is alone
                        # (by class name, so this module does not import the USB stack).
                        unreadable.append(device)
                    continue  # still booting or just unplugged: ask again on the next poll
            if serials[key] == ctx.label.serial:
                return device
        if len(candidates) == 1 and (last_chance or candidates[0] in unreadable):
            return candidates[0]
        return None

    def identify(self, ctx: UnitContext, device: ConnectedDevice, *, check_line: bool = True) -> DeviceFacts:
        """Read and record the unit's identity; refused when its device id passed, or is in progress, at another
        station of the line (``check_line``: False for an engineer's rework)."""
        facts = self.link.identify(device.device_id)
        ctx.facts = facts
        self.units.update(
            ctx.unit.id,
            device_id=facts.device_id.value,
            platform=facts.platform.name,
            device_os=facts.device_os,
            iccid=facts.iccid.value if facts.iccid else None,
            imei=facts.imei.value if facts.imei else None,
            protection_on_arrival=facts.protection,
        )
        if facts.platform.id != self.profile.platform.id:
            raise UnitFailure(
                f"This unit is a {facts.platform.display_name}, but the station is set up for "
                f"{self.profile.platform.display_name} (product {self.profile.product_id}).",
                "Set the unit aside: it belongs to another product line.",
                code=ReasonCode.WRONG_PLATFORM,
            )
        if check_line and self.line_check is not None:
            self._check_line(ctx, facts.device_id.value)
        return facts

    def _check_line(self, ctx: UnitContext, device_id: str) -> None:
        """Before any flash or cloud call: the line's refusal fails the unit; a warning or an unreachable line
        database is told to the operator and the unit goes on."""
        assert self.line_check is not None
        screen = self.line_check(device_id)
        if screen.notice:
            self.recorder.emit(ctx, EventKind.NOTICE, message=screen.notice)
        if screen.refusal is not None:
            fact = screen.refusal.fact
            raise UnitFailure(f"{fact[:1].upper()}{fact[1:]}.", f"{screen.refusal.action[:1].upper()}"
                              f"{screen.refusal.action[1:]}", code=screen.refusal.code)

    def check_label(self, ctx: UnitContext, facts: DeviceFacts) -> dict[str, Any]:
        if not self.profile.steps.check_label:
            return {"_status": StepStatus.SKIPPED, "note": "label check disabled in the profile"}
        if facts.serial is None:
            raise UnitFailure(
                f"The device {facts.device_id} has no serial number stored, so its label cannot be checked.",
                "Set the unit aside for engineering (or disable check_label for this product).",
                code=ReasonCode.LABEL_MISMATCH,
            )
        if facts.serial != ctx.label.serial:
            raise UnitFailure(
                f"Label and device do not match: the label says {ctx.label.serial}, the device says {facts.serial}.",
                "Find the right label for this unit (or the right unit for this label); set both aside if unsure.",
                code=ReasonCode.LABEL_MISMATCH,
            )
        return {"serial": facts.serial.value}

    def validate(self, ctx: UnitContext, facts: DeviceFacts) -> dict[str, Any]:
        problems = validate_for(
            self.module,
            facts.platform,
            device_os_version=facts.system_module_version,
            require_user_part=True,
        )
        if problems:
            raise UnitFailure(
                "The product firmware cannot go on this unit: " + "; ".join(p.message for p in problems),
                "Call engineering: the profile's firmware does not fit this unit.",
                code=ReasonCode.FIRMWARE_INVALID,
            )
        return {"sha256": self.module.sha256}

    def device_os(self, ctx: UnitContext, facts: DeviceFacts) -> dict[str, Any]:
        minimum = self.profile.firmware.minimum_device_os
        assert minimum is not None
        if facts.device_os and DeviceOsVersion.parse(facts.device_os) >= DeviceOsVersion.parse(minimum):
            return {"_status": StepStatus.SKIPPED, "note": f"Device OS {facts.device_os} meets the minimum {minimum}"}
        if not self.profile.steps.device_os_update:
            raise UnitFailure(
                f"The unit runs Device OS {facts.device_os}, below the line's minimum {minimum}.",
                "Set the unit aside for a Device OS update.",
                code=ReasonCode.DEVICE_OS_TOO_OLD,
            )
        before = facts.device_os

        def progress(event: ProgressEvent) -> None:
            self.recorder.emit(ctx, EventKind.STEP_PROGRESS, step="device_os", message=event.phase,
                               done=event.done, total=event.total)

        bundle = list(self.device_os_bundle)
        if facts.protected_device:
            # A Protected Device (in Service Mode too) takes only a protected bootloader: particle-cli converts any
            # bootloader it flashes to one (src/lib/flash-helper.js maintainDeviceProtection).
            from hardware.firmware.protected_bootloader import protect_bootloader

            bundle = [protect_bootloader(m) if m.function.name == "BOOTLOADER" and m.index == 0 else m for m in bundle]
        flashed = self.link.update_device_os(facts.device_id, bundle, progress, ctx.cancel)
        after = self.link.identify(facts.device_id)
        ctx.facts = after
        self.units.update(ctx.unit.id, device_os=after.device_os)
        if after.device_os is None or DeviceOsVersion.parse(after.device_os) < DeviceOsVersion.parse(minimum):
            raise UnitFailure(
                f"After the Device OS update the unit runs {after.device_os}, still below {minimum}.",
                "Call engineering: the profile's Device OS bundle does not reach the minimum.",
                code=ReasonCode.DEVICE_OS_TOO_OLD,
            )
        return {"from": before, "to": after.device_os, "flashed": flashed}

    def flash(self, ctx: UnitContext, facts: DeviceFacts) -> dict[str, Any]:
        if facts.user_part is not None and facts.user_part.valid and facts.user_part.sha256 == self.module.sha256:
            self.units.update(ctx.unit.id, firmware_sha256=self.module.file_sha256,
                                     firmware_version=self.module.product_version)
            return {"_status": StepStatus.PASSED, "note": "already runs this firmware (checked, not reflashed)",
                    "checked": True}
        started = self.clock()

        def progress(event: ProgressEvent) -> None:
            elapsed = self.clock() - started
            eta = elapsed / event.fraction - elapsed if event.fraction > 0.02 else None
            self.recorder.emit(ctx, EventKind.STEP_PROGRESS, step="flash", message=event.phase, done=event.done,
                               total=event.total, eta_seconds=eta)

        report = self.link.flash_user_part(facts.device_id, self.module, progress, ctx.cancel)
        self.units.update(ctx.unit.id, firmware_sha256=self.module.file_sha256,
                                 firmware_version=self.module.product_version)
        return {"bytes": report.bytes_written, "address": report.address, "seconds": round(report.seconds, 3),
                "verified": report.verified}

    def wifi(self, ctx: UnitContext, facts: DeviceFacts) -> dict[str, Any]:
        assert self.profile.wifi is not None
        settings = wifi_settings(self.profile.wifi)  # the password is read now, never kept in the journal
        note = self.link.set_wifi_credentials(facts.device_id, settings)
        return {"note": note, "ssid": settings.ssid}

    def setup_done(self, ctx: UnitContext, facts: DeviceFacts) -> dict[str, Any]:
        outcome = self.link.setup_done(facts.device_id)
        if outcome.startswith(SETUP_DONE_SKIPPED):
            return {"_status": StepStatus.SKIPPED, "note": outcome}
        return {"note": outcome}

    def claim_code(self, ctx: UnitContext, facts: DeviceFacts) -> dict[str, Any]:
        email = self.profile.steps.customer_email
        assert email is not None
        code = self.cloud.create_customer_claim_code(
            self.profile.product_id, email, iccid=facts.iccid.value if facts.iccid else None
        )
        self.link.set_claim_code(facts.device_id, code.claim_code)
        return {"customer": email}

    def final_check(self, ctx: UnitContext, facts: DeviceFacts) -> dict[str, Any]:
        after = self.link.identify(facts.device_id)
        part = after.user_part
        # Device OS below 5.6.0 reports modules without their SHA-256: then the version (and the read-back verify
        # of the flash step) is what can be checked.
        same = part is not None and part.valid and (
            part.sha256 == self.module.sha256 if part.sha256 is not None else part.version == self.module.version
        )
        if not same:
            raise UnitFailure(
                "After flashing, the unit does not run the product firmware.",
                "Scan the label again to flash it once more; if it fails again, set it aside.",
                code=ReasonCode.FLASH_VERIFY,
            )
        assert part is not None
        return {"user_part_version": part.version, "hash_checked": part.sha256 is not None}
