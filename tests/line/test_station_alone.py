"""A station without ``[line]``: its journal keeps no change log however long it runs, ``line status`` says it
feeds no line, and when it joins a line later its whole journal replicates."""

from __future__ import annotations

import json
from pathlib import Path

from station.config.profile_loader import load_profile
from station.records.journal import Journal
from tests.conftest import MemoryKeyring
from tests.line.conftest import LineDb
from tests.line.stations import simulated_station, start_line, wait_until
from tests.line.test_cli_line import station_cli
from tests.line.test_replication import caught_up


def change_rows(sim_log_folder: str) -> int:
    with Journal(Path(sim_log_folder) / "journal.sqlite3") as journal:
        return int(journal.db.query("SELECT COUNT(*) AS n FROM changes")[0]["n"])


def test_a_station_alone_keeps_its_change_log_empty_and_sends_its_whole_journal_when_it_joins(
        tmp_path: Path, line_db: LineDb, memory_keyring: MemoryKeyring) -> None:
    sim = simulated_station(tmp_path, "a", line_db, memory_keyring, devices=2, feed=False)
    try:
        for lot, device in zip(("LOT-A1", "LOT-A2"), sim.devices, strict=True):  # two runs, as on two days
            line = start_line(sim, lot)
            assert line.scan(device.label).result(60).state.value == "PASS"
            line.close()
            assert change_rows(sim.profile.log_folder) == 0, f"nothing logged by the run of {lot}"

        plain = station_cli("line", "status", "--profile", str(sim.profile.path))
        assert plain.returncode == 0, plain.stderr
        assert plain.stdout.strip() == (
            f"station a feeds no line: the profile {sim.profile.path} has no [line] section, so its journal keeps "
            "no change log (add [line] and the next start sends the whole journal)")
        as_json = station_cli("line", "status", "--profile", str(sim.profile.path), "--json")
        assert as_json.returncode == 0, as_json.stderr
        status = json.loads(as_json.stdout)
        assert (status["feeds_line"], status["journal"], status["reachable"]) == (False, None, None)

        with sim.profile.path.open("a", encoding="utf-8") as profile:  # the station joins the line
            profile.write(f'\n[line]\ndatabase = "{line_db.url("line_station_a")}"\n')
        sim.profile = load_profile(sim.profile.path)
        line = start_line(sim, "LOT-A3")
        try:
            wait_until(lambda: caught_up(line, line_db, "a"), 30, "the whole journal replicated")
        finally:
            line.close()
    finally:
        sim.close()
