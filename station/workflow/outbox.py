"""The outbox worker: retries cloud work that could not finish during a unit, with back-off, across restarts."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable

from cloud_client.client import ParticleCloud
from cloud_client.errors import CloudError
from station.records.database import JournalError
from station.records.outbox_table import OutboxItem, OutboxTable
from station.records.reason_code import ReasonCode
from station.records.step_table import StepStatus, StepTable
from station.records.unit_state import Settled
from station.records.unit_table import UnitTable
from station.workflow.cloud_ops import OPERATIONS, NotConfirmed, NotYet
from station.workflow.cloud_pause import credentials_problem
from station.workflow.events import EventBus, EventKind, UnitEvent
from station.workflow.outcome import RETRY_LATER, UnitFailure, explain

log = logging.getLogger(__name__)

HELD = "held until the station's credentials are fixed: "
"""Starts the last error of work held for the credentials, so a 'retry' (wake) in any process releases it."""


class OutboxWorker:
    """Runs due outbox operations in order per unit; each result settles its unit's state (records/unit_state.py)."""

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
        self._held_for: str | None = None
        """Why the work is held (the station's credentials are refused); said once, not once per item."""
        self._release_held = False
        self._held_now = False
        self._held_until = 0.0
        self._thread: threading.Thread | None = None
        self.stopped: str | None = None
        """Why the worker stopped by itself (its journal cannot be written), once it has; None while it runs."""

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
        """Run now (e.g. the engineer pressed 'retry pending cloud work'); work held for credentials is tried too."""
        self._release_held = True
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except JournalError as exc:
                # Disk full or folder read-only: no result could be recorded, so no more cloud work is done. What
                # is queued stays queued (a call made whose result was not recorded runs again: each is idempotent).
                self._journal_failed(exc)
                return
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
        now = self.wall_clock()
        if self._held_for is not None and not self._release_held and now < self._held_until:
            return 0  # held for the credentials: one probe per max_delay, not one request per queued item
        release = self._release_held
        self._release_held = False

        def is_due(item: OutboxItem) -> bool:
            # A 'retry' makes work held for the credentials due now rather than at its next probe.
            return item.next_attempt_at <= now or (release and (item.last_error or "").startswith(HELD))

        # Every pending item in order: a unit's work runs in its order, so an item waiting for its retry time holds
        # back the unit's later items (an update must not run before the import it follows).
        for item in self.outbox.due(float("inf")):
            if self._stop.is_set():
                break
            if item.unit_id in blocked_units:
                continue
            if not is_due(item):
                blocked_units.add(item.unit_id)
                continue
            self._held_now = False
            if self._run(item):
                finished += 1
            else:
                blocked_units.add(item.unit_id)
                if self._held_now:
                    break  # the credentials were refused: one request per round, not one per unit
        return finished

    def _run(self, item: OutboxItem) -> bool:
        operation = OPERATIONS.get(item.operation)
        if operation is None:
            self._announce(self.outbox.failed(item.id, f"unknown operation {item.operation!r}", retry_at=None,
                                              code=ReasonCode.INTERNAL))
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
            if step_id is not None:
                self.steps.ended(step_id, StepStatus.FAILED, error=str(exc))
            self._announce(self.outbox.not_confirmed(item.id, str(exc)))
            return False
        except RETRY_LATER as exc:
            delay = min(self.max_delay, self.base_delay * 2 ** min(item.attempts, 16))
            delay *= 0.5 + self.rng.random() / 2
            if step_id is not None:
                self.steps.ended(step_id, StepStatus.PENDING, error=str(exc), detail={"note": "retry later"})
            self.outbox.failed(item.id, str(exc), retry_at=self.wall_clock() + delay)
            log.info("outbox: %s still unavailable; next try in %.0f s", operation.name, delay)
            return False
        except (UnitFailure, CloudError) as exc:
            problem = credentials_problem(exc)
            if problem is not None:
                # The credentials, not the unit, are at fault: keep the work queued until they are fixed (a
                # 'retry' makes it due at once), and say so once.
                self.outbox.failed(item.id, HELD + problem, retry_at=self.wall_clock() + self.max_delay)
                if step_id is not None:
                    self.steps.ended(step_id, StepStatus.PENDING, error=problem,
                                     detail={"note": "held until the station's credentials are fixed"})
                if self._held_for is None:
                    log.warning("outbox: cloud work held: %s; fix the credentials, then retry", problem)
                self._held_for = problem
                self._held_now = True
                self._held_until = self.wall_clock() + self.max_delay
                return False
            failure = explain(exc, step=operation.name)
            if step_id is not None:
                self.steps.ended(step_id, StepStatus.FAILED, error=failure.reason)
            self._announce(self.outbox.failed(item.id, failure.reason, retry_at=None, code=failure.code))
            return False
        if self._held_for is not None:
            log.info("outbox: the cloud accepts the station's credentials again; held work resumes")
            self._held_for = None
        if step_id is not None:
            detail["note"] = "completed from the outbox"
            self.steps.ended(step_id, StepStatus.PASSED, detail=detail)
        self._announce(self.outbox.done(item.id))
        return True

    def _journal_failed(self, exc: JournalError) -> None:
        self.stopped = (f"Queued cloud work has stopped: the journal cannot be written ({exc}). Free disk space or "
                        "make the log folder writable, then start the station again; the queued work is kept and "
                        "finishes then.")
        log.error("outbox: %s", self.stopped)
        self.events.emit(UnitEvent(EventKind.NOTICE, slot=None, unit_key=None, message=self.stopped,
                                   action="Tell the engineer."))

    def _announce(self, settled: Settled | None) -> None:
        """Tell the screens when the outbox's write settled a unit into another state."""
        if settled is None or not settled.changed:
            return
        self.events.emit(UnitEvent(EventKind.UNIT_UPDATED, slot=None, unit_key=settled.unit_key,
                                   status=settled.state.value, message=settled.reason, action=settled.action))
