"""Decode camera frames on a worker thread where the latest frame wins: a frame still waiting is replaced, never queued.

The camera (Qt Multimedia in the GUI) calls ``submit`` for every frame it shows; the worker decodes the newest one
whenever it is free and hands each result to a callback on the worker thread. A slow decode therefore costs dropped
frames, never a growing backlog or a frozen GUI. The frame type is whatever the decode function takes (a Pillow
image for ``LabelDecoder.decode``); pass frames the camera will not overwrite, e.g. copies.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Generic, TypeVar

from hardware.errors import HardwareError

F = TypeVar("F")
R = TypeVar("R")

_log = logging.getLogger(__name__)


class FrameWorkerError(HardwareError):
    """The frame decoding worker was used out of order or did not stop in time."""


class LatestFrameSlot(Generic[F]):
    """A one-place mailbox between threads: ``put`` replaces a frame nobody has taken yet."""

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._frame: tuple[int, F] | None = None
        self._closed = False
        self._dropped = 0

    @property
    def dropped(self) -> int:
        """Frames replaced before anyone took them."""
        with self._ready:
            return self._dropped

    def put(self, number: int, frame: F) -> bool:
        """Leave ``frame`` (numbered ``number``) for the taker; True when it replaced a waiting frame."""
        with self._ready:
            if self._closed:
                raise FrameWorkerError(f"frame {number} arrived after the frame slot was closed; start a new worker")
            replaced = self._frame is not None
            self._dropped += replaced
            self._frame = (number, frame)
            self._ready.notify()
            return replaced

    def take(self, timeout: float | None = None) -> tuple[int, F] | None:
        """The waiting frame, after waiting up to ``timeout`` seconds for one; None on timeout or once closed."""
        with self._ready:
            self._ready.wait_for(lambda: self._frame is not None or self._closed, timeout)
            if self._closed:
                return None
            taken, self._frame = self._frame, None
            return taken

    def close(self) -> None:
        """Wake the taker and refuse further frames; a frame still waiting is discarded."""
        with self._ready:
            self._closed = True
            self._frame = None
            self._ready.notify_all()


@dataclass(frozen=True)
class DecodedFrame(Generic[R]):
    """The result of decoding one submitted frame."""

    number: int
    """The frame's number, counted from 1 in the order frames were submitted."""
    result: R
    elapsed: float
    """Seconds the decode function took."""
    dropped_before: int
    """Frames submitted after the previously decoded frame and dropped (replaced while waiting) before this one."""


class FrameDecodeWorker(Generic[F, R]):
    """Runs ``decode`` on the latest submitted frame on its own thread and hands results to ``on_result`` there.

    ``decode`` is the seam (e.g. ``LabelDecoder(...).decode``). An exception from ``decode`` or from a callback goes
    to ``on_error`` with the frame number (logged when no ``on_error`` is given); the worker then takes the next
    frame. ``clock`` (seconds) times each decode.
    """

    def __init__(
        self,
        decode: Callable[[F], R],
        on_result: Callable[[DecodedFrame[R]], None],
        *,
        on_error: Callable[[int, Exception], None] | None = None,
        clock: Callable[[], float] = time.perf_counter,
        name: str = "label-decoder",
    ) -> None:
        self._decode = decode
        self._on_result = on_result
        self._on_error = on_error
        self._clock = clock
        self._slot: LatestFrameSlot[F] = LatestFrameSlot()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._state = threading.Condition()
        self._submitted = 0
        self._finished = 0
        self._busy = False
        self._last_taken = 0

    @property
    def submitted(self) -> int:
        with self._state:
            return self._submitted

    @property
    def decoded(self) -> int:
        """Frames whose decode has finished (with a result or an error)."""
        with self._state:
            return self._finished

    @property
    def dropped(self) -> int:
        return self._slot.dropped

    def start(self) -> None:
        if self._thread.is_alive() or self._thread.ident is not None:
            raise FrameWorkerError(f"frame worker {self._thread.name} was already started; make a new one")
        self._thread.start()

    def submit(self, frame: F) -> int:
        """Hand over a frame to decode next, replacing one still waiting; returns the frame's number."""
        if self._thread.ident is None:
            raise FrameWorkerError(f"frame worker {self._thread.name} is not started; call start() first")
        with self._state:
            self._submitted += 1
            number = self._submitted
            self._slot.put(number, frame)
            self._state.notify_all()
        return number

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds until no frame is waiting or being decoded; True if that happened."""
        with self._state:
            return self._state.wait_for(
                lambda: not self._busy and self._finished + self._slot.dropped >= self._submitted, timeout
            )

    def stop(self, timeout: float = 5.0) -> None:
        """Stop taking frames (a waiting frame is discarded) and wait for the frame being decoded to finish."""
        self._slot.close()
        if self._thread.ident is None:
            return
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise FrameWorkerError(
                f"frame worker {self._thread.name} still decoding after {timeout:g} s; "
                "the decode function does not return (lower its time budget)"
            )

    def __enter__(self) -> FrameDecodeWorker[F, R]:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _run(self) -> None:
        while (taken := self._slot.take()) is not None:
            number, frame = taken
            with self._state:
                self._busy = True
            try:
                self._handle(number, frame)
            finally:
                with self._state:
                    self._busy = False
                    self._finished += 1
                    self._state.notify_all()

    def _handle(self, number: int, frame: F) -> None:
        # Numbers are given in submit order, so the frames between two taken ones are the dropped ones.
        dropped_before = number - self._last_taken - 1
        self._last_taken = number
        started = self._clock()
        try:
            result = self._decode(frame)
            self._on_result(DecodedFrame(number, result, self._clock() - started, dropped_before))
        except Exception as exc:  # the worker must outlive one bad frame; the error goes to on_error or the log
            if self._on_error is None:
                _log.exception("decoding camera frame %d failed", number)
            else:
                self._on_error(number, exc)
