"""The outbox worker: retries cloud work that could not finish during a unit, with back-off, across restarts."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable

from cloud_client.client import ParticleCloud
from cloud_client.errors import CloudError
from station.records.outbox_table import OutboxItem, OutboxTable
from station.records.step_table import StepStatus, StepTable
from station.records.unit_table import UnitState, UnitTable
from station.workflow.cloud_ops import OPERATIONS, NotConfirmed, NotYet
from station.workflow.events import EventBus, EventKind, UnitEvent
from station.workflow.outcome import RETRY_LATER, UnitFailure, explain

log = logging.getLogger(__name__)


class OutboxWorker:
    """Runs due outbox operations in order per unit; a unit whose work all finished goes from cloud pending to PASS."""

    def __init__(
        self,
        outbox: OutboxTable,
        units: UnitTable,
        steps: StepTable,
        cloud: ParticleCloud,
        product_id: int,
        events: EventBus,
        *,
        poll_interval: float = 1.0,
        base_delay: float = 2.0,
        max_delay: float = 300.0,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        reachable: Callable[[], bool] | None = None,
    ) -> None:
        """``reachable``: asked before each round; False skips it (the cloud refuses connections: every call would
        only spend its retries; see station.workflow.cloud_reach)."""
        self.outbox = outbox
        self.units = units
        self.steps = steps
        self.cloud = cloud
        self.product_id = product_id
        self.events = events
        self.poll_interval = poll_interval
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.wall_clock = wall_clock
        self.rng = rng or random.Random()
        self.reachable = reachable
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="outbox", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        """Run now (e.g. the engineer pressed 'retry pending cloud work')."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("outbox round failed; will try again")
            self._wake.wait(self.poll_interval)
            self._wake.clear()

    def run_once(self) -> int:
        """One pass over the due operations; returns how many finished."""
        finished = 0
        if self.reachable is not None and not self.reachable():
            return finished
        blocked_units: set[int | None] = set()
        for item in self.outbox.due(self.wall_clock()):
            if self._stop.is_set():
                break
            if item.unit_id in blocked_units:
                continue
            if self._run(item):
                finished += 1
            else:
                blocked_units.add(item.unit_id)
        return finished

    def _run(self, item: OutboxItem) -> bool:
        operation = OPERATIONS.get(item.operation)
        if operation is None:
            self.outbox.failed(item.id, f"unknown operation {item.operation!r}", retry_at=None)
            return False
        step_id = self.steps.started(item.unit_id, operation.name) if item.unit_id is not None else None
        try:
            detail = operation.run(self.cloud, self.product_id, dict(item.payload))
        except NotYet as exc:
            self.outbox.failed(item.id, str(exc), retry_at=self.wall_clock() + exc.retry_in)
            if step_id is not None:
                self.steps.discard(step_id)
            return False
        except NotConfirmed as exc:
            self.outbox.done(item.id)
            if step_id is not None:
                self.steps.ended(step_id, StepStatus.FAILED, error=str(exc))
            if item.unit_id is not None:
                self._unit_not_confirmed(item.unit_id, str(exc))
            return False
        except RETRY_LATER as exc:
            delay = min(self.max_delay, self.base_delay * 2 ** min(item.attempts, 16))
            delay *= 0.5 + self.rng.random() / 2
            self.outbox.failed(item.id, str(exc), retry_at=self.wall_clock() + delay)
            if step_id is not None:
                self.steps.ended(step_id, StepStatus.PENDING, error=str(exc), detail={"note": "retry later"})
            log.info("outbox: %s still unavailable; next try in %.0f s", operation.name, delay)
            return False
        except (UnitFailure, CloudError) as exc:
            failure = explain(exc, step=operation.name)
            self.outbox.failed(item.id, failure.reason, retry_at=None)
            if step_id is not None:
                self.steps.ended(step_id, StepStatus.FAILED, error=failure.reason)
            if item.unit_id is not None:
                self._unit_failed(item.unit_id, failure)
            return False
        self.outbox.done(item.id)
        if step_id is not None:
            detail["note"] = "completed from the outbox"
            self.steps.ended(step_id, StepStatus.PASSED, detail=detail)
        if item.unit_id is not None and not self.outbox.pending_for_unit(item.unit_id):
            self._unit_done(item.unit_id)
        return True

    def _unit_done(self, unit_id: int) -> None:
        unit = self.units.get(unit_id)
        if unit is None or unit.state is not UnitState.CLOUD_PENDING:
            return
        unit = self.units.update(
            unit_id, state=UnitState.PASS, reason="All steps passed (cloud work finished later).",
            action="Nothing to do.",
        )
        self.events.emit(UnitEvent(EventKind.UNIT_UPDATED, slot=None, unit_key=unit.unit_key,
                                   status=UnitState.PASS.value, message=unit.reason or ""))

    def _unit_not_confirmed(self, unit_id: int, reason: str) -> None:
        unit = self.units.update(
            unit_id, state=UnitState.NOT_CONFIRMED, reason=reason,
            action="The unit is flashed and registered; check it comes online before shipping it.",
        )
        self.events.emit(UnitEvent(EventKind.UNIT_UPDATED, slot=None, unit_key=unit.unit_key,
                                   status=UnitState.NOT_CONFIRMED.value, message=reason, action=unit.action or ""))

    def _unit_failed(self, unit_id: int, failure: UnitFailure) -> None:
        unit = self.units.update(
            unit_id, state=UnitState.FAIL, reason=failure.reason,
            action="Take this unit out of the PASS tray and set it aside for engineering.",
        )
        self.events.emit(UnitEvent(EventKind.UNIT_UPDATED, slot=None, unit_key=unit.unit_key,
                                   status=UnitState.FAIL.value, message=failure.reason, action=unit.action or ""))
