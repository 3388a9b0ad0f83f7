"""Store and forward to the line database: a lot from two stations, an outage mid-lot, drained by itself."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from station.records.journal import Journal
from station.workflow.events import EventKind, UnitEvent
from station.workflow.line import Line
from tests.conftest import MemoryKeyring
from tests.line.conftest import LineDb
from tests.line.stations import line_rows, simulated_station, start_line, wait_until


def journal_counts(line: Line) -> dict[str, int]:
    journal: Journal = line.journal
    return {table: int(journal.db.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"])
            for table in ("lots", "units", "steps", "outbox")}


def line_counts(line_db: LineDb, station: str) -> dict[str, int]:
    return {table: int(line_rows(line_db, f"SELECT COUNT(*) FROM line.{table} WHERE station = %s",
                                 (station,))[0][0])
            for table in ("lots", "units", "steps", "outbox")}


def caught_up(line: Line, line_db: LineDb, station: str) -> bool:
    return line.line_feed is not None and line.line_feed.status().backlog == 0 and (
        line_counts(line_db, station) == journal_counts(line))


def test_a_lot_provisioned_at_two_stations_is_one_lot_on_the_line(
        tmp_path: Path, line_db: LineDb, memory_keyring: MemoryKeyring) -> None:
    sims = [simulated_station(tmp_path, name, line_db, memory_keyring) for name in ("a", "b")]
    lines = [start_line(sim, "LOT-1") for sim in sims]
    try:
        for sim, line in zip(sims, lines, strict=True):
            for device in sim.devices:
                assert line.scan(device.label).result(60).state.value == "PASS"
        for name, line in zip(("a", "b"), lines, strict=True):
            wait_until(lambda line=line, name=name: caught_up(line, line_db, name), 30, f"station {name} caught up")
        units = line_rows(line_db, "SELECT station, serial, state FROM line.units WHERE lot = 'LOT-1' "
                                   "ORDER BY station, local_id")
        expected = [(name, device.serial.value, "PASS") for name, sim in zip(("a", "b"), sims, strict=True)
                    for device in sim.devices if device.serial]
        assert units == expected
        stations = line_rows(line_db, "SELECT station, backlog, replicated_change > 0 FROM line.stations "
                                      "ORDER BY station")
        assert stations == [("a", 0, True), ("b", 0, True)]
        wait_until(lambda: line_rows(line_db, "SELECT slots->0->>'state', slots->0->>'unit_key' FROM line.stations "
                                              "WHERE station = 'b'") == [("idle", sims[1].devices[1].serial.value)],  # type: ignore[union-attr]
                   30,
                   "station b's slots as they are")

        lines[0].close_lot()  # station a closes its part of the lot: its sealed summary reaches the line
        wait_until(lambda: line_rows(line_db, "SELECT station, lot, (summary->'summary'->>'passed')::int FROM "
                                              "line.lot_summaries") == [("a", "LOT-1", 2)], 30, "the sealed summary")
    finally:
        for line in lines:
            line.close()
        for sim in sims:
            sim.close()


def test_an_outage_mid_lot_loses_nothing_duplicates_nothing_and_drains_by_itself(
        tmp_path: Path, line_db: LineDb, memory_keyring: MemoryKeyring, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="station.line.replicator")
    sim = simulated_station(tmp_path, "a", line_db, memory_keyring, devices=3)
    line = start_line(sim, "LOT-2")
    notices: list[UnitEvent] = []
    line.events.subscribe(lambda e: notices.append(e) if e.kind is EventKind.NOTICE else None)
    try:
        assert line.scan(sim.devices[0].label).result(60).state.value == "PASS"
        wait_until(lambda: caught_up(line, line_db, "a"), 30, "the first unit replicated")

        line_db.server.stop()
        for device in sim.devices[1:]:  # the station goes on with its journal
            assert line.scan(device.label).result(60).state.value == "PASS"
        assert line.line_feed is not None
        wait_until(lambda: line.line_feed is not None and line.line_feed.status().reachable is False, 30,
                   "the outage noticed")
        assert line.line_feed.status().backlog > 0
        unreachable = [e for e in notices if "cannot be reached" in e.message]
        assert len(unreachable) == 1, "the outage is said once, not per scan"

        line_db.server.start()
        wait_until(lambda: caught_up(line, line_db, "a"), 60, "the backlog drained")
        serials = line_rows(line_db, "SELECT serial FROM line.units WHERE station = 'a' ORDER BY local_id")
        assert serials == [(d.serial.value,) for d in sim.devices if d.serial]
        said = [r.getMessage() for r in caplog.records if r.name == "station.line.replicator"]
        assert sum("unreachable" in m for m in said) == 1, "one log line per outage, not per try"
        assert sum("reachable again" in m for m in said) == 1
        assert not any("pw-a" in m for m in said)
    finally:
        line.close()
        sim.close()
