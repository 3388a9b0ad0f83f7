"""The outbox worker's own journal failing (disk full, folder read-only) while it writes: the worker stops with one
message, no traceback, and what the journal holds (the unit, its queued cloud work) is all still there."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import pytest

from station.demo.simulated_line import SimulatedLine
from station.records.journal import JOURNAL_NAME, Journal
from station.records.unit_table import UnitState
from station.workflow.events import EventKind, UnitEvent

from .conftest import make_line


def wait_for(predicate: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_the_outbox_worker_stops_with_one_message_when_its_journal_turns_read_only(
        sim: SimulatedLine, events: list[UnitEvent], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    sim.emulator.set_faults(error_rate=1.0)
    with make_line(sim, events) as line:
        result = line.scan(sim.devices[0].label).result(timeout=60)
        assert result.state is UnitState.CLOUD_PENDING, result.reason
        lot = line.lot
        queued = [(i.id, i.operation) for i in line.journal.outbox_table.open_items()]
        assert queued
        # The folder turns read-only (or the disk fills): SQLite refuses every write from now on, the outbox
        # worker's included, while the cloud comes back.
        line.journal.db._db.execute("PRAGMA query_only = ON")
        sim.emulator.set_faults()
        wait_for(lambda: line.outbox.stopped is not None)
        assert "journal cannot be written" in line.outbox.stopped  # type: ignore[operator]
        time.sleep(0.3)  # several poll intervals: a worker that went on would write (and log) again
        notices = [e for e in events if e.kind is EventKind.NOTICE and "Queued cloud work has stopped" in e.message]
        assert len(notices) == 1 and "start the station again" in notices[0].message
    stopped = [r for r in caplog.records if r.name == "station.workflow.outbox" and r.levelno >= logging.ERROR]
    assert len(stopped) == 1
    assert not any(r.exc_info for r in caplog.records if r.name.startswith("station")), "a sentence, not a traceback"
    with Journal(sim.profile.log_folder / JOURNAL_NAME) as journal:
        (unit,) = journal.unit_table.all(lot)
        assert unit.state is UnitState.CLOUD_PENDING
        assert [(i.id, i.operation) for i in journal.outbox_table.open_items()] == queued
    with make_line(sim, lot=lot) as again:  # the station started again: the kept work finishes
        wait_for(lambda: again.journal.count_pending() == 0)
        wait_for(lambda: again.journal.unit_table.get(unit.id).state is UnitState.PASS)  # type: ignore[union-attr]
