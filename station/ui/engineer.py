"""Engineer mode (behind the PIN): profile and firmware, tray import, unit history, cloud retry, the lot workbook,
rework of a unit that passed, the product's quarantine, the lot's reconciliation against its tray lists, and the lot's
test statistics."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QUrl
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QDialog, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from station.ui.firmware_panel import FirmwarePanel, ProfileSwitch
from station.ui.history_panel import HistoryPanel
from station.ui.quarantine_panel import QuarantinePanel
from station.ui.reconcile_panel import ReconcilePanel
from station.ui.rework import ReworkFlow
from station.ui.tasks import BackgroundTasks
from station.ui.tests_panel import TestsPanel
from station.ui.tray_dialog import TrayImportDialog
from station.workflow.line import Line


class EngineerDialog(QDialog):
    """A tabbed window; closing it returns the station to operator mode."""

    def __init__(self, line: Line, tasks: BackgroundTasks, *, open_url: Callable[[QUrl], bool],
                 switch_profile: ProfileSwitch | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Engineer mode · {line.profile.station_name}")
        self.resize(1000, 700)
        self._line = line
        self._tasks = tasks
        self._open_url = open_url
        self.tray_dialog: TrayImportDialog | None = None
        self.firmware = FirmwarePanel(line.profile, line.module, tasks, switch_profile)
        self.history = HistoryPanel(line.journal.unit_table, line.journal.step_table, tasks)
        self.quarantine = QuarantinePanel(line.cloud, line.profile.product_id, tasks)
        self.reconcile = ReconcilePanel(line, tasks)
        self.tests = TestsPanel(line.journal.measurement_table, lambda: line.lot, tasks)

        records = QWidget()
        self.pending = QLabel("")
        font = QFont(self.pending.font())
        font.setPointSize(13)
        self.pending.setFont(font)
        self.records_status = QLabel("")
        self.records_status.setWordWrap(True)
        self.retry_button = QPushButton("Retry pending cloud work")
        self.retry_button.setToolTip("Put cloud operations that were given up back in the queue, and run them now")
        self.retry_button.clicked.connect(self.retry_cloud_work)
        self.spreadsheet_button = QPushButton(f"Open the lot's spreadsheet ({line.lot})")
        self.spreadsheet_button.clicked.connect(self.open_spreadsheet)
        self.tray_button = QPushButton("Import a tray list into the product…")
        self.tray_button.clicked.connect(self.open_tray_import)
        self.close_lot_button = QPushButton(f"Close lot {line.lot} and open the next…")
        self.close_lot_button.setToolTip("Seal the lot's figures (its workbook keeps them) and open the next lot")
        self.close_lot_button.clicked.connect(self.close_lot)
        self._close_armed = False
        self.rework = ReworkFlow(line, tasks, self, self.records_status.setText)
        self.rework_button = QPushButton("Rework unit…")
        self.rework_button.setToolTip("Run a unit that already passed in this lot through its steps again (the "
                                      "journal records the rework)")
        self.rework_button.clicked.connect(self.rework.ask)
        records_layout = QVBoxLayout(records)
        for widget in (self.pending, self.retry_button, self.spreadsheet_button, self.tray_button,
                       self.rework_button, self.close_lot_button, self.records_status):
            records_layout.addWidget(widget)
        records_layout.addStretch(1)

        self.tabs = QTabWidget()
        self.tabs.addTab(self.firmware, "Profile && firmware")
        self.tabs.addTab(records, "Cloud && records")
        self.tabs.addTab(self.history, "Unit history")
        self.tabs.addTab(self.quarantine, "Quarantine")
        self.tabs.addTab(self.reconcile, "Reconcile")
        self.tabs.addTab(self.tests, "Tests")
        self.tabs.currentChanged.connect(self._tab_shown)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        self.refresh_pending()
        self.history.search("")

    def _tab_shown(self, index: int) -> None:
        # The quarantine is a cloud call and reconciling reads the whole lot: both only when their tab is opened.
        shown = self.tabs.widget(index)
        if shown is self.quarantine:
            self.quarantine.refresh()
        elif shown is self.reconcile:
            self.reconcile.refresh()
        elif shown is self.tests:
            self.tests.refresh()

    def refresh_pending(self) -> None:
        journal = self._line.journal
        self._tasks.submit(journal.outbox_table.count_pending, self._show_pending,
                           lambda error: self.pending.setText(f"✗ The journal could not be read: {error}"))

    def _show_pending(self, count: object) -> None:
        self.pending.setText(f"Cloud operations waiting: {count}" if count else "No cloud work is waiting.")

    def retry_cloud_work(self) -> None:
        """``line.retry_cloud_work()`` on a worker thread; the status says how many operations went back in."""
        self.retry_button.setEnabled(False)
        self._tasks.submit(self._line.retry_cloud_work, self._retried, self._retry_failed)

    def _retried(self, count: object) -> None:
        self.retry_button.setEnabled(True)
        self.records_status.setText(
            f"{count} given-up cloud operation{'s' if count != 1 else ''} put back in the queue; "
            "waiting work is retried now." if count else
            "No cloud operation had been given up; waiting work is retried by itself."
        )
        self.refresh_pending()

    def _retry_failed(self, error: BaseException) -> None:
        self.retry_button.setEnabled(True)
        self.records_status.setText(f"✗ Could not retry the cloud work: {error}")

    def open_spreadsheet(self) -> None:
        """Bring the lot's workbook up to date (the line's writer, waited for on a worker thread), then open it."""
        workbook = self._line.workbook
        self.records_status.setText(f"Bringing {workbook.path.name} up to date…")

        def bring_up_to_date() -> bool:
            workbook.notify()
            return workbook.flush(timeout=30)

        def opened(current: object) -> None:
            path = workbook.path
            problem = workbook.status.message if workbook.status is not None else "the writer has not run yet"
            if not path.exists():
                self.records_status.setText(f"✗ The lot workbook {path} is not written yet: {problem}")
                return
            self._open_url(QUrl.fromLocalFile(str(path)))
            self.records_status.setText(f"Opened {path}." if current else
                                        f"Opened {path}, but it may miss the latest units: {problem}")

        self._tasks.submit(bring_up_to_date, opened,
                           lambda error: self.records_status.setText(f"✗ The lot workbook could not be written: "
                                                                     f"{error}"))

    def close_lot(self) -> None:
        """The first click asks for a second (closing seals the lot for good); the second closes it on a worker
        thread (``Line.close_lot`` writes the closed lot's workbook a last time)."""
        if not self._close_armed:
            self._close_armed = True
            self.close_lot_button.setText(f"Click again to close lot {self._line.lot} for good")
            return
        self._close_armed = False
        self.close_lot_button.setEnabled(False)
        self.records_status.setText(f"Closing lot {self._line.lot}…")
        self._tasks.submit(self._line.close_lot, self._lot_closed, self._close_failed)

    def _lot_closed(self, following: object) -> None:
        self.close_lot_button.setEnabled(True)
        self.close_lot_button.setText(f"Close lot {following} and open the next…")
        self.spreadsheet_button.setText(f"Open the lot's spreadsheet ({following})")
        self.records_status.setText(f"The lot is closed and its figures sealed; lot {following} is open.")

    def _close_failed(self, error: BaseException) -> None:
        self.close_lot_button.setEnabled(True)
        self.close_lot_button.setText(f"Close lot {self._line.lot} and open the next…")
        self.records_status.setText(f"✗ The lot was not closed: {error}")

    def open_tray_import(self) -> TrayImportDialog:
        if self.tray_dialog is None:
            self.tray_dialog = TrayImportDialog(self._line.profile, self._line.cloud, self._tasks, self)
        self.tray_dialog.show()
        self.tray_dialog.raise_()
        return self.tray_dialog
