"""A workbook someone deleted comes back without waiting for the next unit, and a lot with a very long name still
gets one (issue 16, item 13)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from station.records.journal import Journal
from station.records.sheet_writer import SpreadsheetWriter
from station.records.spreadsheet_paths import lot_workbook_path, workbook_name
from station.records.unit_table import UnitState

START = 1_767_261_600.0


def journal_with_a_unit(path: Path, lot: str) -> Journal:
    journal = Journal(path, clock=lambda: START)
    journal.open_lot(lot, station="Line 1", product_id=12345, profile="p.toml", operator="ann")
    unit, _ = journal.unit_table.begin(lot, "P046AB1", serial="P046AB1")
    journal.unit_table.update(unit.id, state=UnitState.PASS, first_result="PASS", ended_at=START + 30,
                              cycle_seconds=30.0)
    return journal


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with journal_with_a_unit(tmp_path / "journal.sqlite3", "L-1") as opened:
        yield opened


def wait_for(path: Path) -> None:
    deadline = time.monotonic() + 20
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} was not written again"
        time.sleep(0.01)


def test_a_workbook_deleted_after_the_last_unit_is_written_again(journal: Journal, tmp_path: Path) -> None:
    writer = SpreadsheetWriter(journal, "L-1", tmp_path / "books", isolate=False, min_interval=0.0,
                               recheck_interval=0.05)
    with writer:
        assert writer.flush(timeout=20)
        path = lot_workbook_path(tmp_path / "books", "L-1")
        path.unlink()
        wait_for(path)  # no unit recorded since: the writer noticed the file is gone
        assert openpyxl.load_workbook(path)["Units"].max_row == 2


def test_flush_rewrites_a_deleted_workbook_even_when_the_journal_did_not_change(
    journal: Journal, tmp_path: Path,
) -> None:
    writer = SpreadsheetWriter(journal, "L-1", tmp_path / "books", isolate=False)
    assert writer.flush()
    path = lot_workbook_path(tmp_path / "books", "L-1")
    path.unlink()
    assert writer.flush()
    assert path.exists()


def test_a_lot_with_a_very_long_name_gets_a_workbook(tmp_path: Path) -> None:
    lot = "12345-" + "ü" * 300 + "-001"
    with journal_with_a_unit(tmp_path / "journal.sqlite3", lot) as journal:
        writer = SpreadsheetWriter(journal, lot, tmp_path / "books", isolate=False)
        assert writer.flush()
        assert writer.status is not None and writer.status.path.exists()
    name = workbook_name(lot)
    assert len(name.encode()) <= 255
    assert workbook_name(lot) == name, "the same lot keeps the same file"
    assert workbook_name(lot + "x") != name, "another long lot gets another file"
    assert workbook_name("12345-20260101-001") == "12345-20260101-001.xlsx"
