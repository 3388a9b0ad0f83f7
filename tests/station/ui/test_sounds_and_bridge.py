"""Result sounds (generated WAVs, silent fallback offscreen) and the event bridge onto the GUI thread."""

from __future__ import annotations

import threading
import wave
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Slot
from pytestqt.qtbot import QtBot

from station.ui.bridge import LineBridge
from station.ui.sounds import SAMPLE_RATE, TUNES, ResultSounds
from station.workflow.events import EventBus, EventKind, UnitEvent


def test_pass_and_fail_wavs_are_generated_once_into_the_cache_folder(qtbot: QtBot, tmp_path: Path) -> None:
    sounds = ResultSounds(tmp_path / "cache")
    paths = sounds.prepare()
    assert sorted(p.name for p in paths) == ["fail.wav", "pass.wav"]
    for path, name in zip(paths, TUNES, strict=True):
        with wave.open(str(path)) as wav:
            seconds = wav.getnframes() / wav.getframerate()
            assert wav.getframerate() == SAMPLE_RATE and wav.getsampwidth() == 2
        assert abs(seconds - sum(duration for _, duration in TUNES[name])) < 0.01
    stamp = paths[0].stat().st_mtime_ns
    sounds.prepare()
    assert paths[0].stat().st_mtime_ns == stamp


def test_playing_without_an_audio_device_falls_back_to_a_beep(qtbot: QtBot, tmp_path: Path) -> None:
    sounds = ResultSounds(tmp_path / "cache")
    sounds.play_fail()
    assert sounds.last_played == "fail" and sounds.backend in ("beep", "effect")
    assert (tmp_path / "cache" / "fail.wav").exists()


class _Receiver(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.kinds: list[EventKind] = []
        self.on_gui_thread: list[bool] = []

    @Slot(object)
    def take(self, event: UnitEvent) -> None:
        self.kinds.append(event.kind)
        self.on_gui_thread.append(QThread.currentThread() == self.thread())


def test_events_from_a_worker_thread_arrive_in_order_on_the_gui_thread(qtbot: QtBot) -> None:
    bus = EventBus()
    bridge = LineBridge(bus)
    receiver = _Receiver()
    bridge.unit_event.connect(receiver.take)
    kinds = [EventKind.UNIT_STARTED, EventKind.STEP_STARTED, EventKind.STEP_PROGRESS, EventKind.UNIT_FINISHED]
    worker = threading.Thread(target=lambda: [bus.emit(UnitEvent(k, slot=0, unit_key="X")) for k in kinds])
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(receiver.kinds) == len(kinds))
    assert receiver.kinds == kinds and all(receiver.on_gui_thread)


def test_detached_bridge_stops_listening(qtbot: QtBot) -> None:
    bus = EventBus()
    bridge = LineBridge(bus)
    receiver = _Receiver()
    bridge.unit_event.connect(receiver.take)
    bridge.detach()
    bus.emit(UnitEvent(EventKind.NOTICE, slot=None, unit_key=None))  # same thread: a delivery would be immediate
    assert receiver.kinds == []
