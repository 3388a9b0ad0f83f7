"""What each slot of a station is doing, for the line database's ``stations.slots`` (the dashboard shows it).

Fed by the line's unit events (duck-typed here: station.line never imports the workflow, which imports it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol


class _Event(Protocol):
    @property
    def slot(self) -> int | None: ...
    @property
    def unit_key(self) -> str | None: ...
    @property
    def step(self) -> str | None: ...
    @property
    def status(self) -> str | None: ...


class SlotBoard:
    """``[{slot, state, unit_key, step, since}]`` per slot (slots numbered from 1 as the operator sees them)."""

    def __init__(self, count: int, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._slots = [{"slot": n + 1, "state": "idle", "unit_key": None, "step": None, "since": clock()}
                       for n in range(count)]

    def __call__(self, event: Any) -> None:
        self.record(event)

    def record(self, event: _Event) -> None:
        kind = getattr(getattr(event, "kind", None), "value", None)
        if event.slot is None or not 0 <= event.slot < len(self._slots):
            return
        with self._lock:
            entry = self._slots[event.slot]
            if kind == "unit started":
                entry.update(state="running", unit_key=event.unit_key, step=None, since=self._clock())
            elif kind == "step started":
                entry.update(state="running", unit_key=event.unit_key, step=event.step)
            elif kind == "unit finished":
                entry.update(state="idle", unit_key=event.unit_key, step=event.status, since=self._clock())

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._slots]
