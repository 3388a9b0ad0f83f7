"""The journal's change log (schema step 8): triggers log every write, in order; an older journal is backfilled."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from station.records.change_table import ChangeTable
from station.records.database import SCHEMA_VERSION
from station.records.journal import Journal


def test_every_write_to_a_followed_table_is_logged_in_order(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        journal.open_lot("L1", station="s", product_id=1, profile="p", operator="o")
        journal.refused_scan_table.record("L1", "P046X", "wrong_platform", "no")
        changes = ChangeTable(journal.db).pending(100)
    assert [(c.table, c.row_id) for c in changes] == [("lots", 1), ("refused_scans", 1)]
    assert SCHEMA_VERSION >= 8


def test_the_cursor_moves_only_when_acknowledged_and_drops_what_it_passed(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        journal.open_lot("L1", station="s", product_id=1, profile="p", operator="o")
        journal.lot_table.close("L1", "{}")
        log = ChangeTable(journal.db)
        first, second = log.pending(10)
        assert log.backlog()[0] == 2
        log.acknowledge(first.id)
        assert log.cursor() == first.id
        assert log.pending(10) == [second]
        assert log.backlog()[0] == 1


def test_a_journal_written_before_the_log_existed_replicates_whole(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with Journal(path) as journal:
        journal.open_lot("L1", station="s", product_id=1, profile="p", operator="o")
    old = sqlite3.connect(path)  # as a station before schema step 8 left it
    old.executescript("DROP TABLE changes; " + "".join(
        f"DROP TRIGGER changes_lots_{event};" for event in ("insert", "update", "delete")))
    old.close()
    with Journal(path) as journal:
        assert [(c.table, c.row_id) for c in ChangeTable(journal.db).pending(10)] == [("lots", 1)]


def test_a_station_alone_keeps_no_log_and_logs_everything_again_when_it_joins_a_line(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        journal.open_lot("L1", station="s", product_id=1, profile="p", operator="o")
        journal.refused_scan_table.record("L1", "P046X", "wrong_platform", "no")
        log = ChangeTable(journal.db)
        log.trim()
        assert log.backlog()[0] == 0
        assert log.refill_if_trimmed() == 2
        assert [(c.table, c.row_id) for c in log.pending(10)] == [("lots", 1), ("refused_scans", 1)]
        assert log.refill_if_trimmed() == 0, "once"


def test_a_station_alone_logs_no_write_after_the_trim_in_this_process_or_the_next(tmp_path: Path) -> None:
    """The run after the trim, and any later command on the journal (lot-close, the next start), log nothing; the
    writes themselves are kept; joining a line logs every row once, and later writes again."""
    path = tmp_path / "j.sqlite3"
    with Journal(path) as journal:
        ChangeTable(journal.db).trim()  # the line starts without [line] (station.line.feed.feed_for)
        journal.open_lot("L1", station="s", product_id=1, profile="p", operator="o")
        journal.refused_scan_table.record("L1", "P046X", "wrong_platform", "no")
        assert ChangeTable(journal.db).backlog()[0] == 0
    with Journal(path) as journal:  # reopened: step 8's triggers are installed again
        journal.lot_table.close("L1", "{}")
        log = ChangeTable(journal.db)
        assert journal.db.query("SELECT COUNT(*) AS n FROM changes")[0]["n"] == 0
        assert journal.lot_table.get("L1").closed  # type: ignore[union-attr]
        assert log.trimmed
        assert log.refill_if_trimmed() == 2
        journal.refused_scan_table.record("L1", "P046Y", "wrong_platform", "no")
        assert [(c.table, c.row_id) for c in log.pending(10)] == [
            ("lots", 1), ("refused_scans", 1), ("refused_scans", 2)]
        assert not log.trimmed
