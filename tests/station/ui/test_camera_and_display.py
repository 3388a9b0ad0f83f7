"""The camera view (no camera here; frames decoded off the GUI thread) and the no-display fallback."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from hardware.identifiers import LabelScan
from hardware.scanner.datamatrix import LabelDecodeResult
from station.ui.app import NO_DISPLAY, display_problem, prepare_display
from station.ui.camera import CameraView

from .conftest import FIXTURES


def test_view_without_a_camera_says_no_camera_found(qtbot: QtBot) -> None:
    view = CameraView(devices=[])
    qtbot.addWidget(view)
    assert not view.available and view.message.text() == "No camera found"


def test_a_frame_with_a_label_is_decoded_off_the_gui_thread_into_one_scan(qtbot: QtBot) -> None:
    manifest = json.loads((FIXTURES / "labels" / "manifest.json").read_text())
    expected = next(f["labels"][0]["serial"] for f in manifest["files"] if f["file"] == "clean_p2.png")
    view = CameraView(devices=[])
    qtbot.addWidget(view)
    threads: list[str] = []
    original = view._decode

    def decode_and_note_thread(image: QImage) -> LabelDecodeResult:
        threads.append(threading.current_thread().name)
        return original(image)

    view._decode = decode_and_note_thread  # type: ignore[method-assign]
    view.start_decoding()
    try:
        with qtbot.waitSignal(view.label_read, timeout=10_000) as read:
            assert view.submit_image(QImage(str(FIXTURES / "labels" / "clean_p2.png")))
    finally:
        view.stop()
    label = read.args[0]
    assert isinstance(label, LabelScan) and label.serial.value == expected
    assert threads == ["camera-label-decoder"]


def test_no_display_falls_back_to_offscreen_with_a_clear_message() -> None:
    environ: dict[str, str] = {}
    assert prepare_display(environ, platform="linux") == NO_DISPLAY
    assert environ["QT_QPA_PLATFORM"] == "offscreen"
    assert "xvfb-run" in NO_DISPLAY and "DISPLAY" in NO_DISPLAY


def test_a_display_or_an_explicit_platform_is_left_alone() -> None:
    with_display = {"DISPLAY": ":0"}
    assert prepare_display(with_display, platform="linux") is None and "QT_QPA_PLATFORM" not in with_display
    explicit = {"QT_QPA_PLATFORM": "xcb"}
    assert prepare_display(explicit, platform="linux") is None and explicit["QT_QPA_PLATFORM"] == "xcb"


def test_run_refuses_an_operator_window_nobody_could_see(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from station.cli import main
    from tests.station.test_cli_inputs import one_sentence, profile_copy

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    profile = profile_copy(tmp_path, tmp_path / "data")
    assert main(["run", "--profile", str(profile), "--simulate", "1"]) == 1
    err = capsys.readouterr().err
    one_sentence(err)
    assert "no display for the operator window" in err and "--headless" in err
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())  # no lot was opened
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, platform="linux") is None  # chosen on purpose
    assert display_problem({"DISPLAY": ":0"}, platform="linux") is None


def test_qt_warnings_that_say_nothing_to_an_operator_are_dropped_and_the_others_kept() -> None:
    # In a process of its own: pytest-qt keeps its own Qt message handler in this one.
    import os
    import subprocess
    import sys

    script = ("from PySide6.QtCore import qWarning\n"
              "from station.ui.app import application\n"
              "application()\n"
              "qWarning('This plugin does not support propagateSizeHints()')\n"
              "qWarning('PulseAudioService: pa_context_connect() failed')\n"
              "qWarning('QPainter::begin: Paint device returned engine == 0')\n")
    root = Path(__file__).resolve().parents[3]
    # QT_DEBUG_PLUGINS makes Qt log while it tears down: the handler must be gone by then, or the process crashes
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=root,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(root),
                               "QT_DEBUG_PLUGINS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "propagateSizeHints" not in done.stderr and "pa_context_connect" not in done.stderr
    assert "QPainter::begin: Paint device returned engine == 0" in done.stderr


def test_a_window_run_stopped_by_sigterm_closes_cleanly(tmp_path: Path) -> None:
    # A service manager or `kill` stops the station: the window closes as from its menu (exit 0, the workbook's
    # helper process ended), not killed mid-write with leaked semaphores.
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.station.test_cli_inputs import profile_copy

    root = Path(__file__).resolve().parents[3]
    data = tmp_path / "data"
    profile = profile_copy(tmp_path, data)
    station = subprocess.Popen(
        [sys.executable, "-m", "station.cli", "run", "--profile", str(profile), "--simulate", "1"], cwd=root,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(root)}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not list(data.rglob("*.xlsx")) and time.monotonic() < deadline and station.poll() is None:
            time.sleep(0.1)  # the window warms the lot's workbook up right after its first paint: it is on screen
        assert list(data.rglob("*.xlsx")), "the window never came up"
        station.send_signal(signal.SIGTERM)
        _, err = station.communicate(timeout=120)
    finally:
        if station.poll() is None:
            station.kill()
    assert station.returncode == 0, err
    assert "Traceback" not in err and "leaked semaphore" not in err
