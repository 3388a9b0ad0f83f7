"""What every step of one unit shares: the unit's context, and the recorder that journals and announces each step."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from hardware.identifiers import LabelScan
from hardware.progress import CancelToken
from station.records.step_table import StepStatus, StepTable
from station.records.unit_table import UnitRecord
from station.workflow.device import DeviceFacts
from station.workflow.events import EventBus, EventKind, UnitEvent
from station.workflow.outcome import explain


@dataclass
class UnitContext:
    label: LabelScan
    slot: int
    unit: UnitRecord
    cancel: CancelToken
    resumed: dict[str, Any] = field(default_factory=dict)
    facts: DeviceFacts | None = None
    started: float = 0.0


class StepRecorder:
    """Journals each step of a unit (started, then how it ended) and announces it on the event bus."""

    def __init__(self, steps: StepTable, events: EventBus) -> None:
        self.steps = steps
        self.events = events

    def emit(self, ctx: UnitContext, kind: EventKind, **fields: Any) -> None:
        self.events.emit(UnitEvent(kind=kind, slot=ctx.slot, unit_key=ctx.unit.unit_key, **fields))

    @contextmanager
    def recorded(self, ctx: UnitContext, step: str) -> Iterator[dict[str, Any]]:
        """Run the block as ``step``: its detail dict goes to the journal (``_status`` in it sets the outcome); an
        error ends the step failed and leaves as the operator's UnitFailure."""
        step_id = self.steps.started(ctx.unit.id, step)
        self.emit(ctx, EventKind.STEP_STARTED, step=step)
        detail: dict[str, Any] = {}
        try:
            yield detail
        except BaseException as exc:
            failure = explain(exc, step=step)
            self.steps.ended(step_id, StepStatus.FAILED, detail=detail, error=failure.reason)
            self.emit(ctx, EventKind.STEP_ENDED, step=step, status="failed", message=failure.reason)
            raise failure from exc
        status = detail.pop("_status", StepStatus.PASSED)
        self.steps.ended(step_id, status, detail=detail)
        self.emit(ctx, EventKind.STEP_ENDED, step=step, status=status.value, message=detail.get("note", ""))

    def note(self, ctx: UnitContext, step: str, note: str) -> None:
        """Journal a fact about the attempt as a passed step (e.g. an engineer's rework of a unit already PASS)."""
        step_id = self.steps.started(ctx.unit.id, step)
        self.steps.ended(step_id, StepStatus.PASSED, detail={"note": note})
        self.emit(ctx, EventKind.STEP_ENDED, step=step, status=StepStatus.PASSED.value, message=note)

    def pending(self, ctx: UnitContext, step: str) -> None:
        """Record a step handed to the outbox without being tried (it waits behind an earlier cloud step)."""
        step_id = self.steps.started(ctx.unit.id, step)
        self.steps.ended(step_id, StepStatus.PENDING, detail={"note": "queued behind an earlier cloud step"})
        self.emit(ctx, EventKind.STEP_ENDED, step=step, status=StepStatus.PENDING.value)
