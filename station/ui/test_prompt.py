"""Operator prompts of the test stage on screen: a window per question with big Yes/No buttons (Y/N, Enter/Escape)
or a number field, a picture when the test has one, and a countdown; and ``QtPrompter``, the test stage's Prompter
that asks through them from the line's worker threads and waits for the answer or the time-out."""

from __future__ import annotations

import contextlib
import math
import queue
import time
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QFont, QKeyEvent, QPixmap
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from hardware.progress import CancelToken
from station.workflow.input_lines import CANCEL_POLL_S

YES_NO = "yes_no"
NUMBER = "number"
IMAGE_HEIGHT = 260
GRACE_S = 0.5
"""The worker waits this much longer than the countdown, so an answer given in the last moment still counts."""

Answer = bool | float | None


@dataclass
class Prompt:
    """One question to one slot; ``answers`` gets exactly one value (None = timed out or closed)."""

    slot: int
    kind: str
    question: str
    image: Path | None
    timeout: float
    answers: queue.Queue[Answer] = field(default_factory=lambda: queue.Queue(maxsize=1))

    def answer(self, value: Answer) -> None:
        with contextlib.suppress(queue.Full):  # answered already (a click raced the time-out)
            self.answers.put_nowait(value)


def _font(points: int, *, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSize(points)
    font.setBold(bold)
    return font


class PromptDialog(QDialog):
    """Asks one question; ``answered`` fires once with True/False, a float, or None (timed out / closed)."""

    answered = Signal(object)

    def __init__(self, prompt: Prompt, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prompt = prompt
        self._done = False
        self.setObjectName(f"prompt{prompt.slot + 1}")
        self.setWindowTitle(f"Slot {prompt.slot + 1}: the test needs you")
        self.setModal(False)
        self.setMinimumWidth(560)
        self.setStyleSheet("QDialog { background: #fff8e1; } QLabel { color: #212121; }")
        slot = QLabel(f"Slot {prompt.slot + 1}  ·  the unit is blinking")
        slot.setFont(_font(14, bold=True))
        self.question = QLabel(prompt.question)
        self.question.setFont(_font(22, bold=True))
        self.question.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(slot)
        layout.addWidget(self.question)
        self.image = QLabel()
        if prompt.image is not None:
            pixmap = QPixmap(str(prompt.image))
            if pixmap.isNull():
                self.image.setText(f"(picture {prompt.image.name} cannot be shown)")
            else:
                self.image.setPixmap(pixmap.scaledToHeight(IMAGE_HEIGHT, Qt.TransformationMode.SmoothTransformation))
            layout.addWidget(self.image, 0, Qt.AlignmentFlag.AlignCenter)
        self.number = QLineEdit()
        self.number.setFont(_font(24))
        self.number.setPlaceholderText("type the number, then Enter")
        self.hint = QLabel("")
        self.hint.setFont(_font(13, bold=True))
        self.hint.setStyleSheet("color: #b71c1c;")
        self.yes = self._button("Yes  (Y / Enter)" if prompt.kind == YES_NO else "OK  (Enter)", "#1b5e20")
        self.no = self._button("No  (N / Esc)", "#b71c1c")
        buttons = QHBoxLayout()
        buttons.addWidget(self.yes)
        buttons.addWidget(self.no)
        if prompt.kind == NUMBER:
            layout.addWidget(self.number)
            self.no.hide()
            self.yes.clicked.connect(self._submit_number)
            self.number.returnPressed.connect(self._submit_number)
        else:
            self.number.hide()
            self.yes.clicked.connect(lambda: self.finish(True))
            self.no.clicked.connect(lambda: self.finish(False))
        layout.addWidget(self.hint)
        layout.addLayout(buttons)
        self.countdown = QLabel("")
        self.countdown.setFont(_font(13))
        layout.addWidget(self.countdown)
        self._left = max(0, math.ceil(prompt.timeout))
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        self._show_left()
        self._timer.start()

    def _button(self, text: str, colour: str) -> QPushButton:
        button = QPushButton(text)
        button.setFont(_font(26, bold=True))
        button.setMinimumHeight(110)
        button.setAutoDefault(False)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setStyleSheet(f"QPushButton {{ background: {colour}; color: white; border-radius: 12px; }}")
        return button

    def showEvent(self, event: object) -> None:
        super().showEvent(event)  # type: ignore[arg-type]
        self.activateWindow()
        if self.prompt.kind == NUMBER:
            self.number.setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if self.prompt.kind == YES_NO:
            if key in (Qt.Key.Key_Y, Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.finish(True)
                return
            if key in (Qt.Key.Key_N, Qt.Key.Key_Escape):
                self.finish(False)
                return
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._submit_number()
            return
        elif key == Qt.Key.Key_Escape:
            self.finish(None)
            return
        super().keyPressEvent(event)

    def _submit_number(self) -> None:
        text = self.number.text().strip().replace(",", ".")
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            self.hint.setText(f"{text!r} is not a number: type a number such as 3.3, then press Enter."
                              if text else "Type a number, then press Enter.")
            return
        self.finish(value)

    def _tick(self) -> None:
        self._left -= 1
        if self._left <= 0:
            self.finish(None)
            return
        self._show_left()

    def _show_left(self) -> None:
        self.countdown.setText(f"Answer within {self._left} s; with no answer the test fails.")

    def finish(self, value: Answer) -> None:
        """Answer (once) and close."""
        if self._done:
            return
        self._done = True
        self._timer.stop()
        self.answered.emit(value)
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._done:  # closed with the window's X: no answer
            self._done = True
            self._timer.stop()
            self.answered.emit(None)
        super().closeEvent(event)


class QtPrompter(QObject):
    """The test stage's Prompter on screen. Called on the line's worker threads: it shows the question on the GUI
    thread and waits for the answer, at most the prompt's time-out (then None, and the window closes)."""

    _show = Signal(object)
    _withdraw = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._parent = parent
        self.dialogs: dict[int, PromptDialog] = {}
        """The open prompt of each slot (0-based)."""
        self._closed = False
        self._show.connect(self._open, Qt.ConnectionType.QueuedConnection)
        self._withdraw.connect(self._close, Qt.ConnectionType.QueuedConnection)

    def ask_yes_no(self, slot: int, question: str, image: Path | None, timeout: float,
                   cancel: CancelToken | None = None) -> bool | None:
        answer = self._ask(Prompt(slot, YES_NO, question, image, timeout), cancel)
        return answer if isinstance(answer, bool) else None

    def ask_number(self, slot: int, question: str, image: Path | None, timeout: float,
                   cancel: CancelToken | None = None) -> float | None:
        answer = self._ask(Prompt(slot, NUMBER, question, image, timeout), cancel)
        return float(answer) if isinstance(answer, int | float) and not isinstance(answer, bool) else None

    def close(self) -> None:
        """No more prompts (the window is closing): open ones answer None."""
        self._closed = True
        for dialog in list(self.dialogs.values()):
            dialog.finish(None)

    def _ask(self, prompt: Prompt, cancel: CancelToken | None = None) -> Answer:
        if self._closed:
            return None
        if QThread.currentThread() is self.thread():
            raise RuntimeError("QtPrompter asks from worker threads only; the GUI thread would wait on itself")
        try:
            self._show.emit(prompt)
        except RuntimeError:  # the Qt side is gone
            return None
        end = time.monotonic() + prompt.timeout + GRACE_S
        while (left := end - time.monotonic()) > 0 and not (cancel is not None and cancel.cancelled):
            try:
                return prompt.answers.get(timeout=left if cancel is None else min(left, CANCEL_POLL_S))
            except queue.Empty:
                continue
        prompt.answer(None)  # timed out, or the unit was stopped: the window closes
        with contextlib.suppress(RuntimeError):  # the Qt side is gone
            self._withdraw.emit(prompt)
        return prompt.answers.get_nowait()  # an answer given just before counts, else None

    def _open(self, prompt: Prompt) -> None:
        if self._closed:
            prompt.answer(None)
            return
        old = self.dialogs.get(prompt.slot)
        if old is not None:
            old.finish(None)
        dialog = PromptDialog(prompt, self._parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.answered.connect(prompt.answer)
        dialog.finished.connect(lambda _result, slot=prompt.slot, d=dialog: self._forget(slot, d))
        dialog.answered.connect(lambda _value, slot=prompt.slot, d=dialog: self._forget(slot, d))
        self.dialogs[prompt.slot] = dialog
        dialog.show()
        dialog.raise_()

    def _close(self, prompt: Prompt) -> None:
        dialog = self.dialogs.get(prompt.slot)
        if dialog is not None and dialog.prompt is prompt:
            dialog.finish(None)

    def _forget(self, slot: int, dialog: PromptDialog) -> None:
        if self.dialogs.get(slot) is dialog:
            del self.dialogs[slot]
