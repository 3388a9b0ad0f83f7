"""The background spreadsheet writer: coalescing, skipping, retrying a locked workbook, never raising to the line."""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date
from pathlib import Path

import openpyxl
import pytest

from station.config.profile import WorkbookScope
from station.records.journal import Journal
from station.records.sheet_writer import SpreadsheetWriter, WorkbookState, WorkbookStatus
from station.records.spreadsheet_paths import day_workbook_path, lot_workbook_path
from station.records.unit_table import UnitState

LOT = "12345-20260101-001"
START = 1_767_261_600.0  # 2026-01-01 10:00:00 UTC
DEADLINE = 20.0


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal(tmp_path / "journal.sqlite3", clock=lambda: START) as opened:
        opened.open_lot(LOT, station="Line 1 Station A", product_id=12345, profile="boron.toml", operator="op-7")
        yield opened


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "workbooks"


def record(journal: Journal, key: str) -> None:
    unit, _ = journal.unit_table.begin(LOT, key, serial=f"P046AB{key}")
    journal.unit_table.update(unit.id, state=UnitState.PASS, first_result="PASS", ended_at=START + 30,
                              cycle_seconds=30.0)


def unit_keys(path: Path) -> list[str]:
    sheet = openpyxl.load_workbook(path)["Units"]
    rows = list(sheet.iter_rows(values_only=True))
    column = rows[0].index("Unit key")
    return [row[column] for row in rows[1:]]


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {DEADLINE} s for {what}")
        time.sleep(0.005)


class FlakyReplace:
    """os.replace that fails the first ``failures`` times with ``error`` (Excel holding the file, a full disk)."""

    def __init__(self, failures: int, error: OSError) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    def __call__(self, source: str, target: str) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        os.replace(source, target)


def thread_writer(journal: Journal, folder: Path, **options: object) -> SpreadsheetWriter:
    options.setdefault("min_interval", 60.0)
    return SpreadsheetWriter(journal, LOT, folder, isolate=False, **options)  # type: ignore[arg-type]


def test_many_notifications_are_coalesced_into_few_writes(journal: Journal, folder: Path) -> None:
    with thread_writer(journal, folder) as writer:
        for index in range(50):
            record(journal, f"{index:03d}")
            writer.notify()
        assert writer.flush(timeout=DEADLINE)

        assert writer.writes <= 2
    assert unit_keys(lot_workbook_path(folder, LOT)) == [f"{index:03d}" for index in range(50)]


def test_notify_returns_at_once_while_a_write_is_in_progress(journal: Journal, folder: Path) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow_replace(source: str, target: str) -> None:
        entered.set()
        release.wait(DEADLINE)
        os.replace(source, target)

    with thread_writer(journal, folder, replace=slow_replace) as writer:
        record(journal, "first")
        writer.notify()
        assert entered.wait(DEADLINE)
        for index in range(20):
            record(journal, f"during-{index}")
            writer.notify()
        release.set()
        assert writer.flush(timeout=DEADLINE)

        assert writer.writes == 2
    assert len(unit_keys(lot_workbook_path(folder, LOT))) == 21


def test_flush_without_journal_changes_does_not_rewrite(journal: Journal, folder: Path) -> None:
    with thread_writer(journal, folder) as writer:
        record(journal, "a")
        writer.notify()
        assert writer.flush(timeout=DEADLINE)
        writes = writer.writes

        assert writer.flush(timeout=DEADLINE)

        assert writer.writes == writes == 1


def test_writes_again_after_min_interval_without_a_flush(journal: Journal, folder: Path) -> None:
    with thread_writer(journal, folder, min_interval=0.05) as writer:
        record(journal, "a")
        writer.notify()
        wait_for(lambda: writer.writes == 1, "the first write")
        record(journal, "b")
        writer.notify()

        wait_for(lambda: writer.writes == 2, "the second write after min_interval")
    assert unit_keys(lot_workbook_path(folder, LOT)) == ["a", "b"]


