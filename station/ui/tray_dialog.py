"""Engineer mode: import a tray list into the product: pick or drop a file, preview, import, view and export results."""

from __future__ import annotations

import contextlib
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cloud_client.client import ParticleCloud
from cloud_client.errors import CloudError
from station.config.profile import StationProfile
from station.errors import StationError
from station.trays.device_import import ImportReport, LineResult, import_tray, write_report_xlsx
from station.trays.lists import ProblemKind, TrayList, read_tray
from station.ui.tables import add_row, read_only_table
from station.ui.tasks import BackgroundTasks

PREVIEW_COLUMNS = ("Line", "Text", "Kind", "Check")
RESULT_COLUMNS = ("Line", "Input", "Kind", "Device ID", "Result", "Reason")
INVALID_COLOUR = "#ffcdd2"
"""Background of a preview line that will not be imported (invalid, wrong kind, other platform)."""
DUPLICATE_COLOUR = "#fff3c4"
ADDED_COLOUR = "#c8e6c9"
IN_PRODUCT_COLOUR = "#e8f5e9"
"""Already in the product: before this import, or added by an earlier run whose reply was lost."""
RESULT_COLOURS = {
    LineResult.ADDED: ADDED_COLOUR,
    LineResult.EXISTING: IN_PRODUCT_COLOUR,
    LineResult.REPLY_LOST: IN_PRODUCT_COLOUR,
    LineResult.DUPLICATE: DUPLICATE_COLOUR,
    LineResult.NOT_ATTEMPTED: DUPLICATE_COLOUR,
    LineResult.INVALID: INVALID_COLOUR,
    LineResult.ROUNDED: INVALID_COLOUR,
    LineResult.OWNED_ELSEWHERE: INVALID_COLOUR,
    LineResult.OTHER_PLATFORM: INVALID_COLOUR,
    LineResult.FAILED: INVALID_COLOUR,
}
"""Every result has its colour: in the product green, skipped as a duplicate or not attempted yellow, refused (to
fix in the file or at the cloud) red."""


def preview_rows(tray: TrayList) -> list[tuple[int, str, str, str, str | None]]:
    """(line, text, kind, check, highlight colour) for every line of the tray, in file order."""
    rows: list[tuple[int, str, str, str, str | None]] = [
        (entry.line, entry.value, entry.kind.value, "ok", None) for entry in tray.entries
    ]
    for problem in tray.problems:
        colour = DUPLICATE_COLOUR if problem.kind is ProblemKind.DUPLICATE else INVALID_COLOUR
        rows.append((problem.line, problem.text, problem.kind.value, problem.reason, colour))
    return sorted(rows, key=lambda row: row[0])


