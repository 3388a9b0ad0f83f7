"""Start the operator GUI for a line: the Qt application, the display check, Ctrl+C, and the screenshot mode."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEvent, QLoggingCategory, QObject, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from station.ui.main_window import LineFactory, OperatorWindow, ScanSimulator
from station.ui.screenshots import run_screenshot_script
from station.workflow.line import Line

FIRST_PAINT_ENV = "PARTICLE_STATION_EXIT_AFTER_FIRST_PAINT"
"""For start-up benchmarks: when set, print ``first-paint <time.time()>`` to stderr as the window first paints, and
quit (benchmarks/cli_start.py)."""

NO_DISPLAY = (
    "no display: set DISPLAY or run under xvfb-run; the station runs offscreen (nothing is shown) until Ctrl+C. "
    "(The demo can save pictures of its screens instead: particle-station demo --screenshot DIR.)"
)


def prepare_display(environ: MutableMapping[str, str] | None = None, platform: str = sys.platform) -> str | None:
    """Choose Qt's offscreen platform when a Linux PC has no display; returns the message to show, if any.

    Must run before the QApplication exists (importing Qt modules is fine). An explicit QT_QPA_PLATFORM is always
    respected.
    """
    env = os.environ if environ is None else environ
    if not platform.startswith("linux") or env.get("QT_QPA_PLATFORM"):
        return None
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    env["QT_QPA_PLATFORM"] = "offscreen"
    return NO_DISPLAY


def application() -> QApplication:
    """The QApplication (created once), with quiet multimedia logging and a readable base font."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    QLoggingCategory.setFilterRules("qt.multimedia.*=false\nqt.multimedia.ffmpeg=false")
    app = QApplication(sys.argv[:1])
    app.setApplicationName("Particle provisioning station")
    app.setOrganizationName("particle-station")
    font = QFont(app.font())
    font.setPointSize(max(font.pointSize(), 11))
    app.setFont(font)
    return app


def warm_up_workbook(line: Line) -> threading.Thread:
    """Write the lot's workbook once now, on a thread, before any unit runs.

    The line's workbook writer starts its helper process on its first write; starting a process stalls every other
    thread of this one for tens of milliseconds, which the operator would see as a hitch right after the first PASS.
    """
    thread = threading.Thread(target=line.workbook.flush, kwargs={"timeout": 120}, name="workbook-warm-up",
                              daemon=True)
    thread.start()
    return thread


class FirstPaint(QObject):
    """Calls ``then`` once, when the watched widget gets its first paint event (the window is on screen)."""

    def __init__(self, widget: QObject, then: Callable[[], object]) -> None:
        super().__init__(widget)
        self._then = then
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self._then)  # after this paint has finished
        return False


def _report_first_paint_and_quit() -> None:
    print(f"first-paint {time.time():.6f}", file=sys.stderr, flush=True)
    QApplication.quit()


@dataclass(frozen=True)
class GuiExit:
    code: int
    """The exit status for the process."""
    line: Line
    """The line the window ended with: a profile switch in engineer mode replaces the one passed to ``run_gui`` (and
    closes that one). The caller closes it."""


def run_gui(
    line: Line,
    *,
    simulator: ScanSimulator | None = None,
    line_factory: LineFactory | None = None,
    screenshot_dir: Path | None = None,
    engineer_pin: str | None = None,
    tray_file: Path | None = None,
) -> GuiExit:
    """Show the operator window for ``line`` until it closes (or, with ``screenshot_dir``, run the scripted demo,
    save screenshots and return)."""
    message = prepare_display()
    if message:
        print(f"particle-station: {message}", file=sys.stderr)
    app = application()
    warm_up_workbook(line)
    window = OperatorWindow(line, simulator=simulator, line_factory=line_factory)
    try:
        if screenshot_dir is not None:
            saved = run_screenshot_script(window, screenshot_dir, simulator=simulator, engineer_pin=engineer_pin,
                                          tray_file=tray_file)
            for path in saved:
                print(path)
            return GuiExit(0, window.line)
        if os.environ.get(FIRST_PAINT_ENV):
            FirstPaint(window, _report_first_paint_and_quit)
        window.show()
        previous = signal.signal(signal.SIGINT, lambda *_: app.quit())
        wake = QTimer()
        wake.timeout.connect(lambda: None)  # lets Python run the Ctrl+C handler while Qt waits for events
        wake.start(250)
        try:
            code = int(app.exec())
        finally:
            signal.signal(signal.SIGINT, previous)
        return GuiExit(code, window.line)
    finally:
        window.close()
