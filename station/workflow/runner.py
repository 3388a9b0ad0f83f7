"""Runs one unit through its steps, journalling each, resuming a unit scanned again, overlapping cloud and flash.

Device steps (station.workflow.device_steps) run in order on the slot's thread: find, identify, check label,
validate firmware, flash + verify, final check. As soon as the device id is known the cloud work
(station.workflow.cloud_steps: pre-add, SIM, claim, name/groups/flags) starts on the cloud pool; a cloud outage
sends the rest of that work to the outbox. With tests in the profile (station.workflow.test_stage) the test firmware
is flashed and the tests run after the label check, and the cloud work starts only once every test passed: a unit
that fails a test gets no cloud call at all (not added, not claimed, its SIM not activated). The unit's state is
derived from the journal by whichever of this runner and the outbox worker finishes last (station.records.unit_state).
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from hardware.identifiers import LabelScan
from hardware.progress import Cancelled, CancelToken
from station.config.profile import ClaimMode
from station.line.feed import ScanScreen
from station.records.measurement_table import MeasurementTable
from station.records.outbox_table import OutboxTable
from station.records.reason_code import ReasonCode
from station.records.step_table import StepTable
from station.records.unit_state import UnitSettlement
from station.records.unit_table import UnitTable
from station.workflow.cloud_steps import CloudSteps
from station.workflow.device import ConnectedDevice, DeviceFacts, DeviceLink
from station.workflow.device_steps import DeviceSteps, LabelPresence, SlotClaims
from station.workflow.events import EventBus, EventKind
from station.workflow.lot import PreparedLot
from station.workflow.outcome import UnitFailure, UnitResult
from station.workflow.protection_steps import ProtectionSteps
from station.workflow.scan_check import MisScan
from station.workflow.test_prompts import NoOperator, Prompter
from station.workflow.test_stage import TestStage
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
        prompter: Prompter | None = None,
        line_check: Callable[[str], ScanScreen] | None = None,
    ) -> None:
        """``line_check``: the line database's word on the unit's device id at identify (``[line]`` only)."""
        self.profile = prepared.profile
        self.units = units
        self.steps = steps
        self.settlement = UnitSettlement(units.db)
        self.interrupting = threading.Event()
        """Set when the station stops (Ctrl-C, shutdown): units cancelled then end 'interrupted', not FAIL."""
        self.lot = lot
        self.operator = operator
        self.cloud_pool = cloud_pool
        self.claims = claims or SlotClaims()
        self.clock = clock
        self.recorder = StepRecorder(steps, events)
        self.device_steps = DeviceSteps(
            profile=prepared.profile, units=units, link=link, cloud=prepared.cloud, module=prepared.module,
            recorder=self.recorder, claims=self.claims, clock=clock, find_timeout=find_timeout,
            device_os_bundle=prepared.device_os_bundle, line_check=line_check,
        )
        self.protection_steps = ProtectionSteps(
            profile=prepared.profile, units=units, link=link, cloud=prepared.cloud, recorder=self.recorder,
            protected_bootloader=prepared.protected_bootloader,
        )
        self.test_stage = None if prepared.profile.tests is None else TestStage(
            prepared.profile.tests, link=link, units=units, measurements=MeasurementTable(units.db),
            recorder=self.recorder, prompter=prompter or NoOperator(), clock=clock,
        )
        """The tests on the fixture (None without [tests]); TestPlanError here when the test firmware is refused."""
        self.cloud_steps = CloudSteps(
            profile=prepared.profile, cloud=prepared.cloud, outbox=outbox, recorder=self.recorder, lot=lot,
            today=today, firmware_version=prepared.module.product_version, groups=list(prepared.groups),
            lock_version=prepared.lock_version,
            expected_online_version=prepared.expected_online_version or prepared.module.product_version,
            reach=prepared.reach,
        )

    def run(self, label: LabelScan, *, slot: int = 0, cancel: CancelToken | None = None,
            rework: bool = False) -> UnitResult:
        """Run the unit behind ``label``; raises MisScan, before any unit is recorded, when no device appears for a
        label never scanned in this lot, or only devices with other serial numbers. ``rework``: an engineer reworks
        a unit already PASS (journalled so)."""
        key = label.serial.value
        cancel = cancel or CancelToken()
        uncertain = False
        if self.units.by_key(self.lot, key) is None:
            try:
                presence, count = self.device_steps.label_presence(slot, label.serial, cancel)
            except Cancelled:
                raise MisScan(ReasonCode.CANCELLED, f"Scan of {key} stopped before the unit started; scan the "
                              "label again when the unit is plugged in.") from None
            if presence is LabelPresence.ABSENT:
                raise MisScan(ReasonCode.DEVICE_NOT_FOUND,
                              f"Scan refused: no device appeared on USB for slot {slot + 1} within "
                              f"{self.device_steps.find_timeout:.0f} s of scanning {key}; plug the unit in, then scan "
                              "its label again.")
            if presence is LabelPresence.OTHERS and self.profile.steps.check_label:
                plugged = ("the device plugged in has another serial number" if count == 1
                           else f"the {count} devices plugged in have other serial numbers")
                raise MisScan(ReasonCode.LABEL_MISMATCH,
                              f"Scan refused: label {key} matches no device on slot {slot + 1} ({plugged}); scan "
                              "the label of the unit that is plugged in, or plug in the unit of this label and scan "
                              "it again.")
            uncertain = presence is LabelPresence.UNCERTAIN
        unit, created = self.units.begin(
            self.lot, key, serial=key, slot=slot, operator=self.operator, station=self.profile.station_name
        )
        ctx = UnitContext(label, slot, unit, cancel, started=self.clock())
        if not created:
            ctx.resumed = dict(self.steps.passed(unit.id))
        if rework:
            self.recorder.note(ctx, "rework", "an engineer reworks a unit that had passed")
        self.recorder.emit(ctx, EventKind.UNIT_STARTED, message="resuming" if not created else "",
                           data={"new": created})
        cloud_future: Future[list[str]] | None = None
        failure: UnitFailure | None = None
        reprotect = protected = False
        try:
            device = self._device_step(ctx, "find", lambda: self.device_steps.find(ctx, waited=uncertain))
            facts = self._device_step(ctx, "identify", lambda: self._identify(ctx, device, rework))
            if facts.protected_device:
                reprotect = True  # from here on the unit leaves the slot a Protected Device, whatever happens
                self._device_step(ctx, "service_mode", lambda: self.protection_steps.service_mode(ctx, facts))
                facts = ctx.facts or facts
            self._device_step(ctx, "check_label", lambda: self.device_steps.check_label(ctx, facts))
            if self.test_stage is None:
                cloud_future = self.cloud_pool.submit(self.cloud_steps.run, ctx, facts)
            if self.profile.firmware.minimum_device_os:
                self._device_step(ctx, "device_os", lambda: self.device_steps.device_os(ctx, facts))
                facts = ctx.facts or facts
            if self.test_stage is not None:
                facts = self._tests(ctx, self.test_stage, facts)
                cloud_future = self.cloud_pool.submit(self.cloud_steps.run, ctx, facts)
            self._device_step(ctx, "validate_firmware", lambda: self.device_steps.validate(ctx, facts))
            self._device_step(ctx, "flash", lambda: self.device_steps.flash(ctx, facts))
            if self.profile.wifi is not None and facts.platform.is_wifi:
                self._device_step(ctx, "wifi", lambda: self.device_steps.wifi(ctx, facts))
            if self.profile.steps.setup_done and facts.platform.gen3_or_later:
                self._device_step(ctx, "setup_done", lambda: self.device_steps.setup_done(ctx, facts))
            if self.profile.steps.claim is ClaimMode.CLAIM_CODE:
                self._device_step(ctx, "claim_code", lambda: self.device_steps.claim_code(ctx, facts))
            self._device_step(ctx, "final_check", lambda: self.device_steps.final_check(ctx, facts))
            if self.profile.protection.protect_at_end and not reprotect:
                protected = True  # the step journals the state it leaves the unit in
                self._device_step(ctx, "protect", lambda: self.protection_steps.protect(ctx, facts))
        except UnitFailure as exc:
            failure = exc
        except BaseException:
            # Not a unit's failure (the journal failing, a bug): a reworked unit still goes back to protected and
            # the slot is freed before the error goes up to the line.
            try:
                self._leave_slot(ctx, None, reprotect=reprotect, protected=protected)
            finally:
                self.claims.release(slot)
            raise
        failure = self._leave_slot(ctx, failure, reprotect=reprotect, protected=protected)
        pending: list[str] = []
        if cloud_future is not None:
            try:
                pending = cloud_future.result()
            except UnitFailure as exc:
                failure = failure or exc
        self.claims.release(slot)
        return self._finish(ctx, failure, pending)

    def _identify(self, ctx: UnitContext, device: ConnectedDevice, rework: bool) -> DeviceFacts:
        facts = self.device_steps.identify(ctx, device, check_line=not rework)
        self.protection_steps.refuse_if_protected(facts)
        return facts

    def _leave_slot(self, ctx: UnitContext, failure: UnitFailure | None, *, reprotect: bool,
                    protected: bool) -> UnitFailure | None:
        """A reworked unit goes back to protected (RESET) even when a step failed or the operator stopped it; the
        state it leaves in is journalled."""
        facts = ctx.facts
        if reprotect and facts is not None:
            try:
                with self.recorder.recorded(ctx, "reprotect") as detail:  # not cancellable: it must run
                    detail.update(self.protection_steps.reprotect(ctx, facts))
            except UnitFailure as exc:
                stuck = self.protection_steps.not_returned(ctx, facts, exc)
                if failure is None:
                    return stuck
                # Both are told: what failed first, and that the unit may still be in Service Mode.
                return UnitFailure(f"{failure.reason} {stuck.reason}", f"{stuck.action} {failure.action}",
                                   step=failure.step, code=failure.code)
        elif not protected:
            self.protection_steps.leaving_unchanged(ctx, facts)
        return failure

    def _finish(self, ctx: UnitContext, failure: UnitFailure | None, pending: list[str]) -> UnitResult:
        """Record how the device side ended; the unit's state is derived with the outbox's facts in that same write
        (records/unit_state.py), so the outbox finishing first, or failing, is never overwritten."""
        cycle = self.clock() - ctx.started
        if failure is not None and failure.code is ReasonCode.CANCELLED and self.interrupting.is_set():
            failure = UnitFailure("The station stopped while this unit ran.",
                                  "Scan the label again to resume this unit.", step=failure.step,
                                  code=ReasonCode.INTERRUPTED)
        settled = self.settlement.device_finished(
            ctx.unit.id, failure=(failure.reason, failure.action, failure.code.value) if failure else None,
            ended_at=time.time(),
            cycle_seconds=cycle,
        )
        unit = self.units.get(ctx.unit.id) or ctx.unit
        result = UnitResult(
            unit_key=unit.unit_key, state=settled.state, reason=settled.reason, action=settled.action,
            device_id=unit.device_id, serial=unit.serial, cycle_seconds=cycle,
            failed_step=failure.step if failure else None, reason_code=settled.reason_code,
        )
        self.recorder.emit(ctx, EventKind.UNIT_FINISHED, status=settled.state.value, message=settled.reason,
                           action=settled.action, data={"device_id": unit.device_id, "cycle_seconds": cycle,
                                                        "failed_step": result.failed_step, "pending": pending,
                                                        "reason_code": settled.reason_code})
        return result

    @property
    def prompter(self) -> Prompter | None:
        return self.test_stage.prompter if self.test_stage is not None else None

    @prompter.setter
    def prompter(self, prompter: Prompter) -> None:
        """Who answers the tests' operator prompts (the GUI sets its own; the default asks no one)."""
        if self.test_stage is not None:
            self.test_stage.prompter = prompter

    def _tests(self, ctx: UnitContext, stage: TestStage, facts: DeviceFacts) -> DeviceFacts:
        """Flash the test firmware and run the tests; the unit's facts afterwards (it runs the test firmware now,
        so the product firmware's flash step must not take it for the product firmware)."""
        self._device_step(ctx, "test_firmware", lambda: stage.flash(ctx, facts))
        facts = ctx.facts or facts
        self._device_step(ctx, "tests", lambda: stage.run(ctx, facts))
        return facts

    def _device_step(self, ctx: UnitContext, step: str, work: Callable[[], Any]) -> Any:
        with self.recorder.recorded(ctx, step) as detail:
            ctx.cancel.raise_if_cancelled(step.replace("_", " "))
            result = work()
            if isinstance(result, dict):
                detail.update(result)
        return result
