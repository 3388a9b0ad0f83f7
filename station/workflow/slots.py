"""Which unit runs on which slot of the station: a unit started on a free (or a chosen) slot in its own thread,
cancelled, waited for; and held while the lot changes, so no unit starts into a lot being closed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

from hardware.progress import CancelToken
from station.errors import StationError
from station.workflow.outcome import UnitResult


class SlotError(StationError):
    """The slot cannot take this unit (busy, no such slot, the unit already runs, the slots are held)."""


class SlotRunner:
    """``count`` slots, one thread each. Every method is safe from any thread."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="slot")
        self._active: dict[int, tuple[str, CancelToken, Future[UnitResult]]] = {}
        self._lock = threading.Lock()
        self._held: str | None = None

    def start(self, key: str, run: Callable[[int, CancelToken], UnitResult], slot: int | None = None
              ) -> Future[UnitResult]:
        """Run ``run(slot, cancel)`` for unit ``key`` on ``slot``, or the first free slot; SlotError when it cannot."""
        with self._lock:
            if self._held is not None:
                raise SlotError(self._held)
            self._active = {s: a for s, a in self._active.items() if not a[2].done()}
            for active_slot, (active_key, _, _) in self._active.items():
                if active_key == key:
                    raise SlotError(f"Unit {key} is already running in slot {active_slot + 1}; wait for it to finish.")
            if slot is None:
                free = [s for s in range(self.count) if s not in self._active]
                if not free:
                    raise SlotError("All slots are busy; wait for a unit to finish, then scan again.")
                slot = free[0]
            elif not 0 <= slot < self.count:
                raise SlotError(f"There is no slot {slot + 1}; this station has {self.count}.")
            elif slot in self._active:
                raise SlotError(f"Slot {slot + 1} is busy with unit {self._active[slot][0]}.")
            cancel = CancelToken()
            future = self._pool.submit(run, slot, cancel)
            self._active[slot] = (key, cancel, future)
        return future

    @contextmanager
    def held(self, why: str, busy: Callable[[list[int]], str], again: str) -> Iterator[None]:
        """No unit starts inside this block (``start`` refuses with ``why``). Entered only with every slot idle:
        else SlotError(``busy(slots)``), with the 1-based busy slots; SlotError(``again``) when already held."""
        with self._lock:
            running = sorted(s + 1 for s, a in self._active.items() if not a[2].done())
            if running:
                raise SlotError(busy(running))
            if self._held is not None:
                raise SlotError(again)
            self._held = why
        try:
            yield
        finally:
            with self._lock:
                self._held = None

    def cancel(self, slot: int) -> None:
        """Ask the unit on ``slot`` to stop at its next safe point (nothing when the slot is idle)."""
        with self._lock:
            active = self._active.get(slot)
        if active is not None:
            active[1].cancel()

    def busy(self) -> list[int]:
        """The 0-based slots whose unit still runs."""
        with self._lock:
            return sorted(s for s, a in self._active.items() if not a[2].done())

    def wait_for_free(self, timeout: float = 3600.0) -> bool:
        """Wait until a slot is free; False when none was within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.busy()) < self.count:
                return True
            time.sleep(0.02)
        return False

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until no unit runs; False when some still ran after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.busy():
                return True
            time.sleep(0.02)
        return False

    def shutdown(self) -> None:
        """Wait for the running units to end (cancel them first to hurry them); no unit starts after this."""
        self._pool.shutdown(wait=True)
