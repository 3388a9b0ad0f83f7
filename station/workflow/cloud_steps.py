"""A unit's cloud work (pre-add, SIM, claim, name/groups/flags, online confirmation), run on the cloud pool while the
device is flashed; a cloud outage sends the rest of the work to the outbox and the unit ends "cloud pending"."""

from __future__ import annotations

import datetime
import hashlib
import json
import time
from collections.abc import Callable

from cloud_client.client import ParticleCloud
from cloud_client.errors import CloudError
from station.config.cloud import steps_refused_to
from station.config.profile import SimActivationPolicy, StationProfile
from station.errors import StationError
from station.records.outbox_table import OutboxTable
from station.records.reason_code import ReasonCode
from station.records.step_table import StepStatus
from station.records.unit_state import Settled
from station.workflow.cloud_ops import CHECKS, SIM_BY_IMPORT, Payload, plan_cloud_work, sim_activated_by_import
from station.workflow.cloud_pause import CloudPause, credentials_problem
from station.workflow.cloud_reach import CloudReach
from station.workflow.device import DeviceFacts
from station.workflow.events import EventKind, UnitEvent
from station.workflow.outcome import RETRY_LATER, UnitFailure
from station.workflow.sim_roster import SimRoster
from station.workflow.unit_steps import StepRecorder, UnitContext

UNIT_CLOUD_RETRIES = 0
"""A unit's own cloud calls are not retried: the first 5xx, 429, time-out or dropped connection sends that operation
and the rest of the unit's cloud work to the outbox (which retries with back-off, off the unit's critical path),
instead of the unit's cloud thread waiting out the client's whole back-off (about 12 s) while the operator waits."""


def outbox_key(unit_id: int, operation: str, payload: Payload) -> str:
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
    return f"unit{unit_id}:{operation}:{digest}"


