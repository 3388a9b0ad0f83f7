"""The camera view (no camera here; frames decoded off the GUI thread) and the no-display fallback."""

from __future__ import annotations

import json
import threading

from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from hardware.identifiers import LabelScan
from hardware.scanner.datamatrix import LabelDecodeResult
from station.ui.app import NO_DISPLAY, prepare_display
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
