"""The engineer PIN prompt: the PIN is checked on a worker thread (PBKDF2 is slow on purpose) and never stored."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from station.config.profile import OperatorLock
from station.ui.tasks import BackgroundTasks

WRONG_PIN = "Wrong PIN. Try again, or ask an engineer to unlock engineer mode."


class PinDialog(QDialog):
    """Accepts (``accepted``) only when ``lock.check(pin)`` says yes; a wrong PIN shows a message and stays open."""

    def __init__(self, lock: OperatorLock, tasks: BackgroundTasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Engineer mode")
        self.setModal(True)
        self._lock = lock
        self._tasks = tasks
        self.attempts = 0
        prompt = QLabel("Enter the engineer PIN")
        font = QFont(prompt.font())
        font.setPointSize(16)
        prompt.setFont(font)
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setFont(font)
        self.pin.setMinimumHeight(44)
        self.pin.setAccessibleName("Engineer PIN")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b71c1c; font-weight: bold;")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.check)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(prompt)
        layout.addWidget(self.pin)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.resize(420, 200)
        self.pin.setFocus(Qt.FocusReason.OtherFocusReason)

    def check(self) -> None:
        """Check the typed PIN off the GUI thread; the dialog accepts or shows WRONG_PIN when the answer comes."""
        pin = self.pin.text()
        if not pin:
            self.message.setText("Type the PIN first.")
            return
        self.pin.clear()
        self._set_busy(True)
        self.message.setText("Checking…")
        self._tasks.submit(lambda: self._lock.check(pin), self._answer, self._failed)

    def _answer(self, ok: object) -> None:
        self._set_busy(False)
        if ok is True:
            self.message.setText("")
            self.accept()
            return
        self.attempts += 1
        self.message.setText(WRONG_PIN)
        self.pin.setFocus(Qt.FocusReason.OtherFocusReason)

    def _failed(self, error: BaseException) -> None:
        self._set_busy(False)
        self.message.setText(f"The PIN could not be checked ({error}); check the profile's engineer_pin_hash.")

    def _set_busy(self, busy: bool) -> None:
        self.pin.setEnabled(not busy)
        self.buttons.setEnabled(not busy)
