"""The latest-frame-wins decode worker, driven with real label frames and a deliberately slow decode function."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image

from hardware.scanner.datamatrix import LabelDecoder, LabelDecodeResult
from hardware.scanner.frames import DecodedFrame, FrameDecodeWorker, FrameWorkerError, LatestFrameSlot

WAIT = 10.0
"""Deadline in seconds for anything the tests wait for; normally met in milliseconds."""


class GatedDecode:
    """A real LabelDecoder made slow on purpose: each decode signals that it started, then waits for a release."""

    def __init__(self) -> None:
        self._decoder = LabelDecoder(max_labels=1, time_budget=2.0)
        self.started = threading.Semaphore(0)
        self.release = threading.Semaphore(0)
        self.thread_ids: set[int] = set()

    def __call__(self, frame: Image.Image) -> LabelDecodeResult:
        self.thread_ids.add(threading.get_ident())
        self.started.release()
        assert self.release.acquire(timeout=WAIT), "the test never released the decode"
        return self._decoder.decode(frame)


class Collector:
    def __init__(self) -> None:
        self.results: list[DecodedFrame[LabelDecodeResult]] = []
        self.errors: list[tuple[int, Exception]] = []
        self.thread_ids: set[int] = set()

    def result(self, decoded: DecodedFrame[LabelDecodeResult]) -> None:
        self.thread_ids.add(threading.get_ident())
        self.results.append(decoded)

    def error(self, number: int, exc: Exception) -> None:
        self.errors.append((number, exc))

    def serials(self) -> list[list[str]]:
        return [[code.label.serial.value for code in decoded.result.labels] for decoded in self.results]


@pytest.fixture
def frames(fixture_images: dict[str, Any]) -> dict[str, Image.Image]:
    names = ["clean_p2.png", "clean_photon2.png", "rotated_b402.png", "gen2_e310_serial_only.png"]
    return {name: fixture_images[name].open() for name in names}


def _serial(fixture_images: dict[str, Any], name: str) -> str:
    return str(fixture_images[name].labels[0][0])


def _worker(decode: Callable[[Image.Image], LabelDecodeResult], collector: Collector
            ) -> FrameDecodeWorker[Image.Image, LabelDecodeResult]:
    return FrameDecodeWorker(decode, collector.result, on_error=collector.error)


def test_frames_submitted_during_a_slow_decode_are_dropped_except_the_latest(
    frames: dict[str, Image.Image], fixture_images: dict[str, Any]
) -> None:
    gate = GatedDecode()
    collector = Collector()
    with _worker(gate, collector) as worker:
        worker.submit(frames["clean_p2.png"])
        assert gate.started.acquire(timeout=WAIT)
        worker.submit(frames["clean_photon2.png"])
        worker.submit(frames["rotated_b402.png"])
        last = worker.submit(frames["gen2_e310_serial_only.png"])
        gate.release.release()
        assert gate.started.acquire(timeout=WAIT)
        gate.release.release()
        assert worker.wait_idle(WAIT)

    assert collector.serials() == [
        [_serial(fixture_images, "clean_p2.png")],
        [_serial(fixture_images, "gen2_e310_serial_only.png")],
    ]
    assert [decoded.number for decoded in collector.results] == [1, last]
    assert collector.results[1].dropped_before == 2
    assert worker.dropped == 2 and worker.decoded == 2 and worker.submitted == 4


def test_results_are_delivered_on_the_worker_thread_not_the_callers(frames: dict[str, Image.Image]) -> None:
    collector = Collector()
    decoder = LabelDecoder(time_budget=2.0)
    with _worker(decoder.decode, collector) as worker:
        worker.submit(frames["clean_p2.png"])
        assert worker.wait_idle(WAIT)

    assert collector.thread_ids and threading.get_ident() not in collector.thread_ids


def test_submit_returns_at_once_while_a_decode_is_in_progress(frames: dict[str, Image.Image]) -> None:
    gate = GatedDecode()
    collector = Collector()
    with _worker(gate, collector) as worker:
        worker.submit(frames["clean_p2.png"])
        assert gate.started.acquire(timeout=WAIT)
        # The decode is blocked on the gate: if submit waited for it, this line would never be reached.
        numbers = [worker.submit(frames["clean_photon2.png"]) for _ in range(50)]
        gate.release.release()
        assert gate.started.acquire(timeout=WAIT)
        gate.release.release()
        assert worker.wait_idle(WAIT)

    assert numbers == list(range(2, 52))
    assert worker.dropped == 49


def test_an_error_in_one_frame_is_reported_and_the_next_frame_is_decoded(frames: dict[str, Image.Image]) -> None:
    decoder = LabelDecoder(time_budget=2.0)
    collector = Collector()

    def decode(frame: Image.Image) -> LabelDecodeResult:
        if frame.width == 1:
            raise RuntimeError("camera delivered a broken frame")
        return decoder.decode(frame)

    with _worker(decode, collector) as worker:
        worker.submit(Image.new("L", (1, 1)))
        assert worker.wait_idle(WAIT)
        worker.submit(frames["clean_p2.png"])
        assert worker.wait_idle(WAIT)

    ((number, error),) = collector.errors
    assert number == 1 and "broken frame" in str(error)
    assert [decoded.number for decoded in collector.results] == [2]


def test_submitting_before_start_is_refused(frames: dict[str, Image.Image]) -> None:
    worker = _worker(LabelDecoder().decode, Collector())

    with pytest.raises(FrameWorkerError, match="not started"):
        worker.submit(frames["clean_p2.png"])


def test_submitting_after_stop_is_refused(frames: dict[str, Image.Image]) -> None:
    worker = _worker(LabelDecoder().decode, Collector())
    worker.start()
    worker.stop()

    with pytest.raises(FrameWorkerError, match="after the frame slot was closed"):
        worker.submit(frames["clean_p2.png"])


def test_a_worker_cannot_be_started_twice() -> None:
    worker = _worker(LabelDecoder().decode, Collector())
    worker.start()
    try:
        with pytest.raises(FrameWorkerError, match="already started"):
            worker.start()
    finally:
        worker.stop()


def test_stop_reports_a_decode_that_does_not_return(frames: dict[str, Image.Image]) -> None:
    gate = GatedDecode()
    worker = _worker(gate, Collector())
    worker.start()
    worker.submit(frames["clean_p2.png"])
    assert gate.started.acquire(timeout=WAIT)

    with pytest.raises(FrameWorkerError, match="still decoding"):
        worker.stop(timeout=0.05)
    gate.release.release()
    worker.stop(timeout=WAIT)


def test_the_slot_keeps_only_the_latest_frame() -> None:
    slot: LatestFrameSlot[str] = LatestFrameSlot()

    replaced = [slot.put(number, f"frame {number}") for number in (1, 2, 3)]

    assert replaced == [False, True, True]
    assert slot.take(timeout=0) == (3, "frame 3")
    assert slot.take(timeout=0) is None
    assert slot.dropped == 2


def test_closing_the_slot_wakes_a_waiting_taker() -> None:
    slot: LatestFrameSlot[str] = LatestFrameSlot()
    taken: list[object] = []
    taker = threading.Thread(target=lambda: taken.append(slot.take()), daemon=True)
    taker.start()

    slot.close()
    taker.join(WAIT)

    assert not taker.is_alive()
    assert taken == [None]
