"""Engineer mode: unit history, searched by serial or device id, with the journal's steps of the chosen unit."""

from __future__ import annotations

import datetime
import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from station.records.step_table import StepRecord, StepTable
from station.records.unit_table import UnitRecord, UnitState, UnitTable
from station.ui.slot_state import step_words
from station.ui.tables import add_row, read_only_table
from station.ui.tasks import BackgroundTasks

UNIT_COLUMNS = ("Serial", "Device ID", "Lot", "State", "Attempts", "Last change", "Reason")
STEP_COLUMNS = ("Step", "Status", "Started", "Seconds", "Detail")
STATE_COLOURS = {UnitState.PASS: "#c8e6c9", UnitState.CLOUD_PENDING: "#fff3c4", UnitState.FAIL: "#ffcdd2"}
STATUS_COLOURS = {"passed": "#c8e6c9", "failed": "#ffcdd2", "pending": "#fff3c4"}


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    return datetime.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")


class HistoryPanel(QWidget):
    """Type part of a serial or device id and press Enter; pick a unit to see its steps."""

    def __init__(self, units: UnitTable, steps: StepTable, tasks: BackgroundTasks, parent: QWidget | None = None
                 ) -> None:
        super().__init__(parent)
        self._units = units
        self._steps = steps
        self._tasks = tasks
        self.units: list[UnitRecord] = []
        self.query = QLineEdit()
        self.query.setPlaceholderText("Serial number or device ID (or part of it)")
        self.query.returnPressed.connect(self.search)
        search = QPushButton("Search")
        search.clicked.connect(self.search)
        self.status = QLabel("")
        self.unit_table = read_only_table(UNIT_COLUMNS, select_rows=True)
        self.unit_table.itemSelectionChanged.connect(self._unit_chosen)
        self.step_table = read_only_table(STEP_COLUMNS, select_rows=True)
        row = QHBoxLayout()
        row.addWidget(self.query, 1)
        row.addWidget(search)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.unit_table)
        splitter.addWidget(self.step_table)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(splitter, 1)

    def search(self, text: str | None = None) -> None:
        query = (self.query.text() if not isinstance(text, str) else text).strip()
        self.status.setText(f"Searching for “{query}”…" if query else "Showing the latest units…")
        self._tasks.submit(lambda: self._units.search(query), self._show_units, self._failed)

    def _show_units(self, units: object) -> None:
        assert isinstance(units, list)
        self.units = units
        self.unit_table.setRowCount(0)
        self.step_table.setRowCount(0)
        for unit in units:
            add_row(self.unit_table, [unit.serial or "", unit.device_id or "", unit.lot, unit.state.value,
                                   str(unit.attempts), _when(unit.updated_at), unit.reason or ""],
                 STATE_COLOURS.get(unit.state))
        self.unit_table.resizeRowsToContents()
        self.status.setText(f"{len(units)} unit{'s' if len(units) != 1 else ''} found."
                            + (" Choose one to see its steps." if units else ""))

    def _unit_chosen(self) -> None:
        rows = {index.row() for index in self.unit_table.selectedIndexes()}
        if len(rows) != 1:
            return
        unit = self.units[rows.pop()]
        self._tasks.submit(lambda: self._steps.of_unit(unit.id), self._show_steps, self._failed)

    def _show_steps(self, steps: object) -> None:
        assert isinstance(steps, list)
        self.step_table.setRowCount(0)
        for step in steps:
            assert isinstance(step, StepRecord)
            seconds = f"{step.ended_at - step.started_at:.2f}" if step.ended_at is not None else ""
            detail = step.error or json.dumps(step.detail, default=str) if (step.error or step.detail) else ""
            values = [step_words(step.step), step.status.value, _when(step.started_at), seconds, detail]
            add_row(self.step_table, values, STATUS_COLOURS.get(step.status.value))
        self.step_table.resizeRowsToContents()

    def _failed(self, error: BaseException) -> None:
        self.status.setText(f"✗ The journal could not be read: {error}")