def test_locked_workbook_is_reported_and_retried_until_it_is_written(journal: Journal, folder: Path) -> None:
    statuses: list[WorkbookStatus] = []
    locked = FlakyReplace(2, PermissionError(errno.EACCES, "The process cannot access the file"))
    with thread_writer(journal, folder, replace=locked, first_retry=0.01, on_status=statuses.append) as writer:
        record(journal, "a")
        writer.notify()

        wait_for(lambda: bool(statuses) and statuses[-1].state is WorkbookState.WRITTEN, "the retried write")

    path = lot_workbook_path(folder, LOT)
    assert [status.state for status in statuses] == [WorkbookState.LOCKED, WorkbookState.LOCKED, WorkbookState.WRITTEN]
    assert statuses[0].message.startswith(f"workbook {path} is open in another program; will retry")
    assert statuses[1].retry_in == pytest.approx(2 * statuses[0].retry_in)  # type: ignore[operator]
    assert unit_keys(path) == ["a"]


def test_units_recorded_while_the_workbook_is_locked_are_in_the_next_write(journal: Journal, folder: Path) -> None:
    locked = FlakyReplace(1, PermissionError(errno.EACCES, "locked"))
    with thread_writer(journal, folder, replace=locked, first_retry=60.0) as writer:
        record(journal, "a")
        writer.notify()
        assert not writer.flush(timeout=DEADLINE)
        assert writer.status is not None and writer.status.state is WorkbookState.LOCKED
        record(journal, "b")
        writer.notify()

        assert writer.flush(timeout=DEADLINE)

    assert unit_keys(lot_workbook_path(folder, LOT)) == ["a", "b"]


def test_other_write_errors_are_reported_and_retried_never_raised(journal: Journal, folder: Path) -> None:
    statuses: list[WorkbookStatus] = []
    disk_full = FlakyReplace(1, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
    with thread_writer(journal, folder, replace=disk_full, first_retry=0.01, on_status=statuses.append) as writer:
        record(journal, "a")
        writer.notify()

        wait_for(lambda: writer.writes == 1, "the write after the disk error")

    assert statuses[0].state is WorkbookState.FAILED
    assert "will retry" in statuses[0].message and "journal keeps every unit" in statuses[0].message
    assert statuses[-1].state is WorkbookState.WRITTEN


def test_a_failing_status_callback_does_not_stop_the_writer(journal: Journal, folder: Path) -> None:
    def broken_display(status: WorkbookStatus) -> None:
        raise RuntimeError("the status bar is gone")

    with thread_writer(journal, folder, on_status=broken_display) as writer:
        record(journal, "a")
        writer.notify()
        assert writer.flush(timeout=DEADLINE)
        record(journal, "b")
        writer.notify()

        assert writer.flush(timeout=DEADLINE)

    assert unit_keys(lot_workbook_path(folder, LOT)) == ["a", "b"]


def test_close_writes_what_is_left(journal: Journal, folder: Path) -> None:
    writer = thread_writer(journal, folder).start()
    record(journal, "a")
    writer.notify()
    wait_for(lambda: writer.writes == 1, "the first write")
    record(journal, "b")
    writer.notify()

    writer.close(timeout=DEADLINE)

    assert unit_keys(lot_workbook_path(folder, LOT)) == ["a", "b"]


def test_flush_without_a_running_thread_writes_in_the_caller(journal: Journal, folder: Path) -> None:
    writer = thread_writer(journal, folder)
    record(journal, "a")

    assert writer.flush()

    assert unit_keys(lot_workbook_path(folder, LOT)) == ["a"]


def test_per_day_scope_writes_the_day_workbook(journal: Journal, folder: Path) -> None:
    with thread_writer(journal, folder, scope=WorkbookScope.PER_DAY, tz=UTC) as writer:
        record(journal, "a")
        writer.notify()

        assert writer.flush(timeout=DEADLINE)

    assert unit_keys(day_workbook_path(folder, date(2026, 1, 1))) == ["a"]


def test_isolated_writer_builds_the_workbook_in_a_child_process(journal: Journal, folder: Path) -> None:
    with SpreadsheetWriter(journal, LOT, folder, min_interval=60.0) as writer:
        record(journal, "a")
        record(journal, "b")
        writer.notify()

        assert writer.flush(timeout=60.0)

    assert unit_keys(lot_workbook_path(folder, LOT)) == ["a", "b"]


def test_isolated_writer_refuses_a_replace_seam(journal: Journal, folder: Path) -> None:
    with pytest.raises(ValueError, match="isolate=False"):
        SpreadsheetWriter(journal, LOT, folder, replace=FlakyReplace(0, OSError()))
