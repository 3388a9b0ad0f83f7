"""Preparing a lot, starting and closing a line: a refusal or a failure on the way leaves nothing open."""

from __future__ import annotations

import multiprocessing
import threading
from multiprocessing.process import BaseProcess
from pathlib import Path

import pytest

from cloud_client.client import ParticleCloud
from cloud_client.credentials import Credentials
from station.demo.simulated_line import SimulatedLine
from station.records.database import JournalError
from station.records.journal import JOURNAL_NAME, Journal
from station.records.lot_table import LotTable
from station.records.sheet_writer import SpreadsheetWriter
from station.records.unit_table import UnitState
from station.workflow import line as line_module
from station.workflow.line import Line, LineError
from station.workflow.lot import LotPreparationError, prepare_lot

LINE_THREADS = ("slot", "cloud", "outbox", "spreadsheet-writer")


class SinceNow:
    """Threads and child processes started from now on (what other tests or the simulated line run is not counted)."""

    def __init__(self) -> None:
        self._threads = set(threading.enumerate())
        self._children = set(multiprocessing.active_children())

    def line_threads(self) -> list[str]:
        """The line's threads: slots, cloud pool, outbox worker, workbook writer."""
        return [t.name for t in set(threading.enumerate()) - self._threads if t.name.startswith(LINE_THREADS)]

    def processes(self) -> list[BaseProcess]:
        return [child for child in multiprocessing.active_children() if child not in self._children]


@pytest.fixture
def new() -> SinceNow:
    return SinceNow()


def journal_path(sim: SimulatedLine) -> Path:
    return sim.profile.log_folder / JOURNAL_NAME


def test_a_cloud_that_refuses_during_preparation_leaves_nothing_open(sim: SimulatedLine, new: SinceNow) -> None:
    refusing = ParticleCloud(sim.base_url, Credentials.token("not-a-valid-token", source="test"), max_retries=0)
    try:
        with pytest.raises(LotPreparationError, match="cannot prepare the lot's device groups"):
            prepare_lot(sim.profile, refusing)
    finally:
        refusing.close()
    assert not journal_path(sim).exists()
    assert new.line_threads() == []
    assert new.processes() == []


def test_a_failure_while_starting_closes_the_journal_and_stops_every_thread(
        sim: SimulatedLine, new: SinceNow, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_start(self: SpreadsheetWriter) -> SpreadsheetWriter:
        raise OSError("no thread for you")

    monkeypatch.setattr(SpreadsheetWriter, "start", broken_start)
    line = Line(prepare_lot(sim.profile, sim.cloud(max_retries=1)), link=sim.link(), operator="ann")
    with pytest.raises(OSError, match="no thread for you"):
        line.start()
    assert line.journal.closed
    assert new.line_threads() == []
    assert new.processes() == []
    with pytest.raises(LineError, match="closed"):
        line.start()


def test_a_failure_while_recording_the_lot_closes_the_journal(
        sim: SimulatedLine, new: SinceNow, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[Journal] = []

    class Recorded(Journal):
        def __init__(self, path: Path) -> None:
            super().__init__(path)
            opened.append(self)

    def disk_full(self: LotTable, name: str, **_: object) -> None:
        raise JournalError(f"journal: write failed: database or disk is full (lot {name})")

    monkeypatch.setattr(line_module, "Journal", Recorded)
    monkeypatch.setattr(LotTable, "open", disk_full)
    prepared = prepare_lot(sim.profile, sim.cloud(max_retries=1))
    with pytest.raises(JournalError, match="disk is full"):
        Line(prepared, link=sim.link(), operator="ann")
    assert [journal.closed for journal in opened] == [True]
    assert new.line_threads() == []


def test_close_releases_the_threads_the_workbook_process_and_the_journal(sim: SimulatedLine, new: SinceNow) -> None:
    line = Line(prepare_lot(sim.profile, sim.cloud(max_retries=1)), link=sim.link(), operator="ann",
                find_timeout=1.0).start()
    try:
        assert line.scan(sim.devices[0].label).result(timeout=60).state is UnitState.PASS
        assert line.workbook.flush(timeout=60)
        assert {"outbox", f"spreadsheet-writer {line.lot}"} <= set(new.line_threads())
        assert new.processes(), "the workbook is written in a child process"
    finally:
        line.close()
    assert line.journal.closed
    assert new.line_threads() == []
    assert new.processes() == []
    line.close()  # a second close is harmless


def test_a_line_scans_only_once_started(sim: SimulatedLine, new: SinceNow) -> None:
    line = Line(prepare_lot(sim.profile, sim.cloud(max_retries=1)), link=sim.link(), operator="ann")
    try:
        with pytest.raises(LineError, match="not started"):
            line.scan(sim.devices[0].label)
        assert new.line_threads() == []
    finally:
        line.close()
    assert line.journal.closed
