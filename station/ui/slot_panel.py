"""One slot's large panel: serial, device id, current step (or test n of m), progress with time left, the failed
measurement with its limits, and a big PASS or FAIL."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from station.ui.slot_state import Phase, SlotState

# Background, text and accent colours per phase; white on dark green/red keeps > 7:1 contrast.
COLOURS = {
    Phase.IDLE: ("#eceff1", "#263238", "#607d8b"),
    Phase.RUNNING: ("#e3f2fd", "#0d1b2a", "#1565c0"),
    Phase.PASS: ("#1b5e20", "#ffffff", "#a5d6a7"),
    Phase.CLOUD_PENDING: ("#1b5e20", "#ffffff", "#ffe082"),
    Phase.FAIL: ("#b71c1c", "#ffffff", "#ffcdd2"),
    Phase.INTERRUPTED: ("#455a64", "#ffffff", "#cfd8dc"),  # neither tray: no verdict, scan the unit again
}


def _label(point_size: int, *, bold: bool = False, mono: bool = False, wrap: bool = False) -> QLabel:
    label = QLabel()
    font = QFont("DejaVu Sans Mono" if mono else label.font().family())
    if mono:
        font.setStyleHint(QFont.StyleHint.Monospace)
    font.setPointSize(point_size)
    font.setBold(bold)
    label.setFont(font)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
    return label


class SlotPanel(QFrame):
    """Draws a SlotState; ``stop_requested(slot)`` asks the window to stop the running unit."""

    stop_requested = Signal(int)

    def __init__(self, slot: int, parent: QWidget | None = None, *, compact: bool = False) -> None:
        super().__init__(parent)
        self.compact = compact

        def size(large: int, small: int) -> int:
            return small if compact else large

        self.setObjectName(f"slot{slot + 1}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMinimumSize(280 if compact else 420, 300)
        # The grid shares the width equally; a long reason wraps instead of widening its panel.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
        self.state = SlotState(slot)

        self.title = _label(size(13, 12), bold=True)
        self.stop_button = QPushButton(f"Stop  (Ctrl+{slot + 1})" if slot < 9 else "Stop")
        self.stop_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.stop_button.clicked.connect(lambda: self.stop_requested.emit(self.state.slot))
        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addStretch(1)
        header.addWidget(self.stop_button)

        self.serial = _label(size(24, 19), bold=True, mono=True)
        self.device_id = _label(size(15, 11), mono=True)
        self.step = _label(size(18, 15), wrap=True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setMinimumHeight(30)
        self.progress.setFont(_label(13, bold=True).font())
        self.progress.setFormat("%p %")
        self.time_left = _label(size(15, 13))
        progress_row = QVBoxLayout() if compact else QHBoxLayout()
        progress_row.addWidget(self.progress, 3)
        progress_row.addWidget(self.time_left, 2)
        self.cloud = _label(size(14, 12), wrap=True)
        self.tests = _label(size(16, 13), bold=True, wrap=True)
        self.tests.setObjectName("testLine")
        self.verdict = _label(size(60, 44), bold=True)
        self.verdict.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.reason = _label(size(17, 14), wrap=True)
        self.action = _label(size(18, 15), bold=True, wrap=True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 12, 18, 14)
        layout.setSpacing(6)
        layout.addLayout(header)
        layout.addWidget(self.serial)
        layout.addWidget(self.device_id)
        layout.addWidget(self.step)
        layout.addLayout(progress_row)
        layout.addWidget(self.cloud)
        layout.addWidget(self.tests)
        layout.addWidget(self.verdict)
        layout.addWidget(self.reason)
        layout.addWidget(self.action)
        layout.addStretch(1)
        self.show_state(self.state)

    def show_state(self, state: SlotState) -> None:
        phase_changed = state.phase is not self.state.phase or not self.styleSheet()
        self.state = state
        if phase_changed:  # restyling re-polishes every child: only when the colours change, not per progress tick
            self._style(state.phase)
        title = state.title
        if state.phase is Phase.CLOUD_PENDING:
            title += "  ·  cloud work pending (finishes by itself)"
        elif state.resumed and state.phase is Phase.RUNNING:
            title += "  ·  resuming an earlier attempt"
        self.title.setText(title)
        self.serial.setText(state.unit_key or "")
        self.serial.setVisible(state.unit_key is not None)
        prefix = "ID " if self.compact else "Device ID  "
        self.device_id.setText(f"{prefix}{state.device_id}" if state.device_id else
                               (f"{prefix}(reading…)" if state.phase is Phase.RUNNING else ""))
        self.device_id.setVisible(state.phase is not Phase.IDLE)
        self.step.setText(state.step_text)
        self.step.setVisible(bool(state.step_text))
        percent = state.percent
        running = state.phase is Phase.RUNNING
        self.progress.setVisible(running)
        if percent is None:
            self.progress.setRange(0, 0)  # busy indicator: the step reports no progress
        else:
            self.progress.setRange(0, 100)
            self.progress.setValue(percent)
        self.time_left.setText(state.time_left_text)
        self.time_left.setVisible(running)
        self.cloud.setText(state.cloud_text)
        # After a PASS the ticks say nothing new; a compact panel needs the room for the verdict.
        self.cloud.setVisible(bool(state.cloud_text) and (running or (not self.compact and state.phase
                                                                        is not Phase.IDLE)))
        self.tests.setText(state.test_text)
        self.tests.setVisible(bool(state.test_text) and state.phase is not Phase.IDLE)
        self.verdict.setText(state.verdict)
        self.verdict.setVisible(bool(state.verdict))
        self.reason.setText(state.reason)
        self.reason.setVisible(bool(state.reason) and not running)
        self.action.setText(f"Next: {state.action}" if state.action else "")
        self.action.setVisible(bool(state.action) and not running)
        self.stop_button.setVisible(running)
        self.setAccessibleDescription(" ".join(filter(None, (state.title, state.unit_key, state.verdict,
                                                              state.reason, state.action))))

    def _style(self, phase: Phase) -> None:
        background, text, accent = COLOURS[phase]
        self.setStyleSheet(
            f"SlotPanel {{ background: {background}; border: 3px solid {accent}; border-radius: 10px; }}"
            f" QLabel {{ color: {text}; background: transparent; }}"
            f" QProgressBar {{ border: 1px solid {accent}; border-radius: 5px; background: #ffffff; color: #0d1b2a;"
            " text-align: center; }"
            f" QProgressBar::chunk {{ background: {accent}; border-radius: 4px; }}"
            " QPushButton { font-size: 12pt; padding: 4px 12px; }"
        )

    def text(self) -> str:
        """Everything the panel shows, as one string (for tests and screen readers)."""
        labels = (self.title, self.serial, self.device_id, self.step, self.time_left, self.cloud, self.tests,
                  self.verdict, self.reason, self.action)
        return "\n".join(label.text() for label in labels if label.text() and not label.isHidden())
