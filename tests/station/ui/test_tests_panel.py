"""Engineer mode's Tests tab: each measurement's statistics from the journal, with the Cpk withheld below the
minimum sample count, as the workbook and ``lot tests`` show it."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from station.records.journal import Journal
from station.records.measurement_table import MeasurementOutcome, MeasurementRow
from station.records.test_stats import MIN_CPK_SAMPLES
from station.ui.tasks import BackgroundTasks
from station.ui.tests_panel import COLUMNS, TestsPanel


def voltage(value: float) -> MeasurementRow:
    return MeasurementRow(test="battery", name="voltage", value=value, units="V", lower=3.6, upper=4.3,
                          marginal_lower=None, marginal_upper=None, validator="3.6 <= x <= 4.3",
                          outcome=MeasurementOutcome.PASS, marginal=False, started_at=1_767_261_600.0, duration_s=0.2)


def cpk_shown(qtbot: QtBot, journal: Journal, units: int) -> str:
    for n in range(units):
        unit, _ = journal.unit_table.begin("L1", f"B40T{n:011d}", serial=f"B40T{n:011d}")
        journal.measurement_table.record(unit.id, 1, [voltage(3.9 + (n % 5) * 0.01)])
    tasks = BackgroundTasks()
    panel = TestsPanel(journal.measurement_table, lambda: "L1", tasks)
    qtbot.addWidget(panel)
    try:
        panel.refresh()
        qtbot.waitUntil(lambda: panel.table.rowCount() == 1, timeout=10_000)
        item = panel.table.item(0, COLUMNS.index("Cpk"))
        assert item is not None
        return item.text()
    finally:
        tasks.shutdown()


def test_a_cpk_from_too_few_units_is_withheld(qtbot: QtBot, tmp_path: Path) -> None:
    with Journal(tmp_path / "journal.sqlite3") as journal:
        journal.open_lot("L1", station="s", product_id=1, profile="p", operator="o")
        assert cpk_shown(qtbot, journal, MIN_CPK_SAMPLES - 1) == f"n < {MIN_CPK_SAMPLES}"


def test_a_cpk_from_enough_units_is_shown_with_two_decimals(qtbot: QtBot, tmp_path: Path) -> None:
    with Journal(tmp_path / "journal.sqlite3") as journal:
        journal.open_lot("L1", station="s", product_id=1, profile="p", operator="o")
        shown = cpk_shown(qtbot, journal, MIN_CPK_SAMPLES)
    assert shown.replace(".", "", 1).isdigit() and len(shown.split(".")[1]) == 2, shown
