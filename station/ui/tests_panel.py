"""Engineer mode's view of the lot's tests: failures by test (most first) and each measurement's statistics (count,
failures, marginal passes, mean, standard deviation, min, max, limits, Cpk), read from the journal on a worker
thread. The figures are station.records.test_stats', the same as the workbook's and ``lot tests``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from station.records.measurement_table import MeasurementTable
from station.records.test_stats import CPK_BAR, MeasurementStats, failures_by_test, measurement_stats
from station.ui.tables import add_row, read_only_table
from station.ui.tasks import BackgroundTasks

COLUMNS = ("Test", "Measurement", "Count", "Failed", "Marginal", "Mean", "Std dev", "Min", "Max", "Limits", "Cpk")
FAILED_COLOUR = "#ffcdd2"
LOW_CPK_COLOUR = "#fff9c4"


@dataclass(frozen=True)
class LotTests:
    failures: list[tuple[str, int]]
    stats: list[MeasurementStats]


def _number(value: float | None, units: str | None = None) -> str:
    if value is None:
        return "–"
    text = f"{value:.4g}"
    return f"{text} {units}" if units else text


def _limits(stats: MeasurementStats) -> str:
    if stats.lower is None and stats.upper is None:
        return ""
    return f"{_number(stats.lower)} … {_number(stats.upper)}"


class TestsPanel(QWidget):
    """Refreshes when shown (``refresh``); ``lot`` names the lot to read."""

    __test__ = False

    def __init__(self, measurements: MeasurementTable, lot: Callable[[], str], tasks: BackgroundTasks,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._measurements = measurements
        self._lot = lot
        self._tasks = tasks
        self.failures = QLabel("")
        self.failures.setWordWrap(True)
        self.table = read_only_table(COLUMNS)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        layout = QVBoxLayout(self)
        layout.addWidget(self.failures)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        layout.addWidget(refresh)

    def refresh(self) -> None:
        lot = self._lot()
        self.status.setText(f"Reading the tests of lot {lot}…")

        def read() -> LotTests:
            records = self._measurements.of_lot(lot)
            return LotTests(failures_by_test(records), measurement_stats(records))

        self._tasks.submit(read, self._show,
                           lambda error: self.status.setText(f"✗ The lot's tests could not be read: {error}"))

    def _show(self, found: object) -> None:
        if not isinstance(found, LotTests):
            return
        if found.failures:
            self.failures.setText("Failures by test: " + "  ·  ".join(f"{t} {n}" for t, n in found.failures))
        else:
            self.failures.setText("No test has failed in this lot." if found.stats else "No unit was tested yet.")
        self.table.setRowCount(0)
        for s in found.stats:
            colour = FAILED_COLOUR if s.failures else (LOW_CPK_COLOUR if s.cpk is not None and s.cpk < CPK_BAR
                                                       else None)
            add_row(self.table, [s.test, s.name, str(s.count), str(s.failures), str(s.marginal),
                                 _number(s.mean, s.units), _number(s.stdev), _number(s.minimum), _number(s.maximum),
                                 _limits(s), s.cpk_text()], colour)
        self.status.setText(f"{len(found.stats)} measurement{'s' if len(found.stats) != 1 else ''}; Cpk below "
                            f"{CPK_BAR} is marked yellow, measurements with failures red.")
