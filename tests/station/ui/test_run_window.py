"""``particle-station run`` without --headless: the window takes labels from --scanner PORT and has the Simulate scan
button with --simulate N (driven as an operator would, then closed).

The command runs Qt's event loop to its end (``exec``), after which this process's QApplication no longer delivers
queued signals to later tests; so the test runs in a pytest of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from hardware.simulated import SimulatedDevice
from hardware.simulated.scanner_pty import SimulatedSerialScanner
from station.cli import main
from station.demo.simulated_line import SimulatedLine
from station.ui.main_window import OperatorWindow

from .conftest import ROOT

INNER = "PARTICLE_STATION_RUN_WINDOW_TEST"


def test_run_window_in_a_process_of_its_own() -> None:
    if os.environ.get(INNER):
        pytest.skip("the inner run")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "takes_scanner_labels",
         str(Path(__file__))], env={**os.environ, INNER: "1", "PYTHONPATH": str(ROOT)}, cwd=ROOT,
        capture_output=True, text=True, timeout=240)
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout[-3000:]


@pytest.mark.skipif(not os.environ.get(INNER), reason="runs inside test_run_window_in_a_process_of_its_own")
def test_run_window_takes_scanner_labels_and_simulated_scans(qtbot: QtBot, sim: SimulatedLine,
                                                              tmp_path: Path) -> None:
    second = SimulatedDevice(sim.profile.platform, seed="station-1")  # the identity run --simulate gives unit 2
    seen: dict[str, Any] = {}
    started = time.monotonic()

    with SimulatedSerialScanner(terminator=b"\r") as scanner:
        def drive() -> None:
            windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, OperatorWindow)]
            if not windows or time.monotonic() - started > 60:
                if time.monotonic() - started > 60:
                    QApplication.quit()
                return
            window = windows[0]
            if "simulate" not in seen:
                seen["simulate"] = window.simulate_action.isVisible()
                window.simulate_action.trigger()  # the Simulate scan button (F2): unit 1
                scanner.scan(second.label)  # the hand scanner on the serial port: unit 2
            counts = window.line.counts()
            if counts.passed + counts.failed + counts.waiting_on_cloud >= 2:
                seen["counts"] = counts
                QApplication.quit()

        timer = QTimer()
        timer.timeout.connect(drive)
        timer.start(50)
        code = main(["run", "--profile", str(sim.profile.path), "--simulate", "2", "--device-timing", "zero",
                     "--scanner", scanner.port_path, "--operator", "ann"])
        timer.stop()
    assert seen.get("simulate") is True
    counts = seen.get("counts")
    assert counts is not None, "the window never finished two units"
    assert code == 0
    assert counts.units == 2 and counts.failed == 0
