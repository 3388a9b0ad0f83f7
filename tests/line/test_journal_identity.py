"""A station's rows in the line database belong to one journal: a fresh journal under the same station name (a new
log folder) is refused rather than overwriting them, since its local ids start again at 1."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

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
            LineDatabaseError, match="station 'a''s journal is older than what the line database already holds"):
        Replicator(journal.db, "a", connect).sync()
    assert line_rows(line_db, "SELECT name FROM line.lots ORDER BY local_id") == [("L1",), ("L2",)]


def crashed_after_the_line_commit(journal: Journal, connect: Callable[[], psycopg.Connection[Any]]) -> None:
    """What a station killed between the line's commit and the journal's cursor write leaves: the line has the
    batch, the journal still holds it as waiting."""
    replicator = Replicator(journal.db, "a", connect)
    with replicator._lock:
        conn = replicator._connection()
        replicator._send(conn, replicator.changes.pending(100))
        conn.close()


def test_a_crash_after_the_commit_is_told_from_a_restore_even_with_15_digit_floats(
        tmp_path: Path, line_db: LineDb) -> None:
    def connect() -> psycopg.Connection[tuple[object, ...]]:
        # A server (or role) that sends doubles with 15 significant digits (PostgreSQL 11 and older by default).
        return psycopg.connect(line_db.admin, autocommit=True, options="-c extra_float_digits=0")

    with journal_with_lot(tmp_path / "j.sqlite3", "L1") as journal:
        crashed_after_the_line_commit(journal, connect)
        assert journal.db.query("SELECT COUNT(*) AS n FROM changes")[0]["n"] > 0  # still waiting locally
        assert Replicator(journal.db, "a", connect).sync() == 0  # nothing sent twice, nothing refused
    assert line_rows(line_db, "SELECT name FROM line.lots") == [("L1",)]


def test_a_crash_then_a_run_without_line_then_rejoining_is_not_taken_for_a_restore(
        tmp_path: Path, line_db: LineDb) -> None:
    from station.records.change_table import ChangeTable

    def connect() -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(line_db.admin, autocommit=True)

    path = tmp_path / "j.sqlite3"
    with journal_with_lot(path, "L1") as journal:
        crashed_after_the_line_commit(journal, connect)
        ChangeTable(journal.db).trim()  # the station runs a while without [line]: its log is emptied
    with journal_with_lot(path, "L2") as journal:
        Replicator(journal.db, "a", connect).sync()  # it rejoins: its whole journal is logged again and sent
    assert line_rows(line_db, "SELECT name FROM line.lots ORDER BY local_id") == [("L1",), ("L2",)]
