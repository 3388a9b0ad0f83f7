"""Events a running line reports (step started, progress, step ended, unit finished) to any number of listeners."""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


class EventKind(enum.Enum):
    UNIT_STARTED = "unit started"
    STEP_STARTED = "step started"
    STEP_PROGRESS = "step progress"
    STEP_ENDED = "step ended"
    UNIT_FINISHED = "unit finished"
    UNIT_UPDATED = "unit updated"
    """A finished unit changed later (cloud pending work completed in the background)."""
    NOTICE = "notice"
    """Something the operator should read that is not tied to one step (e.g. a workbook held open by Excel)."""


@dataclass(frozen=True)
class UnitEvent:
    kind: EventKind
    slot: int | None
    unit_key: str | None
    step: str | None = None
    status: str | None = None
    """For STEP_ENDED: passed/failed/skipped/pending; for UNIT_FINISHED: the unit state's value."""
    message: str = ""
    action: str = ""
    """What the operator should do next (with FAIL results and notices)."""
    done: int = 0
    total: int = 0
    eta_seconds: float | None = None
    data: dict[str, Any] = field(default_factory=dict)


EventListener = Callable[[UnitEvent], None]


class EventBus:
    """Fans events out to listeners; a listener that raises is logged and never stops the line."""

    def __init__(self) -> None:
        self._listeners: list[EventListener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def emit(self, event: UnitEvent) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:
                log.exception("event listener %r failed on %s", listener, event.kind.value)
