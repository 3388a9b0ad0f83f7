"""A PC without a system library the camera or the sounds need (libpulse for Qt Multimedia, libdmtx for label
decoding) still opens the station; the window says what does not work and what to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from station.ui.app import FIRST_PAINT_ENV, unavailable_message
from station.ui.camera import CameraView
from station.ui.multimedia import multimedia_problem
from station.ui.sounds import ResultSounds

from .conftest import ROOT

LIBPULSE_MISSING = "libpulse.so.0: cannot open shared object file: No such file or directory"
LIBPULSE_HINT = "Qt Multimedia needs the libpulse library: sudo apt-get install libpulse0"
LIBDMTX_HINT = "label decoding needs the libdmtx library: sudo apt-get install libdmtx0b"

WITHOUT_LIBPULSE = f"""
import sys

class MissingLibpulse:
    '''Qt Multimedia as it fails to import on a PC without PulseAudio's client library.'''

    def find_spec(self, name, path=None, target=None):
        if name in ("PySide6.QtMultimedia", "PySide6.QtMultimediaWidgets"):
            raise ImportError({LIBPULSE_MISSING!r})
        return None

sys.meta_path.insert(0, MissingLibpulse())
from station.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_without_libpulse_the_demo_window_opens_and_says_camera_and_sounds_are_unavailable(tmp_path: Path) -> None:
    environ = dict(os.environ, QT_QPA_PLATFORM="offscreen", **{FIRST_PAINT_ENV: "1"})
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environ.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_LIBPULSE, "demo", "--timing", "zero", "--no-pin", "--workdir",
         str(tmp_path / "demo")],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stderr.splitlines()
    assert any(line.startswith("first-paint ") for line in lines), done.stderr
    assert f"particle-station: Camera and sounds unavailable: {LIBPULSE_HINT} (the station beeps instead)." in lines
    assert "Traceback" not in done.stderr


def test_a_missing_shared_library_is_named_with_its_package() -> None:
    assert multimedia_problem(ImportError(LIBPULSE_MISSING)) == LIBPULSE_HINT
    unknown = multimedia_problem(ImportError("libfoo.so.3: cannot open shared object file: No such file"))
    assert unknown == "Qt Multimedia needs the libfoo library (libfoo.so.3 is missing)"
    assert multimedia_problem(ImportError("something else")).startswith("Qt Multimedia cannot be loaded")


def test_the_camera_view_says_why_it_is_unavailable(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_multimedia() -> list[object]:
        raise ImportError(LIBPULSE_MISSING)

    monkeypatch.setattr("station.ui.camera.video_inputs", no_multimedia)
    view = CameraView()
    qtbot.addWidget(view)
    assert not view.available and view.unavailable == LIBPULSE_HINT
    assert view.message.text() == f"Camera unavailable: {LIBPULSE_HINT}"


def test_sounds_without_qt_multimedia_beep(qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "PySide6.QtMultimedia", None)  # the import fails, as without libpulse
    sounds = ResultSounds(tmp_path / "sounds")
    assert sounds.unavailable is not None and sounds.unavailable.startswith("Qt Multimedia")
    sounds.play_pass()
    assert sounds.last_played == "pass" and sounds.backend == "beep"


class _MissingLibdmtx:
    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "pylibdmtx" or name.startswith("pylibdmtx."):
            raise ImportError("Unable to find dmtx shared library")
        return None


def test_without_libdmtx_the_camera_says_what_to_install(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in sys.modules if n == "hardware.scanner.datamatrix" or n.split(".")[0] == "pylibdmtx"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_MissingLibdmtx(), *sys.meta_path])
    view = CameraView(devices=[])
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.decode_message) as said:
        view.start_decoding()
    assert not view.running and view.unavailable == LIBDMTX_HINT
    assert said.args == [f"Camera unavailable: {LIBDMTX_HINT}"]
    assert view.message.text() == f"Camera unavailable: {LIBDMTX_HINT}"


def test_one_sentence_names_what_does_not_work() -> None:
    assert unavailable_message(None, None) is None
    assert unavailable_message("X", "X") == "Camera and sounds unavailable: X (the station beeps instead)."
    assert unavailable_message("X", None) == "Camera unavailable: X."
    assert unavailable_message(None, "Y") == "Sounds unavailable: Y (the station beeps instead)."
