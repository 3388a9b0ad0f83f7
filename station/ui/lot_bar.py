"""The lot bar: lot, operator, station, counts, yield, cloud pending, a small chart of yield and cycle time, and its
refresh from the journal on a worker thread."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCharts import QChart, QChartView, QLineSeries, QValueAxis
from PySide6.QtCore import QMargins, QObject, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from station.records.wording import counted
from station.ui.line_status import ReplicationLabel
from station.ui.lot_stats import LotSnapshot, take_snapshot
from station.ui.tasks import BackgroundTasks
from station.workflow.line import Line

REFRESH_MS = 5000
"""The bar also refreshes this often: the outbox finishes cloud work without a slot event."""
SETTLE_MS = 150
"""Events within this long of each other cause one journal read."""

YIELD_COLOUR = "#2e7d32"
CYCLE_COLOUR = "#1565c0"


class LotChart(QChartView):
    """Running yield (%, left axis) and cycle time (s, right axis) per finished unit of the lot."""

    def __init__(self, parent: QWidget | None = None) -> None:
        chart = QChart()
        chart.setMargins(QMargins(2, 2, 2, 2))
        chart.setBackgroundRoundness(4)
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignTop)
        chart.legend().setFont(_font(9))
        chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        self.yield_series = QLineSeries()
        self.yield_series.setName("Yield %")
        self.yield_series.setPen(QPen(QColor(YIELD_COLOUR), 2))
        self.cycle_series = QLineSeries()
        self.cycle_series.setName("Cycle time s")
        self.cycle_series.setPen(QPen(QColor(CYCLE_COLOUR), 2))
        chart.addSeries(self.yield_series)
        chart.addSeries(self.cycle_series)
        self.x_axis = QValueAxis()
        self.x_axis.setLabelFormat("%d")
        self.yield_axis = QValueAxis()
        self.yield_axis.setRange(0, 100)
        self.yield_axis.setLabelFormat("%d")
        self.cycle_axis = QValueAxis()
        self.cycle_axis.setLabelFormat("%.0f")
        for axis, colour in ((self.x_axis, "#37474f"), (self.yield_axis, YIELD_COLOUR),
                             (self.cycle_axis, CYCLE_COLOUR)):
            axis.setLabelsFont(_font(8))
            axis.setTitleFont(_font(8))
            axis.setLabelsColor(QColor(colour))
            axis.setTickCount(5 if axis is not self.cycle_axis else 3)
        chart.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(self.yield_axis, Qt.AlignmentFlag.AlignLeft)
        chart.addAxis(self.cycle_axis, Qt.AlignmentFlag.AlignRight)
        for series, axis in ((self.yield_series, self.yield_axis), (self.cycle_series, self.cycle_axis)):
            series.attachAxis(self.x_axis)
            series.attachAxis(axis)
        super().__init__(chart, parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMinimumSize(380, 150)
        self.show_points((), ())

    def show_points(self, yield_points: tuple[tuple[int, float], ...],
                    cycle_points: tuple[tuple[int, float], ...]) -> None:
        self.yield_series.replace([QPointF(x, y) for x, y in yield_points])
        self.cycle_series.replace([QPointF(x, y) for x, y in cycle_points])
        xs = [x for x, _ in yield_points] or [1]
        self.x_axis.setRange(min(xs), max(max(xs), min(xs) + 4))
        top = max((y for _, y in cycle_points), default=10.0)
        self.cycle_axis.setRange(0, max(10.0, top * 1.2))


def _font(points: int, *, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSize(points)
    font.setBold(bold)
    return font


class LotBar(QFrame):
    """Shows a LotSnapshot; the window refreshes it from a worker thread after units start and finish."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lotBar")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setStyleSheet("#lotBar { background: #263238; border-radius: 8px; } #lotBar QLabel { color: #eceff1; }")
        self.lot = QLabel("Lot –")
        self.lot.setFont(_font(17, bold=True))
        self.who = QLabel("")
        self.who.setFont(_font(12))
        self.values: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(22)
        for column, (key, title) in enumerate((("total", "Units"), ("passed", "PASS"), ("failed", "FAIL"),
                                               ("not_confirmed", "Not confirmed"), ("in_progress", "Running"),
                                               ("yield", "Yield"), ("first_pass", "First pass"),
                                               ("cycle", "Cycle (last 20)"))):
            caption = QLabel(title)
            caption.setFont(_font(10))
            value = QLabel("–")
            value.setFont(_font(20, bold=True))
            grid.addWidget(caption, 0, column)
            grid.addWidget(value, 1, column)
            self.values[key] = value
        self.pending = QLabel("")
        self.pending.setFont(_font(13, bold=True))
        self.pending.setObjectName("cloudPending")
        left = QVBoxLayout()
        left.addWidget(self.lot)
        left.addWidget(self.who)
        left.addLayout(grid)
        left.addWidget(self.pending)
        self.test_failures = QLabel("")
        self.test_failures.setFont(_font(13, bold=True))
        self.test_failures.setObjectName("testFailures")
        self.test_failures.setStyleSheet("color: #ffab91;")
        self.test_failures.setWordWrap(True)
        self.test_failures.hide()
        left.addWidget(self.test_failures)
        self.replication = ReplicationLabel()  # the line database's backlog and lag (a [line] profile only)
        left.addWidget(self.replication)
        self.chart = LotChart()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 8, 8, 8)
        layout.addLayout(left, 3)
        layout.addWidget(self.chart, 2)
        self.snapshot: LotSnapshot | None = None

    def show_snapshot(self, snapshot: LotSnapshot) -> None:
        self.snapshot = snapshot
        figures = snapshot.figures
        self.lot.setText(f"Lot {snapshot.lot}")
        refused = f"   ·   {counted(figures.refused_scans, 'refused scan')}" if figures.refused_scans else ""
        self.who.setText(f"Operator {snapshot.operator}   ·   Station {snapshot.station}{refused}")
        self.values["total"].setText(str(figures.units))
        self.values["passed"].setText(str(figures.passed))
        self.values["failed"].setText(str(figures.failed))
        self.values["not_confirmed"].setText(str(figures.not_confirmed))
        self.values["in_progress"].setText(str(figures.running))
        self.values["yield"].setText(snapshot.yield_text)
        self.values["first_pass"].setText(snapshot.first_pass_text)
        self.values["cycle"].setText(snapshot.mean_cycle_text)
        waiting = snapshot.cloud_pending_operations
        if waiting:
            self.pending.setText(f"☁ Cloud pending: {waiting} operation{'s' if waiting != 1 else ''} waiting "
                                 f"({figures.waiting_on_cloud} unit{'s' if figures.waiting_on_cloud != 1 else ''} "
                                 "waiting on the cloud)")
            self.pending.setStyleSheet("color: #ffd54f;")
        else:
            self.pending.setText("☁ Cloud: nothing pending")
            self.pending.setStyleSheet("color: #a5d6a7;")
        self.test_failures.setText(snapshot.test_failures_text)
        self.test_failures.setVisible(bool(snapshot.test_failures_text))
        self.chart.show_points(snapshot.yield_points, snapshot.cycle_points)


