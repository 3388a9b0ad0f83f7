"""A station's rows in the line database belong to one journal: a fresh journal under the same station name (a new
log folder) is refused rather than overwriting them, since its local ids start again at 1."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from station.line.replicator import Replicator
from station.line.schema import LineDatabaseError
from station.records.journal import Journal
from tests.line.conftest import LineDb
from tests.line.stations import line_rows


def journal_with_lot(path: Path, lot: str) -> Journal:
    journal = Journal(path)
    journal.open_lot(lot, station="a", product_id=1, profile="p", operator="o")
    return journal


def test_a_fresh_journal_under_an_old_station_name_is_refused_and_overwrites_nothing(
        tmp_path: Path, line_db: LineDb) -> None:
    def connect() -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(line_db.admin, autocommit=True)

    with journal_with_lot(tmp_path / "first.sqlite3", "FIRST") as first:
        Replicator(first.db, "a", connect).sync()
    with journal_with_lot(tmp_path / "second.sqlite3", "SECOND") as second:
        with pytest.raises(LineDatabaseError, match="fed by another journal"):
            Replicator(second.db, "a", connect).sync()
        Replicator(second.db, "b", connect).sync()  # under its own name it goes through
    assert line_rows(line_db, "SELECT station, name FROM line.lots ORDER BY station") == [
        ("a", "FIRST"), ("b", "SECOND")]


def test_the_same_journal_reopened_goes_on_where_it_stopped(tmp_path: Path, line_db: LineDb) -> None:
    def connect() -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(line_db.admin, autocommit=True)

    path = tmp_path / "j.sqlite3"
    with journal_with_lot(path, "L1") as journal:
        Replicator(journal.db, "a", connect).sync()
    with journal_with_lot(path, "L2") as journal:
        assert Replicator(journal.db, "a", connect).sync() == 1
    assert line_rows(line_db, "SELECT name FROM line.lots ORDER BY local_id") == [("L1",), ("L2",)]


def test_a_journal_restored_from_a_backup_is_refused_and_the_units_recorded_since_stay(
        tmp_path: Path, line_db: LineDb) -> None:
    import shutil

    def connect() -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(line_db.admin, autocommit=True)

    path, backup = tmp_path / "j.sqlite3", tmp_path / "backup.sqlite3"
    with journal_with_lot(path, "L1") as journal:
        Replicator(journal.db, "a", connect).sync()
    shutil.copy(path, backup)  # last night's backup
    with journal_with_lot(path, "L2") as journal:  # recorded after the backup, replicated, then the disk dies
        Replicator(journal.db, "a", connect).sync()
    shutil.copy(backup, path)
    with journal_with_lot(path, "L3") as journal, pytest.raises(  # its lot reuses L2's local id
            LineDatabaseError, match="older than the line database's copy of station 'a'"):
        Replicator(journal.db, "a", connect).sync()
    assert line_rows(line_db, "SELECT name FROM line.lots ORDER BY local_id") == [("L1",), ("L2",)]
