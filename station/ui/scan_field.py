"""The scan field: takes keyboard-wedge scans (with or without a terminator) and typed labels ended by Enter."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QLineEdit, QWidget

from hardware.scanner.wedge import RejectedScan, ScannedLabel, WedgeAssembler

_SUBMIT_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab)


class ScanField(QLineEdit):
    """Emits ``submitted(text)`` on Enter or Tab (a scanner's terminator), or when a scanner burst ends without one.

    Key presses also go to a WedgeAssembler (hardware.scanner.wedge) with their arrival time; when it decides a
    burst of keys was a scan that had no terminator, the field submits by itself (a bad code then shows its reason).
    """

    submitted = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self._clock = clock
        self._wedge = WedgeAssembler()
        self._poll = QTimer(self)
        self._poll.setSingleShot(True)
        self._poll.timeout.connect(self._release)
        font = QFont(self.font())
        font.setPointSize(20)
        self.setFont(font)
        self.setMinimumHeight(52)
        self.setPlaceholderText("Scan a label here (or type it and press Enter)")
        self.setClearButtonEnabled(True)
        self.setAccessibleName("Scan field")
        self.window_keys: set[QKeySequence] = set()
        """The window's shortcuts: the field never keeps one of these as its own editing key (Ctrl+E, "end of
        line" under Linux desktops' key bindings, is the window's engineer mode), so they work while it has focus."""

    def event(self, event: QEvent) -> bool:
        # Qt offers a key to the focused widget first (ShortcutOverride); a line edit accepts its editing keys and
        # the window's shortcut never fires. Declining it for the window's keys lets the shortcut run
        # (doc.qt.io/qt-6/qshortcut.html, "ShortcutOverride").
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) and self.window_keys:
            pressed = QKeySequence(event.keyCombination())
            if pressed in self.window_keys:
                event.ignore()
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in _SUBMIT_KEYS and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            self._wedge = WedgeAssembler()  # Enter ends whatever was held; the field's text is what counts
            self._poll.stop()
            self.submit()
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape:
            self.clear()
            event.accept()
            return
        super().keyPressEvent(event)
        text = event.text()
        if len(text) == 1 and text.isprintable():
            self._wedge.char(text, self._clock())
            self._schedule()

    def _schedule(self) -> None:
        deadline = self._wedge.deadline()
        if deadline is not None:
            self._poll.start(max(1, int(1000 * (deadline - self._clock())) + 2))

    def _release(self) -> None:
        events = self._wedge.poll(self._clock())
        if any(isinstance(e, ScannedLabel | RejectedScan) for e in events) and self.text().strip():
            self.submit()
        else:
            self._schedule()

    def submit(self) -> None:
        """Emit the field's text (if any) and clear the field, ready for the next scan."""
        text = self.text().strip()
        self.clear()
        if text:
            self.submitted.emit(text)

    def focusNextPrevChild(self, next: bool) -> bool:
        return False  # Tab is a scanner terminator here, never a focus move
