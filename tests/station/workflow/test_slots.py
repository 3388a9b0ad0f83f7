"""The station's slots: a unit per slot in its own thread, refused when it cannot start, held while the lot changes."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from hardware.progress import CancelToken
from station.workflow.slots import SlotError, SlotRunner


@pytest.fixture
def slots() -> Iterator[SlotRunner]:
    runner = SlotRunner(2)
    yield runner
    for slot in range(runner.count):  # a failed test must not leave its units waiting forever
        runner.cancel(slot)
    runner.shutdown()


def waiting_unit(release: threading.Event, seen: list[tuple[int, CancelToken]]):  # type: ignore[no-untyped-def]
    def run(slot: int, cancel: CancelToken) -> object:
        seen.append((slot, cancel))
        while not release.wait(0.01) and not cancel.cancelled:
            pass
        return "cancelled" if cancel.cancelled else "done"
    return run


def test_units_take_the_free_slots_in_order_and_a_third_is_refused(slots: SlotRunner) -> None:
    release, seen = threading.Event(), []  # type: ignore[var-annotated]
    first = slots.start("A", waiting_unit(release, seen))
    second = slots.start("B", waiting_unit(release, seen))
    with pytest.raises(SlotError, match="All slots are busy"):
        slots.start("C", waiting_unit(release, seen))
    with pytest.raises(SlotError, match="Unit A is already running in slot 1"):
        slots.start("A", waiting_unit(release, seen))
    assert slots.busy() == [0, 1]
    release.set()
    assert (first.result(10), second.result(10)) == ("done", "done")
    assert slots.wait_idle(10) and slots.busy() == []
    assert slots.start("C", waiting_unit(release, seen), slot=1).result(10) == "done"


def test_a_chosen_slot_must_exist_and_be_free(slots: SlotRunner) -> None:
    release, seen = threading.Event(), []  # type: ignore[var-annotated]
    slots.start("A", waiting_unit(release, seen), slot=1)
    with pytest.raises(SlotError, match="Slot 2 is busy with unit A"):
        slots.start("B", waiting_unit(release, seen), slot=1)
    with pytest.raises(SlotError, match="There is no slot 3; this station has 2"):
        slots.start("B", waiting_unit(release, seen), slot=2)
    slots.cancel(1)
    assert slots.wait_idle(10)


def test_the_slots_are_held_only_when_idle_and_no_unit_starts_while_held(slots: SlotRunner) -> None:
    release, seen = threading.Event(), []  # type: ignore[var-annotated]
    running = slots.start("A", waiting_unit(release, seen))
    with pytest.raises(SlotError, match=r"busy: \[1\]"), slots.held("closing", busy=lambda s: f"busy: {s}",
                                                                     again="again"):
        pass
    release.set()
    running.result(10)
    with slots.held("closing", busy=lambda s: f"busy: {s}", again="again"):
        with pytest.raises(SlotError, match="closing"):
            slots.start("B", waiting_unit(release, seen))
        with pytest.raises(SlotError, match="again"), slots.held("x", busy=str, again="again"):
            pass
    assert slots.start("B", waiting_unit(release, seen)).result(10) == "done"
