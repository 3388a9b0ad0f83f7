"""Run blocking work (journal reads, tray imports, PIN checks) on worker threads; results return on the GUI thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

log = logging.getLogger(__name__)

ErrorHandler = Callable[[BaseException], None]


@dataclass(frozen=True)
class _Done:
    future: Future[Any]
    on_done: Callable[[Any], object] | None
    on_error: ErrorHandler | None


class BackgroundTasks(QObject):
    """A small thread pool whose results come back as queued signals, so callbacks always run on the GUI thread."""

    _finished = Signal(object)

    def __init__(self, parent: QObject | None = None, *, workers: int = 2, name: str = "ui-worker") -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._open = True
        self._running = 0
        self._lock = threading.Lock()
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def submit(
        self,
        work: Callable[[], Any],
        on_done: Callable[[Any], object] | None = None,
        on_error: ErrorHandler | None = None,
    ) -> Future[Any]:
        """Run ``work`` on a worker thread; ``on_done(result)`` or ``on_error(exc)`` then runs on the GUI thread.

        After ``shutdown`` nothing runs: the returned future is already cancelled.
        """
        if not self._open:
            cancelled: Future[Any] = Future()
            cancelled.cancel()
            return cancelled
        with self._lock:
            self._running += 1
        future = self._pool.submit(work)
        future.add_done_callback(lambda f: self._relay(_Done(f, on_done, on_error)))
        return future

    @property
    def busy(self) -> bool:
        """True while a submitted task has not yet delivered its result."""
        with self._lock:
            return self._running > 0

    def _relay(self, done: _Done) -> None:
        if not self._open:
            return
        try:
            self._finished.emit(done)
        except RuntimeError:  # the window closed while the task ran: nobody is left to tell
            log.debug("background result dropped: its receiver is gone")

    def _deliver(self, done: _Done) -> None:
        with self._lock:
            self._running -= 1
        if done.future.cancelled():
            return
        error = done.future.exception()
        if error is None:
            if done.on_done is not None:
                done.on_done(done.future.result())
        elif done.on_error is not None:
            done.on_error(error)
        else:
            log.error("background task failed", exc_info=error)

    def shutdown(self) -> None:
        """Stop delivering results and let running tasks finish on their own."""
        self._open = False
        self._pool.shutdown(wait=False, cancel_futures=True)
