"""One reader of the station's text input (stdin), shared by the labels and the operator prompts of a headless run.

Two readers of one stream would each take every other line; here one thread reads every line and routes it: a
prompt waiting for its answer takes the next line (one line per question: a label typed right after the answer
stays a label), every other line is the next label. On an input that carries no labels, a line typed while no
question waits is kept for the next question, unless a question timed out since: a late answer answers no other.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import TextIO

from hardware.progress import CancelToken

CANCEL_POLL_S = 0.1
"""How often a waiting question looks whether its unit was stopped."""


class InputLines:
    """The lines of ``stream``, routed to the waiting prompt or to the labels (``labels=False``: answers only)."""

    def __init__(self, stream: TextIO, *, labels: bool = True) -> None:
        self._stream = stream
        self._carries_labels = labels
        self._labels: queue.Queue[str | None] = queue.Queue()
        self._unasked: queue.Queue[str] = queue.Queue()
        """Lines typed while no question waited, on an input without labels."""
        self._waiting: list[queue.Queue[str | None]] = []
        self._lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self._ended = False
        self._timed_out = False
        self.lines_read = 0
        """How many lines the reader has taken from the stream (routed or kept)."""

    @property
    def exhausted(self) -> bool:
        """The input has ended and no line typed before its end waits: no prompt can be answered any more."""
        return self._ended and self._unasked.empty()

    def _start(self) -> None:
        with self._lock:
            if self._reader is None:
                self._reader = threading.Thread(target=self._read, name="input-lines", daemon=True)
                self._reader.start()

    def _read(self) -> None:
        try:
            for line in iter(self._stream.readline, ""):
                with self._lock:
                    self.lines_read += 1
                    if self._waiting:
                        self._waiting.pop(0).put(line.strip())
                    elif self._carries_labels:
                        self._labels.put(line)
                    else:
                        self._unasked.put(line.strip())
        except (ValueError, OSError):  # the stream was closed under the reader, or failed: the input has ended
            pass
        with self._lock:
            self._ended = True
            for box in self._waiting:
                box.put(None)
            self._waiting.clear()
        self._labels.put(None)

    def labels(self) -> Iterator[str]:
        """Every line no prompt took, as typed (with its newline), until the input ends."""
        self._start()
        while (line := self._labels.get()) is not None:
            yield line
        self._labels.put(None)  # the end stays seen by a second iteration

    def answer(self, timeout: float, announce: Callable[[], None] | None = None,
               cancel: CancelToken | None = None) -> str | None:
        """The next line (stripped) for the question just asked; None when none came within ``timeout`` seconds,
        the input ended (see ``exhausted``) or ``cancel`` was set (the unit was stopped: the question is
        withdrawn). ``announce`` (printing the question) runs once this question waits for its line, so an answer
        typed as soon as the question shows is never taken for a label."""
        box: queue.Queue[str | None] = queue.Queue(maxsize=1)
        with self._lock:
            if self._timed_out:
                self._drop_unasked()
                self._timed_out = False
            try:
                line = self._unasked.get_nowait()
            except queue.Empty:
                line = None
            waits = line is None and not self._ended
            if waits:
                self._waiting.append(box)
        if announce is not None:
            announce()
        if not waits:  # answered by a line typed before the question, or the input had ended: nothing will come
            return line
        # The box holds the answer once it comes, even if the input ended right after it (and took the box out
        # of the waiting list): its content, not the list, says whether this question was answered.
        self._start()
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            try:
                return box.get(timeout=max(0.0, left if cancel is None else min(left, CANCEL_POLL_S)))
            except queue.Empty:
                if time.monotonic() < end and not (cancel is not None and cancel.cancelled):
                    continue
            with self._lock:
                if box in self._waiting:  # timed out or withdrawn: a line typed from now on answers no later one
                    self._waiting.remove(box)
                    self._timed_out = True
                    return None
            return box.get_nowait()  # the line came just as the time ran out: it is this question's answer

    def _drop_unasked(self) -> None:
        while True:
            try:
                self._unasked.get_nowait()
            except queue.Empty:
                return
