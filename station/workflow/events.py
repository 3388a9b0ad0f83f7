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
    TEST_STARTED = "test started"
    """A test of the test stage began: ``done`` = its number (from 1), ``total`` = the tests, ``message`` = its name,
    ``data``: {"test", "attempt" (the retry, from 1)}."""
    MEASUREMENT = "measurement"
    """One measurement was judged: ``status`` = "pass"/"fail", ``data``: {"test", "measurement", "value", "units",
    "limits" (text), "marginal" (bool)}; ``message`` says it in one line (with the limits when it failed)."""
    TEST_FINISHED = "test finished"
    """A test ended: ``status`` = "pass"/"fail", ``message`` = why it failed, ``data``: {"test", "seconds"}."""
    PROMPT_ASKED = "prompt asked"
    """The test stage asks the operator (the unit signals meanwhile): ``message`` = the question, ``data``:
    {"test", "kind" ("yes_no"/"number"), "image" (path or None), "timeout_s"}. The answer comes back through the
    Prompter (station.workflow.test_stage), not through the bus."""


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
