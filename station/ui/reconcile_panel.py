"""Engineer mode: the current lot reconciled against its tray lists, and attaching another tray list to it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFileDialog, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from station.trays.lists import EntryKind, read_tray
from station.trays.reconcile import AttachedTray, Reconciliation, attach_tray, reconcile
from station.ui.quarantine_panel import one_line
from station.ui.tasks import BackgroundTasks
from station.workflow.line import Line

COUNTS = (
    ("provisioned", "Provisioned"),
    ("not_seen", "On the lists, not seen yet"),
    ("not_on_list", "Provisioned, on no list"),
    ("duplicates", "Duplicates"),
    ("seen_but_failed", "Seen but failed"),
    ("in_progress", "Running"),
    ("listed", "Listed"),
)
"""The counts shown, in order: the four the floor asks about first."""

ALL_KINDS = frozenset(EntryKind)
"""A lot's list may name units by device id, serial, ICCID or IMEI; reconciliation matches any of them."""


def shown_counts(rec: Reconciliation) -> dict[str, int]:
    """The reconciliation's counts, with both kinds of duplicate added into one."""
    counts = rec.counts()
    return {**counts, "duplicates": counts["duplicate_devices"] + counts["duplicate_labels"]}


class ReconcilePanel(QWidget):
    """Counts of the line's current lot against its attached tray lists; ``refresh`` reads them on a worker thread."""

    def __init__(self, line: Line, tasks: BackgroundTasks, *,
                 pick_file: Callable[[QWidget], Path | None] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._line = line
        self._tasks = tasks
        self._pick_file = pick_file or _pick_tray_file
        self.reconciliation: Reconciliation | None = None
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.values: dict[str, QLabel] = {}
        grid = QGridLayout()
        for row, (key, title) in enumerate(COUNTS):
            value = QLabel("–")
            font = QFont(value.font())
            font.setPointSize(15)
            font.setBold(True)
            value.setFont(font)
            grid.addWidget(QLabel(title), row, 0)
            grid.addWidget(value, row, 1)
            self.values[key] = value
        self.attach_button = QPushButton(f"Attach a tray list to lot {line.lot}…")
        self.attach_button.clicked.connect(self.choose_tray)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.attach_button)
        buttons.addWidget(self.refresh_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.summary)
        layout.addLayout(grid)
        layout.addWidget(self.status)
        layout.addStretch(1)

    def refresh(self) -> None:
        journal, lot = self._line.journal, self._line.lot
        self._tasks.submit(lambda: reconcile(journal, lot), self._show,
                           self._failed(f"reconcile lot {lot}"))

    def choose_tray(self) -> None:
        path = self._pick_file(self)
        if path is not None:
            self.attach_file(path)

    def attach_file(self, path: Path) -> None:
        """Read the tray list and attach it to the current lot on a worker thread, then show the counts again."""
        journal, lot, platform = self._line.journal, self._line.lot, self._line.profile.platform
        self.attach_button.setEnabled(False)
        self.status.setText(f"Attaching {path.name} to lot {lot}…")

        def work() -> AttachedTray:
            return attach_tray(journal, lot, read_tray(path, accept=ALL_KINDS, platform=platform))

        self._tasks.submit(work, self._attached, self._failed(f"attach tray list {path} to lot {lot}"))

    def _attached(self, attached: object) -> None:
        assert isinstance(attached, AttachedTray)
        self.attach_button.setEnabled(True)
        skipped = (f"; {attached.problems} line{'s' if attached.problems != 1 else ''} without a usable identifier "
                   "left out" if attached.problems else "")
        self.status.setText(f"Attached {Path(attached.source).name} to lot {attached.lot}: {attached.entries} "
                            f"identifier{'s' if attached.entries != 1 else ''}{skipped}.")
        self.refresh()

    def _show(self, rec: object) -> None:
        assert isinstance(rec, Reconciliation)
        self.reconciliation = rec
        counts = shown_counts(rec)
        for key, label in self.values.items():
            label.setText(str(counts[key]))
        if not rec.sources:
            self.summary.setText(f"No tray list is attached to lot {rec.lot} yet.")
        else:
            names = ", ".join(Path(source).name for source in rec.sources)
            verdict = "complete" if rec.complete else "not complete"
            self.summary.setText(f"Lot {rec.lot} against {names}: {verdict}.")

    def _failed(self, doing: str) -> Callable[[BaseException], None]:
        def show(error: BaseException) -> None:
            self.attach_button.setEnabled(True)
            self.status.setText(f"✗ Could not {doing}: {one_line(error)}")
        return show


def _pick_tray_file(parent: QWidget) -> Path | None:
    path, _ = QFileDialog.getOpenFileName(parent, "Choose a tray list to attach to the lot", "",
                                          "Tray lists (*.txt *.csv *.xlsx);;All files (*)")
    return Path(path) if path else None