class LotRefresher(QObject):
    """Reads the lot for the bar on a worker thread: soon after ``request()`` and every REFRESH_MS; one read at a
    time, and requests during a read cause one more read after it. ``failed`` carries a message for the status bar.
    """

    failed = Signal(str)

    def __init__(self, bar: LotBar, tasks: BackgroundTasks, line: Callable[[], Line], parent: QObject | None = None
                 ) -> None:
        super().__init__(parent)
        self._bar = bar
        self._tasks = tasks
        self._line = line
        self._running = False
        self._again = False
        self._stopped = False
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(SETTLE_MS)
        self._soon.timeout.connect(self.refresh)
        self._clock = QTimer(self)
        self._clock.setInterval(REFRESH_MS)
        self._clock.timeout.connect(self.refresh)
        self._clock.start()

    def request(self) -> None:
        """Refresh shortly (units started or finished)."""
        if not self._stopped:
            self._soon.start()

    def refresh(self) -> None:
        if self._stopped:
            return
        if self._running:
            self._again = True
            return
        self._running = True
        line = self._line()
        self._tasks.submit(lambda: take_snapshot(line), self._show, self._failed)
        feed = line.line_feed
        if feed is not None:
            self._tasks.submit(feed.status, self._bar.replication.show_status)

    def stop(self) -> None:
        self._stopped = True
        self._soon.stop()
        self._clock.stop()

    def _show(self, snapshot: object) -> None:
        self._running = False
        if isinstance(snapshot, LotSnapshot) and snapshot.lot == self._line().lot:
            self._bar.show_snapshot(snapshot)
        if self._again:
            self._again = False
            self.refresh()

    def _failed(self, error: BaseException) -> None:
        self._running = False
        self.failed.emit(f"The lot could not be read from the journal: {error}")
