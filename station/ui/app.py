"""Start the operator GUI for a line: the Qt application, the display check, Ctrl+C, and the screenshot mode.

The window shows first; what the operator does not need to see it (Qt Multimedia for the camera and the sounds, the
workbook's helper process) starts right after its first paint (``finish_start``).
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QEvent,
    QLoggingCategory,
    QMessageLogContext,
    QObject,
    QTimer,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from station.ui.display import lacks_display
from station.ui.main_window import LineFactory, OperatorWindow, ScanSimulator
from station.ui.sounds import ResultSounds
from station.workflow.line import Line

if TYPE_CHECKING:
    from hardware.scanner.serial_scanner import SerialScanner

FIRST_PAINT_ENV = "PARTICLE_STATION_EXIT_AFTER_FIRST_PAINT"
"""For start-up benchmarks: when set, print ``first-paint <time.time()> cpu <time.process_time()>`` to stderr once the
window has first painted, then quit (after ``finish_start``; benchmarks/cli_start.py)."""

FINISH_START_LATEST_MS = 3000
"""``finish_start`` runs this long after the window is shown at the latest, should it not paint by then."""

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
    if not lacks_display(env, platform):
        return None
    env["QT_QPA_PLATFORM"] = "offscreen"
    return NO_DISPLAY


def display_problem(environ: Mapping[str, str] | None = None, platform: str = sys.platform) -> str | None:
    """Why the operator window of ``run`` could not be seen (a Linux PC with no display and no platform chosen);
    None when it can. ``run`` refuses to start then: an offscreen window would wait for scans nobody can make."""
    if not lacks_display(environ, platform):
        return None
    return ("no display for the operator window: set DISPLAY (or run under xvfb-run -a), or run the line in this "
            "terminal with --headless")


HARMLESS_QT_MESSAGES = (
    "This plugin does not support propagateSizeHints()",  # the offscreen platform (screenshots, no display)
    "pa_context_connect() failed",  # Qt Multimedia on a PC without a sound server: sounds.py says so in one line
)
"""Qt warnings that say nothing to an operator; every other Qt message still reaches stderr."""


def _quiet_qt_messages(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    if any(harmless in message for harmless in HARMLESS_QT_MESSAGES):
        return
    print(message, file=sys.stderr)


def application() -> QApplication:
    """The QApplication (created once), with quiet multimedia logging and a readable base font."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    QLoggingCategory.setFilterRules("qt.multimedia.*=false\nqt.multimedia.ffmpeg=false")
    qInstallMessageHandler(_quiet_qt_messages)
    # Uninstalled before Python shuts down: a Qt message logged during teardown (QT_DEBUG_PLUGINS=1 does) would call
    # into a finalised interpreter and crash the process at exit.
    atexit.register(qInstallMessageHandler, None)
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


def finish_start(window: OperatorWindow) -> None:
    """What waits until the window is on screen: look for cameras and an audio output (Qt Multimedia loads here),
    say which of them cannot work and why, and warm up the workbook writer."""
    camera, sounds = window.camera, window.sounds
    camera.find_cameras()
    window.camera_action.setEnabled(camera.available)
    window.camera_action.setToolTip("" if camera.available else camera.message.text())
    sounds.open_audio()
    problem = unavailable_message(camera.unavailable, sounds.unavailable)
    if problem is not None:
        print(f"particle-station: {problem}", file=sys.stderr)
        window.show_message(problem, error=True)
    warm_up_workbook(window.line)


def unavailable_message(camera: str | None, sounds: str | None) -> str | None:
    """One sentence on what does not work (the camera, the sounds) and why; None when both work."""
    if camera is not None and camera == sounds:
        return f"Camera and sounds unavailable: {camera} (the station beeps instead)."
    parts = []
    if camera is not None:
        parts.append(f"Camera unavailable: {camera}.")
    if sounds is not None:
        parts.append(f"Sounds unavailable: {sounds} (the station beeps instead).")
    return " ".join(parts) or None


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
    scanner: SerialScanner | None = None,
    ask_operator: bool = False,
) -> GuiExit:
    """Show the operator window for ``line`` until it closes (or, with ``screenshot_dir``, run the scripted demo,
    save screenshots and return). ``scanner``: a serial barcode scanner whose labels the window takes as scans.
    ``ask_operator``: the window asks the operator's name before it takes a scan."""
    message = prepare_display()
    if message:
        print(f"particle-station: {message}", file=sys.stderr)
    app = application()
    window = OperatorWindow(line, simulator=simulator, line_factory=line_factory, cameras=[],
                            sounds=ResultSounds(open_audio=False), ask_operator=ask_operator)
    feed = window.attach_scanner(scanner) if scanner is not None else None
    try:
        if screenshot_dir is not None:
            from station.ui.screenshots import run_screenshot_script

            finish_start(window)
            saved = run_screenshot_script(window, screenshot_dir, simulator=simulator, engineer_pin=engineer_pin,
                                          tray_file=tray_file)
            for path in saved:
                print(path)
            return GuiExit(0, window.line)
        _finish_after_first_paint(window, report=bool(os.environ.get(FIRST_PAINT_ENV)))
        window.show()
        # Ctrl+C, and a SIGTERM (a service manager, `kill`): the window closes as from its menu, the line shuts
        # down cleanly (the workbook's helper process too) instead of dying mid-write.
        previous = signal.signal(signal.SIGINT, lambda *_: app.quit())
        previous_term = signal.signal(signal.SIGTERM, lambda *_: app.quit())
        wake = QTimer()
        wake.timeout.connect(lambda: None)  # lets Python run the Ctrl+C handler while Qt waits for events
        wake.start(250)
        try:
            code = int(app.exec())
        finally:
            signal.signal(signal.SIGINT, previous)
            signal.signal(signal.SIGTERM, previous_term)
        return GuiExit(code, window.line)
    finally:
        if feed is not None:
            feed.stop()
        window.close()


def _finish_after_first_paint(window: OperatorWindow, *, report: bool) -> None:
    """Run ``finish_start`` once, right after the window's first paint, or FINISH_START_LATEST_MS after it is shown
    should it not paint by then (a window on a locked screen)."""
    done = False

    def finish(painted: bool) -> None:
        nonlocal done
        if done:
            return
        done = True
        if report and painted:  # FIRST_PAINT_ENV: when the window is on screen, for benchmarks/cli_start.py
            print(f"first-paint {time.time():.6f} cpu {time.process_time():.3f}", file=sys.stderr, flush=True)
        finish_start(window)
        if report:
            QApplication.quit()

    FirstPaint(window, lambda: finish(True))
    QTimer.singleShot(FINISH_START_LATEST_MS, window, lambda: finish(False))
