"""The torture run's line defects (issue 16, items 11 and 13): a lot naming without {seq}, a device name that cannot
be made, and a journal that stops taking writes mid-lot."""

from __future__ import annotations

import dataclasses
import datetime
import threading
from pathlib import Path

import pytest

from station.config.profile import StationProfile
from station.demo.simulated_line import SimulatedLine
from station.records.journal import JOURNAL_NAME, Journal
from station.records.unit_table import UnitState
from station.workflow.events import EventKind, UnitEvent
from station.workflow.line import Line, LineError
from station.workflow.lot import prepare_lot

from .conftest import make_line

TODAY = datetime.date(2026, 3, 4)


def line_for(sim: SimulatedLine, profile: StationProfile) -> Line:
    return Line(prepare_lot(profile, sim.cloud(max_retries=1)), link=sim.link(), operator="ann", find_timeout=1.0,
                outbox_poll=0.05, outbox_base_delay=0.05, today=lambda: TODAY)


def test_a_second_start_of_the_day_without_seq_resumes_the_days_lot(sim: SimulatedLine) -> None:
    profile = dataclasses.replace(sim.profile, lot_naming="{product}-{date}")
    with line_for(sim, profile) as first:
        assert first.lot == f"{profile.product_id}-20260304"
        assert first.startup_notices == first.prepared.notices
    lines: list[Line] = []
    starting = threading.Thread(target=lambda: lines.append(line_for(sim, profile)), daemon=True)
    starting.start()
    starting.join(20)
    assert not starting.is_alive(), "the second start of the day hangs choosing the lot's name"
    with lines[0] as second:
        assert second.lot == first.lot
        assert any("resumes this lot" in notice for notice in second.startup_notices)


def test_a_device_name_that_cannot_be_made_fails_the_unit_with_a_reason(sim: SimulatedLine) -> None:
    # Loading refuses such a pattern; a profile built in code (or a serial shorter than the sample) can still
    # reach the line with one, and the unit must end, not stay "in progress".
    steps = dataclasses.replace(sim.profile.steps, rename="unit-{serial}-{lot:d}")
    profile = dataclasses.replace(sim.profile, steps=steps)
    with line_for(sim, profile).start() as line:
        result = line.scan(sim.devices[0].label).result(timeout=60)
        assert result.state is UnitState.FAIL
        assert "device name cannot be made" in result.reason
        [unit] = line.journal.unit_table.all(line.lot)
        assert unit.state is UnitState.FAIL


def test_a_journal_that_stops_taking_writes_stops_the_line_before_the_next_unit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    from hardware.simulated import Timing
    from station.demo.simulated_line import build_simulated_line

    sim = build_simulated_line(tmp_path / "sim", devices=3, timing=Timing.zero())
    events: list[UnitEvent] = []
    try:
        line = make_line(sim, events)
        with line:
            first = line.scan(sim.devices[0].label).result(timeout=60)
            assert first.state is UnitState.PASS
            # The folder turns read-only (or the disk fills): SQLite refuses every write from now on.
            line.journal.db._db.execute("PRAGMA query_only = ON")
            with pytest.raises(Exception):  # noqa: B017 - the slot's future carries the journal's own error
                line.scan(sim.devices[1].label).result(timeout=60)
            assert line.stopped is not None and "Free disk space" in line.stopped
            with pytest.raises(LineError, match="journal cannot be written"):
                line.scan(sim.devices[2].label)
            notices = [e for e in events if e.kind is EventKind.NOTICE and "line has stopped" in e.message]
            assert len(notices) == 1
        assert not any(record.exc_info for record in caplog.records if record.name.startswith("station")), \
            "a full disk is a sentence, not a traceback"
        with Journal(sim.profile.log_folder / JOURNAL_NAME) as journal:
            [unit] = journal.unit_table.all(line.lot)
            assert unit.unit_key == first.unit_key and unit.state is UnitState.PASS
    finally:
        sim.close()
