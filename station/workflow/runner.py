"""Runs one unit through its steps, journalling each, resuming a unit scanned again, overlapping cloud and flash.

Device steps run in order on the slot's thread: find, identify, check label, validate firmware, flash + verify,
final check. As soon as the device id is known the cloud work (pre-add, SIM, claim, name/groups/flags) starts on
the cloud pool; a cloud outage sends the rest of that work to the outbox and the unit ends "cloud pending".
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cloud_client.client import ParticleCloud
from hardware.errors import HardwareError
from hardware.firmware import DeviceOsVersion, FirmwareModule, validate_for
from hardware.identifiers import LabelScan, SerialNumber
from hardware.progress import CancelToken, ProgressEvent
from station.config.profile import ClaimMode, SimActivationPolicy, StationProfile
from station.config.wifi import wifi_settings
from station.records.journal import Journal, StepStatus, UnitRecord, UnitState
from station.workflow.cloud_ops import CHECKS, Payload, plan_cloud_work
from station.workflow.device import SETUP_DONE_SKIPPED, ConnectedDevice, DeviceFacts, DeviceLink
from station.workflow.events import EventBus, EventKind, UnitEvent
from station.workflow.outcome import RETRY_LATER, UnitFailure, UnitResult, explain

log = logging.getLogger(__name__)

FIND_TIMEOUT_S = 5.0


@dataclass
class UnitContext:
    label: LabelScan
    slot: int
    unit: UnitRecord
    cancel: CancelToken
    resumed: dict[str, Any] = field(default_factory=dict)
    facts: DeviceFacts | None = None
    started: float = 0.0


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


def outbox_key(unit_id: int, operation: str, payload: Payload) -> str:
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
    return f"unit{unit_id}:{operation}:{digest}"


class UnitRunner:
    """Everything one unit needs; shared by every slot of a line (it holds no per-unit state)."""

    def __init__(
        self,
        *,
        profile: StationProfile,
        journal: Journal,
        link: DeviceLink,
        cloud: ParticleCloud,
        module: FirmwareModule,
        events: EventBus,
        lot: str,
        operator: str,
        cloud_pool: ThreadPoolExecutor,
        claims: SlotClaims | None = None,
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], datetime.date] = datetime.date.today,
        find_timeout: float = FIND_TIMEOUT_S,
        expected_online_version: int | None = None,
        device_os_bundle: tuple[FirmwareModule, ...] = (),
        groups: list[str] | None = None,
        lock_version: int | None = None,
    ) -> None:
        self.profile = profile
        self.journal = journal
        self.link = link
        self.cloud = cloud
        self.module = module
        self.events = events
        self.lot = lot
        self.operator = operator
        self.cloud_pool = cloud_pool
        self.claims = claims or SlotClaims()
        self.clock = clock
        self.today = today
        self.find_timeout = find_timeout
        self.device_os_bundle = device_os_bundle
        self.groups = groups
        """The lot's group names, expanded once when the lot starts (``{date}``, ``{date_seq}``)."""
        self.lock_version = lock_version
        self.expected_online_version = expected_online_version or module.product_version
        """The product firmware version a unit must report online (the released one when it will be updated)."""

    # --- one unit -----------------------------------------------------------------------------------------------
    def run(self, label: LabelScan, *, slot: int = 0, cancel: CancelToken | None = None) -> UnitResult:
        key = label.serial.value
        unit, created = self.journal.begin_unit(
            self.lot, key, serial=key, slot=slot, operator=self.operator, station=self.profile.station_name
        )
        ctx = UnitContext(label, slot, unit, cancel or CancelToken(), started=self.clock())
        if not created:
            ctx.resumed = dict(self.journal.passed_steps(unit.id))
        self._emit(ctx, EventKind.UNIT_STARTED, message="resuming" if not created else "", data={"new": created})
        cloud_future: Future[list[str]] | None = None
        failure: UnitFailure | None = None
        try:
            device = self._device_step(ctx, "find", lambda: self._find(ctx))
            facts = self._device_step(ctx, "identify", lambda: self._identify(ctx, device))
            self._device_step(ctx, "check_label", lambda: self._check_label(ctx, facts))
            cloud_future = self.cloud_pool.submit(self._cloud_work, ctx, facts)
            if self.profile.firmware.minimum_device_os:
                self._device_step(ctx, "device_os", lambda: self._device_os(ctx, facts))
                facts = ctx.facts or facts
            self._device_step(ctx, "validate_firmware", lambda: self._validate(ctx, facts))
            self._device_step(ctx, "flash", lambda: self._flash(ctx, facts))
            if self.profile.wifi is not None and facts.platform.is_wifi:
                self._device_step(ctx, "wifi", lambda: self._wifi(ctx, facts))
            if self.profile.steps.setup_done and facts.platform.gen3_or_later:
                self._device_step(ctx, "setup_done", lambda: self._setup_done(ctx, facts))
            if self.profile.steps.claim is ClaimMode.CLAIM_CODE:
                self._device_step(ctx, "claim_code", lambda: self._claim_code(ctx, facts))
            self._device_step(ctx, "final_check", lambda: self._final_check(ctx, facts))
        except UnitFailure as exc:
            failure = exc
        pending: list[str] = []
        if cloud_future is not None:
            try:
                pending = cloud_future.result()
            except UnitFailure as exc:
                failure = failure or exc
        self.claims.release(slot)
        return self._finish(ctx, failure, pending)

    def _finish(self, ctx: UnitContext, failure: UnitFailure | None, pending: list[str]) -> UnitResult:
        cycle = self.clock() - ctx.started
        if failure is not None:
            state, reason, action = UnitState.FAIL, failure.reason, failure.action
        elif pending == ["confirm_online"]:
            state = UnitState.CLOUD_PENDING
            reason = (f"Device done; waiting up to {self.profile.confirm.timeout_s:.0f} s for it to come online in "
                      "the product.")
            action = "Keep the unit powered until it is confirmed online; you can scan the next unit."
        elif pending:
            state = UnitState.CLOUD_PENDING
            reason = f"Device done; cloud work waiting ({', '.join(pending)}): it will finish by itself."
            action = "Put the unit in the PASS tray; nothing more to do."
        else:
            state, reason, action = UnitState.PASS, "All steps passed.", "Put the unit in the PASS tray."
        first = ctx.unit.first_result or (UnitState.FAIL.value if state is UnitState.FAIL else UnitState.PASS.value)
        unit = self.journal.update_unit(
            ctx.unit.id, state=state, reason=reason, action=action, ended_at=time.time(), cycle_seconds=cycle,
            first_result=first,
        )
        result = UnitResult(
            unit_key=unit.unit_key, state=state, reason=reason, action=action, device_id=unit.device_id,
            serial=unit.serial, cycle_seconds=cycle, failed_step=failure.step if failure else None,
        )
        self._emit(ctx, EventKind.UNIT_FINISHED, status=state.value, message=reason, action=action,
                   data={"device_id": unit.device_id, "cycle_seconds": cycle, "failed_step": result.failed_step})
        return result

    # --- step bookkeeping ---------------------------------------------------------------------------------------
    def _emit(self, ctx: UnitContext, kind: EventKind, **fields: Any) -> None:
        self.events.emit(UnitEvent(kind=kind, slot=ctx.slot, unit_key=ctx.unit.unit_key, **fields))

    @contextmanager
    def _recorded(self, ctx: UnitContext, step: str) -> Iterator[dict[str, Any]]:
        step_id = self.journal.step_started(ctx.unit.id, step)
        self._emit(ctx, EventKind.STEP_STARTED, step=step)
        detail: dict[str, Any] = {}
        try:
            yield detail
        except BaseException as exc:
            failure = explain(exc, step=step)
            self.journal.step_ended(step_id, StepStatus.FAILED, detail=detail, error=failure.reason)
            self._emit(ctx, EventKind.STEP_ENDED, step=step, status="failed", message=failure.reason)
            raise failure from exc
        status = detail.pop("_status", StepStatus.PASSED)
        self.journal.step_ended(step_id, status, detail=detail)
        self._emit(ctx, EventKind.STEP_ENDED, step=step, status=status.value, message=detail.get("note", ""))

    def _device_step(self, ctx: UnitContext, step: str, work: Callable[[], Any]) -> Any:
        with self._recorded(ctx, step) as detail:
            ctx.cancel.raise_if_cancelled(step.replace("_", " "))
            result = work()
            if isinstance(result, dict):
                detail.update(result)
        return result

    # --- device steps -------------------------------------------------------------------------------------------
    def _find(self, ctx: UnitContext) -> ConnectedDevice:
        """The device of this label: the one whose stored serial matches; a lone other device only at the deadline.

        A unit just plugged in takes a moment to enumerate while the previous unit may still hang on the cable, so
        a device with another serial is never taken before the wait is over (it then fails the label check).
        """
        deadline = self.clock() + self.find_timeout
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
                self.journal.update_unit(ctx.unit.id, device_id=chosen.device_id.value, platform=chosen.platform.name)
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
            )
        raise UnitFailure(
            f"No Particle device found on USB for {where} (waited {self.find_timeout:.0f} s).",
            "Plug the unit in (check the USB cable and power), then scan the label again.",
        )

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
                except HardwareError:
                    continue  # still booting or just unplugged: ask again on the next poll
            if serials[key] == ctx.label.serial:
                return device
        if len(candidates) == 1 and (last_chance or candidates[0] in unreadable):
            return candidates[0]
        return None

    def _identify(self, ctx: UnitContext, device: ConnectedDevice) -> DeviceFacts:
        facts = self.link.identify(device.device_id)
        ctx.facts = facts
        self.journal.update_unit(
            ctx.unit.id,
            device_id=facts.device_id.value,
            platform=facts.platform.name,
            device_os=facts.device_os,
            iccid=facts.iccid.value if facts.iccid else None,
            imei=facts.imei.value if facts.imei else None,
        )
        if facts.platform.id != self.profile.platform.id:
            raise UnitFailure(
                f"This unit is a {facts.platform.display_name}, but the station is set up for "
                f"{self.profile.platform.display_name} (product {self.profile.product_id}).",
                "Set the unit aside: it belongs to another product line.",
            )
        return facts

    def _check_label(self, ctx: UnitContext, facts: DeviceFacts) -> dict[str, Any]:
        if not self.profile.steps.check_label:
            return {"_status": StepStatus.SKIPPED, "note": "label check disabled in the profile"}
        if facts.serial is None:
            raise UnitFailure(
                f"The device {facts.device_id} has no serial number stored, so its label cannot be checked.",
                "Set the unit aside for engineering (or disable check_label for this product).",
            )
        if facts.serial != ctx.label.serial:
            raise UnitFailure(
                f"Label and device do not match: the label says {ctx.label.serial}, the device says {facts.serial}.",
                "Find the right label for this unit (or the right unit for this label); set both aside if unsure.",
            )
        return {"serial": facts.serial.value}

    def _validate(self, ctx: UnitContext, facts: DeviceFacts) -> dict[str, Any]:
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
            )
        return {"sha256": self.module.sha256}

    def _device_os(self, ctx: UnitContext, facts: DeviceFacts) -> dict[str, Any]:
        minimum = self.profile.firmware.minimum_device_os
        assert minimum is not None
        if facts.device_os and DeviceOsVersion.parse(facts.device_os) >= DeviceOsVersion.parse(minimum):
            return {"_status": StepStatus.SKIPPED, "note": f"Device OS {facts.device_os} meets the minimum {minimum}"}
        if not self.profile.steps.device_os_update:
            raise UnitFailure(
                f"The unit runs Device OS {facts.device_os}, below the line's minimum {minimum}.",
                "Set the unit aside for a Device OS update.",
            )
        before = facts.device_os

        def progress(event: ProgressEvent) -> None:
            self._emit(ctx, EventKind.STEP_PROGRESS, step="device_os", message=event.phase, done=event.done,
                       total=event.total)

        flashed = self.link.update_device_os(facts.device_id, list(self.device_os_bundle), progress, ctx.cancel)
        after = self.link.identify(facts.device_id)
        ctx.facts = after
        self.journal.update_unit(ctx.unit.id, device_os=after.device_os)
        if after.device_os is None or DeviceOsVersion.parse(after.device_os) < DeviceOsVersion.parse(minimum):
            raise UnitFailure(
                f"After the Device OS update the unit runs {after.device_os}, still below {minimum}.",
                "Call engineering: the profile's Device OS bundle does not reach the minimum.",
            )
        return {"from": before, "to": after.device_os, "flashed": flashed}

    def _flash(self, ctx: UnitContext, facts: DeviceFacts) -> dict[str, Any]:
        if facts.user_part is not None and facts.user_part.valid and facts.user_part.sha256 == self.module.sha256:
            self.journal.update_unit(ctx.unit.id, firmware_sha256=self.module.sha256,
                                     firmware_version=self.module.product_version)
            return {"_status": StepStatus.PASSED, "note": "already runs this firmware (checked, not reflashed)",
                    "checked": True}
        started = self.clock()

        def progress(event: ProgressEvent) -> None:
            elapsed = self.clock() - started
            eta = elapsed / event.fraction - elapsed if event.fraction > 0.02 else None
            self._emit(ctx, EventKind.STEP_PROGRESS, step="flash", message=event.phase, done=event.done,
                       total=event.total, eta_seconds=eta)

        report = self.link.flash_user_part(facts.device_id, self.module, progress, ctx.cancel)
        self.journal.update_unit(ctx.unit.id, firmware_sha256=self.module.sha256,
                                 firmware_version=self.module.product_version)
        return {"bytes": report.bytes_written, "address": report.address, "seconds": round(report.seconds, 3),
                "verified": report.verified}

    def _wifi(self, ctx: UnitContext, facts: DeviceFacts) -> dict[str, Any]:
        assert self.profile.wifi is not None
        settings = wifi_settings(self.profile.wifi)  # the password is read now, never kept in the journal
        note = self.link.set_wifi_credentials(facts.device_id, settings)
        return {"note": note, "ssid": settings.ssid}

    def _setup_done(self, ctx: UnitContext, facts: DeviceFacts) -> dict[str, Any]:
        outcome = self.link.setup_done(facts.device_id)
        if outcome.startswith(SETUP_DONE_SKIPPED):
            return {"_status": StepStatus.SKIPPED, "note": outcome}
        return {"note": outcome}

    def _claim_code(self, ctx: UnitContext, facts: DeviceFacts) -> dict[str, Any]:
        email = self.profile.steps.customer_email
        assert email is not None
        code = self.cloud.create_customer_claim_code(
            self.profile.product_id, email, iccid=facts.iccid.value if facts.iccid else None
        )
        self.link.set_claim_code(facts.device_id, code.claim_code)
        return {"customer": email}

    def _final_check(self, ctx: UnitContext, facts: DeviceFacts) -> dict[str, Any]:
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
            )
        assert part is not None
        return {"user_part_version": part.version, "hash_checked": part.sha256 is not None}

    # --- cloud work ---------------------------------------------------------------------------------------------
    def _cloud_work(self, ctx: UnitContext, facts: DeviceFacts) -> list[str]:
        """Runs on the cloud pool. Returns the operations left to the outbox; raises UnitFailure on a refusal."""
        iccid = facts.iccid.value if facts.iccid else None
        if self.profile.steps.sim_activation is SimActivationPolicy.ALWAYS and iccid is None:
            raise UnitFailure("The profile needs a SIM activated, but the unit reported no ICCID.",
                              "Check the SIM card is fitted; set the unit aside.", step="activate_sim")
        plan = plan_cloud_work(
            self.profile, device_id=facts.device_id.value, iccid=iccid, serial=ctx.label.serial.value,
            lot=self.lot, today=self.today(), firmware_version=self.module.product_version,
            groups=self.groups, lock_version=self.lock_version,
        )
        pending: list[str] = []
        for operation, payload in plan:
            if pending:
                self.journal.enqueue(outbox_key(ctx.unit.id, operation.name, payload), operation.name, payload,
                                     unit_id=ctx.unit.id)
                pending.append(operation.name)
                self._record_pending(ctx, operation.name)
                continue
            with self._recorded(ctx, operation.name) as detail:
                if operation.name in ctx.resumed and self._confirmed(operation.name, payload):
                    detail.update({"note": "done on an earlier attempt (checked)", "checked": True})
                    continue
                try:
                    detail.update(operation.run(self.cloud, self.profile.product_id, payload))
                except RETRY_LATER as exc:
                    self.journal.enqueue(outbox_key(ctx.unit.id, operation.name, payload), operation.name, payload,
                                         unit_id=ctx.unit.id)
                    pending.append(operation.name)
                    detail.update({"_status": StepStatus.PENDING, "note": f"cloud unavailable, queued: {exc}"})
        if self.profile.confirm.enabled:
            confirm = self.profile.confirm
            confirmation: Payload = {
                "device_id": facts.device_id.value, "firmware_version": self.expected_online_version,
                "deadline": time.time() + confirm.timeout_s, "timeout_s": confirm.timeout_s,
                "on_timeout": confirm.on_timeout.value, "poll_s": 1.0,
            }
            self.journal.enqueue(f"unit{ctx.unit.id}:confirm_online:{ctx.unit.attempts}", "confirm_online",
                                 confirmation, unit_id=ctx.unit.id)
            pending.append("confirm_online")
            self._record_pending(ctx, "confirm_online")
        return pending

    def _confirmed(self, name: str, payload: Payload) -> bool:
        check = CHECKS.get(name)
        if check is None:
            return True
        try:
            return check(self.cloud, self.profile.product_id, payload)
        except RETRY_LATER:
            return False

    def _record_pending(self, ctx: UnitContext, step: str) -> None:
        step_id = self.journal.step_started(ctx.unit.id, step)
        self.journal.step_ended(step_id, StepStatus.PENDING, detail={"note": "queued behind an earlier cloud step"})
        self._emit(ctx, EventKind.STEP_ENDED, step=step, status=StepStatus.PENDING.value)

