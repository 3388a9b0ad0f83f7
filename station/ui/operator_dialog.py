"""Who operates the station: asked when the window opens if the profile says so (``[operator] ask_name``), and at
any time with F4 (a shift change); the line records the name on every unit scanned from then on."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from station.errors import StationError
from station.workflow.line import Line

NAME_FIRST = "Type your name in the operator box first (F4 opens it); the station records it on every unit."


class OperatorDialog(QDialog):
    """Takes a name the line accepts (``Line.set_operator``), then emits ``named`` with it; anything else keeps the
    dialog open with one sentence saying why."""

    named = Signal(str)

    def __init__(self, line: Line, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Operator")
        self.setModal(True)
        self._line = line
        prompt = QLabel("Who is operating the station? Type your name.")
        font = QFont(prompt.font())
        font.setPointSize(16)
        prompt.setFont(font)
        self.name = QLineEdit()
        self.name.setFont(font)
        self.name.setMinimumHeight(44)
        self.name.setMaxLength(80)
        self.name.setAccessibleName("Operator name")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b71c1c; font-weight: bold;")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.check)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (prompt, self.name, self.message, self.buttons):
            layout.addWidget(widget)
        self.resize(460, 200)
        self.name.setFocus(Qt.FocusReason.OtherFocusReason)

    def check(self) -> None:
        try:
            name = self._line.set_operator(self.name.text())
        except StationError as exc:
            self.message.setText(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
            self.name.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self.message.setText("")
        self.named.emit(name)
        self.accept()
