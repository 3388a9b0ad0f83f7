"""PASS and FAIL sounds: small WAV files generated at first use into a cache folder, played with QSoundEffect.

When no audio output exists (a headless test, offscreen, a PC without speakers, or Qt Multimedia cannot load because
a system library such as libpulse is missing) the sound falls back to ``QApplication.beep()``, which is silent
offscreen; playing never raises.
"""

from __future__ import annotations

import logging
import math
import struct
import wave
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from platformdirs import user_cache_dir
from PySide6.QtCore import QObject, QUrl
from PySide6.QtWidgets import QApplication

from station.files import write_atomically
from station.ui.multimedia import multimedia_problem

if TYPE_CHECKING:
    from PySide6.QtMultimedia import QSoundEffect

log = logging.getLogger(__name__)

SAMPLE_RATE = 22_050
VOLUME = 0.5

# (frequency Hz, seconds) per note: a rising two-note chime for PASS, a low double buzz for FAIL.
TUNES: dict[str, tuple[tuple[float, float], ...]] = {
    "pass": ((880.0, 0.12), (1318.5, 0.18)),
    "fail": ((196.0, 0.22), (0.0, 0.08), (196.0, 0.32)),
}


def tone_samples(notes: tuple[tuple[float, float], ...], *, rate: int = SAMPLE_RATE) -> bytes:
    """16-bit mono PCM for the notes; FAIL's low notes get odd harmonics so small speakers can play them."""
    frames = bytearray()
    for frequency, seconds in notes:
        count = int(rate * seconds)
        fade = max(1, int(rate * 0.01))  # 10 ms ramps: no clicks at note edges
        for n in range(count):
            if frequency <= 0:
                value = 0.0
            else:
                phase = 2 * math.pi * frequency * n / rate
                value = math.sin(phase)
                if frequency < 400:
                    value = 0.7 * value + 0.2 * math.sin(3 * phase) + 0.1 * math.sin(5 * phase)
            envelope = min(1.0, n / fade, (count - n) / fade)
            frames += struct.pack("<h", int(32767 * VOLUME * envelope * value))
    return bytes(frames)


def write_tune(path: Path, name: str) -> Path:
    """Write the tune ``name`` as a WAV file (atomically) and return its path."""

    def write(raw: BinaryIO) -> None:
        with wave.open(raw, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(SAMPLE_RATE)
            out.writeframes(tone_samples(TUNES[name]))

    write_atomically(path, write)
    return path


def default_cache_dir() -> Path:
    return Path(user_cache_dir("particle-station")) / "sounds"


class ResultSounds(QObject):
    """Plays the PASS or FAIL sound; ``last_played`` and ``backend`` say what happened (for tests and logs)."""

    def __init__(self, cache_dir: Path | None = None, parent: QObject | None = None, *, enabled: bool = True,
                 open_audio: bool = True) -> None:
        super().__init__(parent)
        self.cache_dir = cache_dir or default_cache_dir()
        self.enabled = enabled
        self.last_played: str | None = None
        self.backend: str | None = None
        """``effect`` (QSoundEffect), ``beep`` (no audio output) or None before the first sound."""
        self.has_audio_output = False
        self.unavailable: str | None = None
        """Why sounds cannot play here (Qt Multimedia cannot load), or None."""
        self._effects: dict[str, QSoundEffect] = {}
        if enabled and open_audio:
            self.open_audio()

    def open_audio(self) -> None:
        """Load Qt Multimedia, look for an audio output and prepare the effects (until then, and without an output,
        the sounds are beeps).

        Call it on the GUI thread before the line gets busy: Qt Multimedia's first use loads audio plugins, and doing
        that mid-run, while a worker thread loads a Python extension, can deadlock on the dynamic loader's lock. The
        constructor calls it unless ``open_audio=False`` (the station window's start defers it until after the first
        paint).
        """
        if not self.enabled or self.has_audio_output or self.unavailable is not None:
            return
        try:
            from PySide6.QtMultimedia import QMediaDevices
        except ImportError as exc:
            self.unavailable = multimedia_problem(exc)
            log.warning("sounds unavailable: %s; the station will beep instead", self.unavailable)
            return
        self.has_audio_output = bool(QMediaDevices.audioOutputs())
        if self.has_audio_output:
            try:
                for name in TUNES:
                    self._effect(name, self.wav_path(name))
            except OSError as exc:
                log.warning("cannot write the sounds to %s (%s); the station will beep instead", self.cache_dir, exc)

    def play_pass(self) -> None:
        self.play("pass")

    def play_fail(self) -> None:
        self.play("fail")

    def play(self, name: str) -> None:
        if not self.enabled:
            return
        self.last_played = name
        try:
            effect = self._effect(name, self.wav_path(name))
        except OSError as exc:  # a read-only cache folder must not stop the line
            log.warning("cannot write the %s sound to %s (%s); beeping instead", name, self.cache_dir, exc)
            effect = None
        if effect is None:
            self.backend = "beep"
            QApplication.beep()
            return
        self.backend = "effect"
        effect.play()

    def wav_path(self, name: str) -> Path:
        """The tune's WAV file, generated on first use."""
        path = self.cache_dir / f"{name}.wav"
        if not path.exists():
            write_tune(path, name)
        return path

    def prepare(self) -> list[Path]:
        """Generate every tune's WAV file now (call from a worker thread at start-up)."""
        return [self.wav_path(name) for name in TUNES]

    def _effect(self, name: str, path: Path) -> QSoundEffect | None:
        if name in self._effects:
            return self._effects[name]
        if not self.has_audio_output:
            return None
        from PySide6.QtMultimedia import QSoundEffect

        effect = QSoundEffect(self)
        effect.setSource(QUrl.fromLocalFile(str(path)))
        effect.setVolume(0.8)
        self._effects[name] = effect
        return effect
