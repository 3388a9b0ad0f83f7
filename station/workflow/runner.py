"""Runs one unit through its steps, journalling each, resuming a unit scanned again, overlapping cloud and flash.

Device steps (station.workflow.device_steps) run in order on the slot's thread: find, identify, check label,
validate firmware, flash + verify, final check. As soon as the device id is known the cloud work
(station.workflow.cloud_steps: pre-add, SIM, claim, name/groups/flags) starts on the cloud pool; a cloud outage
sends the rest of that work to the outbox and the unit ends "cloud pending". This module keeps the unit's state.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from hardware.identifiers import LabelScan
from hardware.progress import CancelToken
from station.config.profile import ClaimMode
from station.records.outbox_table import OutboxTable
from station.records.step_table import StepTable
from station.records.unit_table import UnitState, UnitTable
from station.workflow.cloud_steps import CloudSteps
from station.workflow.device import DeviceLink
from station.workflow.device_steps import DeviceSteps, SlotClaims
from station.workflow.events import EventBus, EventKind
from station.workflow.lot import PreparedLot
from station.workflow.outcome import UnitFailure, UnitResult
from station.workflow.unit_steps import StepRecorder, UnitContext

FIND_TIMEOUT_S = 5.0


class UnitRunner:
    """Everything one unit needs; shared by every slot of a line (it holds no per-unit state)."""

    def __init__(
        self,
        prepared: PreparedLot,
        *,
        units: UnitTable,
        steps: StepTable,
        outbox: OutboxTable,
        link: DeviceLink,
        events: EventBus,
        lot: str,
        operator: str,
        cloud_pool: ThreadPoolExecutor,
        claims: SlotClaims | None = None,
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], datetime.date] = datetime.date.today,
        find_timeout: float = FIND_TIMEOUT_S,
    ) -> None:
        self.profile = prepared.profile
        self.units = units
        self.steps = steps
        self.lot = lot
        self.operator = operator
        self.cloud_pool = cloud_pool
        self.claims = claims or SlotClaims()
        self.clock = clock
        self.recorder = StepRecorder(steps, events)
        self.device_steps = DeviceSteps(
            profile=prepared.profile, units=units, link=link, cloud=prepared.cloud, module=prepared.module,
            recorder=self.recorder, claims=self.claims, clock=clock, find_timeout=find_timeout,
            device_os_bundle=prepared.device_os_bundle,
        )
        self.cloud_steps = CloudSteps(
            profile=prepared.profile, cloud=prepared.cloud, outbox=outbox, recorder=self.recorder, lot=lot,
            today=today, firmware_version=prepared.module.product_version, groups=list(prepared.groups),
            lock_version=prepared.lock_version,
            expected_online_version=prepared.expected_online_version or prepared.module.product_version,
            reach=prepared.reach,
        )

    def run(self, label: LabelScan, *, slot: int = 0, cancel: CancelToken | None = None) -> UnitResult:
        key = label.serial.value
        unit, created = self.units.begin(
            self.lot, key, serial=key, slot=slot, operator=self.operator, station=self.profile.station_name
        )
        ctx = UnitContext(label, slot, unit, cancel or CancelToken(), started=self.clock())
        if not created:
            ctx.resumed = dict(self.steps.passed(unit.id))
        self.recorder.emit(ctx, EventKind.UNIT_STARTED, message="resuming" if not created else "",
                           data={"new": created})
        cloud_future: Future[list[str]] | None = None
        failure: UnitFailure | None = None
        try:
            device = self._device_step(ctx, "find", lambda: self.device_steps.find(ctx))
            facts = self._device_step(ctx, "identify", lambda: self.device_steps.identify(ctx, device))
            self._device_step(ctx, "check_label", lambda: self.device_steps.check_label(ctx, facts))
            cloud_future = self.cloud_pool.submit(self.cloud_steps.run, ctx, facts)
            if self.profile.firmware.minimum_device_os:
                self._device_step(ctx, "device_os", lambda: self.device_steps.device_os(ctx, facts))
                facts = ctx.facts or facts
            self._device_step(ctx, "validate_firmware", lambda: self.device_steps.validate(ctx, facts))
            self._device_step(ctx, "flash", lambda: self.device_steps.flash(ctx, facts))
            if self.profile.wifi is not None and facts.platform.is_wifi:
                self._device_step(ctx, "wifi", lambda: self.device_steps.wifi(ctx, facts))
            if self.profile.steps.setup_done and facts.platform.gen3_or_later:
                self._device_step(ctx, "setup_done", lambda: self.device_steps.setup_done(ctx, facts))
            if self.profile.steps.claim is ClaimMode.CLAIM_CODE:
                self._device_step(ctx, "claim_code", lambda: self.device_steps.claim_code(ctx, facts))
            self._device_step(ctx, "final_check", lambda: self.device_steps.final_check(ctx, facts))
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
        unit = self.units.update(
            ctx.unit.id, state=state, reason=reason, action=action, ended_at=time.time(), cycle_seconds=cycle,
            first_result=first,
        )
        result = UnitResult(
            unit_key=unit.unit_key, state=state, reason=reason, action=action, device_id=unit.device_id,
            serial=unit.serial, cycle_seconds=cycle, failed_step=failure.step if failure else None,
        )
        self.recorder.emit(ctx, EventKind.UNIT_FINISHED, status=state.value, message=reason, action=action,
                           data={"device_id": unit.device_id, "cycle_seconds": cycle,
                                 "failed_step": result.failed_step})
        return result

    def _device_step(self, ctx: UnitContext, step: str, work: Callable[[], Any]) -> Any:
        with self.recorder.recorded(ctx, step) as detail:
            ctx.cancel.raise_if_cancelled(step.replace("_", " "))
            result = work()
            if isinstance(result, dict):
                detail.update(result)
        return result
