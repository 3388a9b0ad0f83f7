"""Engineer mode's "Rework unit…": ask the label of a unit already PASS, confirm, then run it again on a free slot
(``Line.scan(rework=True)``: the journal records the rework)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QInputDialog, QMessageBox, QWidget

from hardware.identifiers import LabelScan
from hardware.scanner.labels import redact
from station.errors import StationError
from station.records.unit_table import UnitRecord, UnitState
from station.ui.tasks import BackgroundTasks
from station.workflow.line import Line


class ReworkFlow:
    """The two questions of a rework, as non-blocking dialogs (``label_dialog``, then ``confirm_box``); ``say``
    shows each outcome in one sentence (✗ first when nothing was started)."""

    def __init__(self, line: Line, tasks: BackgroundTasks, parent: QWidget, say: Callable[[str], None]) -> None:
        self._line = line
        self._tasks = tasks
        self._parent = parent
        self._say = say
        self.label_dialog: QInputDialog | None = None
        self.confirm_box: QMessageBox | None = None

    def ask(self) -> None:
        dialog = QInputDialog(self._parent)
        dialog.setWindowTitle("Rework unit")
        dialog.setLabelText("Scan (or type) the label of the unit that passed and is to be reworked:")
        dialog.setOkButtonText("Next…")
        dialog.textValueSelected.connect(self._label_given)
        self.label_dialog = dialog
        dialog.open()

    def _label_given(self, text: str) -> None:
        try:
            scan = self._line.parse_label(text)
        except StationError as exc:
            self._say("✗ " + redact(str(exc), text))
            return
        journal, lot = self._line.journal, self._line.lot
        self._tasks.submit(lambda: journal.unit_table.by_key(lot, scan.serial.value),
                           lambda unit: self._confirm(scan, unit),
                           lambda error: self._say(f"✗ The journal could not be read: {error}"))

    def _confirm(self, scan: LabelScan, unit: object) -> None:
        key, lot = scan.serial.value, self._line.lot
        if not isinstance(unit, UnitRecord) or unit.state is not UnitState.PASS:
            state = unit.state.value if isinstance(unit, UnitRecord) else "never scanned in this lot"
            self._say(f"✗ Unit {key} is not PASS in lot {lot} ({state}); nothing to rework: scan its label as usual.")
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Rework unit",
                          f"Rework unit {key}? It passed in lot {lot}. It runs through its steps again on the first "
                          "free slot, and its record says it was reworked.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self._parent)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Yes).setText("Rework")

        def answered(button: object) -> None:
            if box.standardButton(button) is QMessageBox.StandardButton.Yes:  # type: ignore[arg-type]
                self._start(scan)
            else:
                self._say(f"Unit {key} was not reworked.")

        box.buttonClicked.connect(answered)
        self.confirm_box = box
        box.open()

    def _start(self, scan: LabelScan) -> None:
        try:
            self._line.scan(scan, rework=True)
        except StationError as exc:
            self._say("✗ " + str(exc))
            return
        self._say(f"Unit {scan.serial} is being reworked; its slot shows the result.")
