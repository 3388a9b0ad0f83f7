"""The window's keys work while the scan field has the focus (it always has it), sent as real key events."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from station.ui.main_window import ENGINEER_KEYS, OperatorWindow

from .conftest import ROOT


@pytest.mark.parametrize("key", ENGINEER_KEYS)
def test_engineer_mode_opens_from_the_keyboard_in_the_scan_field(qtbot: QtBot, window: OperatorWindow,
                                                                  key: str) -> None:
    window.activateWindow()
    qtbot.waitActive(window)
    qtbot.waitUntil(window.scan_field.hasFocus)
    window.scan_field.setText("P046")
    window.scan_field.setCursorPosition(0)
    modifiers = Qt.KeyboardModifier.ControlModifier if key.startswith("Ctrl+") else Qt.KeyboardModifier.NoModifier
    qt_key = getattr(Qt.Key, f"Key_{key.removeprefix('Ctrl+')}")
    qtbot.keyClick(window.scan_field, qt_key, modifiers)
    qtbot.waitUntil(lambda: window.engineer_dialog is not None and window.engineer_dialog.isVisible())
    assert window.scan_field.cursorPosition() == 0  # the key opened engineer mode; the field did not take it


@pytest.mark.skipif(os.environ.get("QT_QPA_PLATFORM") == "xcb", reason="already on an X11 display")
@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs xvfb-run (package xvfb)")
def test_engineer_keys_under_x11_key_bindings() -> None:
    """Offscreen Qt has no Linux desktop key bindings (where Ctrl+E is a line edit's "end of line"), so the key test
    runs again on a virtual X11 display."""
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        ["xvfb-run", "-a", sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "from_the_keyboard",
         str(Path(__file__))], env=env, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:]
