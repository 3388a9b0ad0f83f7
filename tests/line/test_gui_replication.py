"""The operator window's lot bar shows the line database's backlog and lag, and an outage, as they are."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from station.ui.lot_bar import LotBar, LotRefresher
from station.ui.tasks import BackgroundTasks
from tests.conftest import MemoryKeyring
from tests.line.conftest import LineDb
from tests.line.stations import simulated_station, start_line


def test_the_lot_bar_shows_up_to_date_then_the_outage_with_what_waits(
        qtbot: QtBot, tmp_path: Path, line_db: LineDb, memory_keyring: MemoryKeyring) -> None:
    sim = simulated_station(tmp_path, "a", line_db, memory_keyring, devices=2)
    line = start_line(sim, "LOT-G")
    tasks = BackgroundTasks()
    bar = LotBar()
    qtbot.addWidget(bar)
    refresher = LotRefresher(bar, tasks, lambda: line)
    try:
        assert line.scan(sim.devices[0].label).result(60).state.value == "PASS"

        def shows(text: str) -> bool:
            refresher.refresh()
            return text in bar.replication.text()

        qtbot.waitUntil(lambda: shows("Line database: up to date"), timeout=30000)
        assert bar.replication.isVisibleTo(bar)

        line_db.server.stop()
        assert line.scan(sim.devices[1].label).result(60).state.value == "PASS"
        qtbot.waitUntil(lambda: shows("Line database unreachable"), timeout=30000)
        assert "kept in the journal" in bar.replication.text()
        line_db.server.start()
        qtbot.waitUntil(lambda: shows("Line database: up to date"), timeout=60000)
    finally:
        refresher.stop()
        tasks.shutdown()
        line.close()
        sim.close()


def test_a_station_without_a_line_shows_no_replication(qtbot: QtBot) -> None:
    bar = LotBar()
    qtbot.addWidget(bar)
    bar.replication.show_status(None)
    assert not bar.replication.isVisibleTo(bar)