class CloudSteps:
    """The cloud side of a unit; shared by every slot (it holds no per-unit state)."""

    def __init__(
        self,
        *,
        profile: StationProfile,
        cloud: ParticleCloud,
        outbox: OutboxTable,
        recorder: StepRecorder,
        lot: str,
        today: Callable[[], datetime.date],
        firmware_version: int | None,
        groups: list[str],
        lock_version: int | None,
        expected_online_version: int | None,
        reach: CloudReach | None = None,
    ) -> None:
        self.profile = profile
        self.cloud = cloud
        self.outbox = outbox
        self.recorder = recorder
        self.lot = lot
        self.today = today
        self.firmware_version = firmware_version
        self.groups = groups
        self.lock_version = lock_version
        self.expected_online_version = expected_online_version
        self.reach = reach
        """Probed before the unit's first call (one connection, while the device flashes): a cloud that refuses
        connections gets no call (each would spend its retries on the unit's critical path); the work goes straight
        to the outbox."""
        refused = steps_refused_to(profile, oauth_client=cloud.uses_oauth_client)
        if refused:
            # The lot does not start: every unit would be refused the same step.
            raise StationError(f"{cloud.credentials_source}: " + "; ".join(refused))
        self.pause = CloudPause(self._notice)
        self.sims = SimRoster(cloud, profile.product_id, outbox, self._flagged) if sim_activated_by_import(profile) \
            else None
        """The SIMs the device import brought in, checked against the product's SIM list many units at a time."""

    def _notice(self, message: str) -> None:
        self.recorder.events.emit(UnitEvent(EventKind.NOTICE, slot=None, unit_key=None, message=message))

    def _flagged(self, settled: Settled) -> None:
        self.recorder.events.emit(UnitEvent(EventKind.UNIT_UPDATED, slot=None, unit_key=settled.unit_key,
                                            status=settled.state.value, message=settled.reason,
                                            action=settled.action))
        self.recorder.events.emit(UnitEvent(EventKind.NOTICE, slot=None, unit_key=settled.unit_key,
                                            message=f"Unit {settled.unit_key}: {settled.reason}",
                                            action=settled.action))

    def sweep_sims(self) -> None:
        """Check the SIMs still waiting (the lot or the line closes)."""
        if self.sims is not None:
            self.sims.sweep()

    def run(self, ctx: UnitContext, facts: DeviceFacts) -> list[str]:
        """Runs on the cloud pool. Returns the operations left to the outbox; raises UnitFailure on a refusal."""
        iccid = facts.iccid.value if facts.iccid else None
        if self.profile.steps.sim_activation is SimActivationPolicy.ALWAYS and iccid is None:
            raise UnitFailure("The profile needs a SIM activated, but the unit reported no ICCID.",
                              "Check the SIM card is fitted; set the unit aside.", step="activate_sim",
                              code=ReasonCode.SIM_MISSING)
        plan = plan_cloud_work(
            self.profile, device_id=facts.device_id.value, iccid=iccid, serial=ctx.label.serial.value,
            lot=self.lot, today=self.today(), firmware_version=self.firmware_version,
            groups=self.groups, lock_version=self.lock_version,
        )
        pending: list[str] = []
        offline = self.reach is not None and not self.reach.probe()
        for operation, payload in plan:
            held = None if (pending or offline) else self.pause.held(operation.name)
            if pending or offline:
                self.outbox.enqueue(outbox_key(ctx.unit.id, operation.name, payload), operation.name, payload,
                                    unit_id=ctx.unit.id)
                pending.append(operation.name)
                self.recorder.pending(ctx, operation.name)
                continue
            if held:
                self.outbox.enqueue(outbox_key(ctx.unit.id, operation.name, payload), operation.name, payload,
                                    unit_id=ctx.unit.id)
                pending.append(operation.name)
                with self.recorder.recorded(ctx, operation.name) as detail:
                    detail.update({"_status": StepStatus.PENDING, "note": f"paused for this lot, queued: {held}"})
                continue
            with self.recorder.recorded(ctx, operation.name) as detail:
                if operation.name in ctx.resumed and self._confirmed(operation.name, payload):
                    detail.update({"note": "done on an earlier attempt (checked)", "checked": True})
                    if self.sims is not None and iccid and payload.get("iccid"):
                        self.sims.expect(ctx.unit.id, ctx.unit.unit_key, iccid)  # its SIM is checked again
                    continue
                try:
                    with self.cloud.retries_at_most(UNIT_CLOUD_RETRIES):
                        detail.update(operation.run(self.cloud, self.profile.product_id, payload))
                    self.pause.worked(operation.name)
                    if self.sims is not None and iccid and detail.get("sim") == SIM_BY_IMPORT:
                        self.sims.expect(ctx.unit.id, ctx.unit.unit_key, iccid)
                except RETRY_LATER as exc:
                    self.outbox.enqueue(outbox_key(ctx.unit.id, operation.name, payload), operation.name, payload,
                                        unit_id=ctx.unit.id)
                    pending.append(operation.name)
                    detail.update({"_status": StepStatus.PENDING, "note": f"cloud unavailable, queued: {exc}"})
                except CloudError as exc:
                    problem = credentials_problem(exc)
                    if problem is None:
                        raise
                    self.pause.refused(operation.name, exc, problem)
                    self.outbox.enqueue(outbox_key(ctx.unit.id, operation.name, payload), operation.name, payload,
                                        unit_id=ctx.unit.id)
                    pending.append(operation.name)
                    detail.update({"_status": StepStatus.PENDING, "note": f"paused, queued: {problem}"})
        if self.profile.confirm.enabled:
            confirm = self.profile.confirm
            confirmation: Payload = {
                "device_id": facts.device_id.value, "firmware_version": self.expected_online_version,
                "deadline": time.time() + confirm.timeout_s, "timeout_s": confirm.timeout_s,
                "on_timeout": confirm.on_timeout.value, "poll_s": 1.0,
            }
            self.outbox.enqueue(f"unit{ctx.unit.id}:confirm_online:{ctx.unit.attempts}", "confirm_online",
                                confirmation, unit_id=ctx.unit.id)
            pending.append("confirm_online")
            self.recorder.pending(ctx, "confirm_online")
        return pending

    def _confirmed(self, name: str, payload: Payload) -> bool:
        check = CHECKS.get(name)
        if check is None:
            return True
        try:
            with self.cloud.retries_at_most(UNIT_CLOUD_RETRIES):
                return check(self.cloud, self.profile.product_id, payload)
        except RETRY_LATER:
            return False
        except CloudError as exc:
            if credentials_problem(exc) is None:
                raise
            return False
