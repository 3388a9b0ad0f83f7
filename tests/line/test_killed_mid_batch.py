"""A station SIGKILLed between the line database's commit and the journal's cursor write: after a restart the line
holds every row once, none missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

from station.line.replicator import KILL_AFTER_COMMIT_ENV, Replicator
from station.records.change_table import ChangeTable
from station.records.journal import Journal
from tests.conftest import MemoryKeyring
from tests.line.conftest import LineDb
from tests.line.stations import line_rows, simulated_station, start_line

_REPLICATE = """
import sys, psycopg
from station.line.replicator import Replicator
from station.records.journal import Journal
journal = Journal(sys.argv[1])
Replicator(journal.db, "a", lambda: psycopg.connect(sys.argv[2], autocommit=True), batch_size=7).sync()
"""


def test_a_station_killed_between_commit_and_cursor_resends_nothing_twice_and_loses_nothing(
        tmp_path: Path, line_db: LineDb, memory_keyring: MemoryKeyring) -> None:
    sim = simulated_station(tmp_path, "a", line_db, memory_keyring, devices=2, feed=False)
    try:  # a real journal: two units provisioned, not replicated yet
        line = start_line(sim, "LOT-K")
        for device in sim.devices:
            assert line.scan(device.label).result(60).state.value == "PASS"
        line.close()
    finally:
        sim.close()
    path = Path(sim.profile.log_folder) / "journal.sqlite3"

    env = {**os.environ, "PYTHONPATH": str(Path.cwd()), KILL_AFTER_COMMIT_ENV: "1"}
    killed = subprocess.run([sys.executable, "-c", _REPLICATE, str(path), line_db.admin], env=env,
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    with Journal(path) as journal:
        assert ChangeTable(journal.db).cursor() == 0, "killed before the cursor write"
        sent = line_rows(line_db, "SELECT (SELECT COUNT(*) FROM line.lots) + (SELECT COUNT(*) FROM line.units) "
                                  "+ (SELECT COUNT(*) FROM line.steps)")[0][0]
        assert 0 < int(sent) < len(journal.units("LOT-K")) + 1 + len(journal.db.query("SELECT id FROM steps")), (
            "the one batch the killed station committed (7 changes) is in the line database, not more")

        Replicator(journal.db, "a", lambda: psycopg.connect(line_db.admin, autocommit=True), batch_size=7).sync()
        assert ChangeTable(journal.db).backlog()[0] == 0
        for table, key in (("units", "id"), ("steps", "id"), ("outbox", "id"), ("lots", "rowid")):
            local = sorted(int(r[key]) for r in journal.db.query(f"SELECT {key} FROM {table}"))
            remote = [int(r[0]) for r in line_rows(  # type: ignore[call-overload]
                line_db, f"SELECT local_id FROM line.{table} WHERE station = 'a' ORDER BY local_id")]
            assert remote == local, table