class TrayImportDialog(QDialog):
    """``load_file(path)`` previews a tray list, ``start_import()`` imports it, ``export_report(path)`` saves .xlsx."""

    _progress = Signal(int, int)

    def __init__(self, profile: StationProfile, cloud: ParticleCloud, tasks: BackgroundTasks,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import a tray list into the product")
        self.setAcceptDrops(True)
        self.resize(1100, 660)
        self._profile = profile
        self._cloud = cloud
        self._tasks = tasks
        self.tray: TrayList | None = None
        self.report: ImportReport | None = None
        self.importing = False

        self.hint = QLabel(f"Drop a tray list (.txt, .csv, .xlsx) here, or choose one. Device IDs and serial numbers "
                           f"are added to product {profile.product_id} ({profile.platform.display_name}).")
        self.hint.setWordWrap(True)
        self.choose = QPushButton("Choose tray file…")
        self.choose.clicked.connect(self._pick)
        self.import_button = QPushButton("Import")
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self.start_import)
        self.export_button = QPushButton("Export report (.xlsx)…")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self._pick_export)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.preview = read_only_table(PREVIEW_COLUMNS)
        self.results = read_only_table(RESULT_COLUMNS)
        self.results.setVisible(False)
        buttons = QHBoxLayout()
        for button in (self.choose, self.import_button, self.export_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addLayout(buttons)
        layout.addWidget(self.summary)
        layout.addWidget(self.progress)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.results, 1)
        self._progress.connect(self._show_progress)

    # --- choosing a file ----------------------------------------------------------------------------------------
    def _pick(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a tray list", "",
                                              "Tray lists (*.txt *.csv *.xlsx *.xlsm);;All files (*)")
        if path:
            self.load_file(Path(path))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dropped_path(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = self._dropped_path(event)
        if path is not None:
            event.acceptProposedAction()
            self.load_file(path)

    @staticmethod
    def _dropped_path(event: QDragEnterEvent | QDropEvent) -> Path | None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        files = [Path(url.toLocalFile()) for url in urls if url.isLocalFile()]
        return files[0] if len(files) == 1 else None

    def load_file(self, path: Path) -> None:
        """Read and validate the tray list in the background, then show the preview."""
        if self.importing:
            return
        self.summary.setText(f"Reading {path}…")
        self.summary.setStyleSheet("")
        self.import_button.setEnabled(False)
        platform = self._profile.platform
        self._tasks.submit(lambda: read_tray(path, platform=platform), self._show_preview, self._failed)

    def _show_preview(self, tray: object) -> None:
        assert isinstance(tray, TrayList)
        self.tray, self.report = tray, None
        self.results.setVisible(False)
        self.preview.setVisible(True)
        self.export_button.setEnabled(False)
        self.preview.setRowCount(0)
        for line, text, kind, check, colour in preview_rows(tray):
            add_row(self.preview, [str(line), text, kind, check], colour)
        self.preview.resizeRowsToContents()
        column = f" (column “{tray.column}”)" if tray.column else ""
        problems = len(tray.problems)
        self.summary.setText(
            f"{tray.source.name}{column}: {len(tray.entries)} to import"
            + (f", {problems} line{'s' if problems != 1 else ''} will be skipped (highlighted)" if problems else "")
            + ("".join(f"\n⚠ {w}" for w in tray.warnings))
        )
        self.import_button.setEnabled(bool(tray.entries))

    # --- importing ----------------------------------------------------------------------------------------------
    def start_import(self) -> None:
        """Import the previewed entries on a worker thread, with progress; the result table replaces the preview."""
        tray = self.tray
        if tray is None or self.importing:
            return
        self.importing = True
        self.import_button.setEnabled(False)
        self.choose.setEnabled(False)
        self.progress.setRange(0, max(1, len(tray.entries)))
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.summary.setText(f"Importing {len(tray.entries)} identifiers into product {self._profile.product_id}…")
        profile, cloud = self._profile, self._cloud
        state = Path(profile.log_folder) / "tray-imports" / f"{tray.source.name}.progress.json"

        def work() -> ImportReport:
            return import_tray(tray, cloud, profile.product_id, batch_size=profile.cloud.batch_size,
                               state_path=state, progress=self._report_progress)

        self._tasks.submit(work, self._show_report, self._failed)

    def _report_progress(self, done: int, total: int) -> None:
        # Runs on the worker thread (queued to the GUI). If the dialog is gone, the import carries on regardless.
        with contextlib.suppress(RuntimeError):
            self._progress.emit(done, total)

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)

    def _show_report(self, report: object) -> None:
        assert isinstance(report, ImportReport)
        self.importing = False
        self.report = report
        self.choose.setEnabled(True)
        self.progress.setVisible(False)
        self.preview.setVisible(False)
        self.results.setVisible(True)
        self.results.setRowCount(0)
        for line in report.lines:
            colour = RESULT_COLOURS[line.result]
            add_row(self.results, [str(line.line), line.text, line.kind, line.device_id or "", line.result.value,
                                    line.reason], colour)
        self.results.resizeRowsToContents()
        counts = ", ".join(f"{count} {name}" for name, count in report.summary().items())
        finished = "Import finished" if report.complete else "Import stopped: the cloud is unreachable; import again"
        self.summary.setText(f"{finished}: {counts}.")
        self.summary.setStyleSheet("" if report.complete else "color: #b71c1c; font-weight: bold;")
        self.export_button.setEnabled(True)
        self.import_button.setEnabled(not report.complete)

    # --- exporting ----------------------------------------------------------------------------------------------
    def _pick_export(self) -> None:
        if self.report is None:
            return
        default = Path(self._profile.log_folder) / f"{Path(self.report.source).stem}-import.xlsx"
        path, _ = QFileDialog.getSaveFileName(self, "Save the import report", str(default), "Excel workbook (*.xlsx)")
        if path:
            self.export_report(Path(path))

    def export_report(self, path: Path) -> None:
        """Write the per-line report workbook in the background; the summary says where it went."""
        report = self.report
        if report is None:
            return
        target = path if path.suffix.lower() == ".xlsx" else path.with_suffix(".xlsx")
        self._tasks.submit(lambda: write_report_xlsx(report, target),
                           lambda saved: self.summary.setText(f"Report saved to {saved}."), self._failed)

    def _failed(self, error: BaseException) -> None:
        self.importing = False
        self.choose.setEnabled(True)
        self.progress.setVisible(False)
        self.import_button.setEnabled(self.tray is not None and bool(self.tray.entries))
        if isinstance(error, StationError | CloudError | OSError):
            self.summary.setText(f"✗ {error}")
        else:
            self.summary.setText(f"✗ Unexpected error: {type(error).__name__}: {error}; the import can be re-run.")
        self.summary.setStyleSheet("color: #b71c1c; font-weight: bold;")
