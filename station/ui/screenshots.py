"""The scripted demo for docs and visual checks: scan a good and a wrong label, open engineer mode, save PNGs."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from station.errors import StationError
from station.ui.main_window import OperatorWindow, ScanSimulator
from station.ui.slot_state import Phase

SIZE = (1280, 800)
"""A common small factory monitor: if the screens read well here, they read well anywhere."""


class ScreenshotError(StationError):
    """The scripted demo did not reach a state it waited for."""


def pump(milliseconds: int) -> None:
    """Let Qt run for a while without spinning the processor."""
    loop = QEventLoop()
    QTimer.singleShot(milliseconds, loop.quit)
    loop.exec()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise ScreenshotError(f"screenshot demo: waited {timeout:.0f} s for {what}; it did not happen")
        pump(20)


def save(widget: QWidget, folder: Path, name: str) -> Path:
    """Grab ``widget`` (with its children) as it is drawn now into ``folder/name``."""
    pump(60)  # let layouts and the chart settle
    path = folder / name
    if not widget.grab().save(str(path)):
        raise ScreenshotError(f"screenshot demo: could not write {path}; check the folder is writable")
    return path


def run_screenshot_script(window: OperatorWindow, folder: Path, *, simulator: ScanSimulator | None,
                          engineer_pin: str | None = None, tray_file: Path | None = None,
                          timeout: float = 60.0) -> list[Path]:
    """Drive ``window`` through the main states and save one PNG per state; returns the files written."""
    if simulator is None:
        raise ScreenshotError("screenshot demo needs simulated devices; run it with --demo")
    folder.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []
    window.resize(*SIZE)
    window.show()
    wait_until(lambda: window.lot_bar.snapshot is not None, timeout, "the lot bar to show the lot")
    shots.append(save(window, folder, "01-ready.png"))

    first, second = window.panels[0], window.panels.get(1)
    window.submit_scan(simulator.next_label(), slot=0)
    wait_until(lambda: first.state.phase is not Phase.IDLE and first.state.step not in (None, "find"), timeout,
               "the first unit to be found")
    wait_until(lambda: first.state.phase is not Phase.RUNNING or (first.state.percent or 0) >= 30, timeout,
               "the flash to make progress")
    shots.append(save(window, folder, "02-running.png"))
    if not window.submit_scan(simulator.wrong_label(), slot=1 if second is not None else None):
        raise ScreenshotError(f"screenshot demo: the wrong label was not taken: {window.scan_message.text()}")
    wait_until(lambda: window.lot_bar.snapshot is not None and window.lot_bar.snapshot.counts.finished >= 1
               and window.lot_bar.snapshot.counts.refused_scans >= 1
               and all(p.state.phase is not Phase.RUNNING for p in window.panels.values()),
               timeout, "the unit to finish and the wrong label to be refused")
    shots.append(save(window, folder, "03-pass-and-refused-scan.png"))

    window.open_engineer_mode()
    if window.pin_dialog is not None:
        dialog = window.pin_dialog
        shots.append(save(dialog, folder, "04-engineer-pin.png"))
        if engineer_pin is None:
            dialog.reject()
            return shots
        dialog.pin.setText(engineer_pin)
        dialog.check()
    wait_until(lambda: window.engineer_dialog is not None and window.engineer_dialog.isVisible(), timeout,
               "engineer mode to open")
    engineer = window.engineer_dialog
    assert engineer is not None
    shots.append(save(engineer, folder, "05-engineer-profile.png"))
    engineer.tabs.setCurrentWidget(engineer.history)
    wait_until(lambda: engineer.history.unit_table.rowCount() > 0, timeout, "the unit history")
    engineer.history.unit_table.selectRow(0)
    wait_until(lambda: engineer.history.step_table.rowCount() > 0, timeout, "the steps of a unit")
    shots.append(save(engineer, folder, "06-engineer-history.png"))
    if tray_file is not None:
        tray = engineer.open_tray_import()
        tray.load_file(tray_file)
        wait_until(lambda: tray.tray is not None, timeout, "the tray preview")
        shots.append(save(tray, folder, "07-tray-preview.png"))
        tray.start_import()
        wait_until(lambda: tray.report is not None, timeout, "the tray import")
        shots.append(save(tray, folder, "08-tray-result.png"))
        tray.close()
    engineer.close()
    QApplication.processEvents()
    return shots
