"""A real simulated line (emulated cloud over sockets, simulated devices over pyusb, zero device timing) under a
real operator window, plus small helpers for the GUI tests. Qt runs offscreen (tests/conftest.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from hardware.simulated import Timing
from station.config.profile import OperatorLock, hash_pin
from station.demo.simulated_line import SimulatedLine, build_simulated_line
from station.ui.main_window import OperatorWindow
from station.ui.sounds import ResultSounds
from station.workflow.line import Line
from station.workflow.lot import prepare_lot

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "fixtures"
ENGINEER_PIN = "2468"


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimulatedLine]:
    line = build_simulated_line(tmp_path / "sim", platform="boron", devices=2, timing=Timing.zero())
    try:
        yield line
    finally:
        line.close()


def start_line(sim: SimulatedLine, *, pin: str | None = None) -> Line:
    profile = sim.profile
    if pin is not None:  # few PBKDF2 rounds: the tests check the lock, not its cost
        profile = dataclasses.replace(profile, operator=OperatorLock(hash_pin(pin, iterations=1000)))
    return Line(prepare_lot(profile, sim.cloud(max_retries=1)), link=sim.link(), operator="ann", find_timeout=1.0,
                outbox_poll=0.05, outbox_base_delay=0.05, workbook_interval=0.2).start()


@pytest.fixture
def line(sim: SimulatedLine) -> Iterator[Line]:
    running = start_line(sim)
    try:
        yield running
    finally:
        running.close()


@pytest.fixture
def locked_line(sim: SimulatedLine) -> Iterator[Line]:
    running = start_line(sim, pin=ENGINEER_PIN)
    try:
        yield running
    finally:
        running.close()


@pytest.fixture
def opened_urls() -> list[QUrl]:
    return []


@pytest.fixture
def make_window(qtbot: QtBot, tmp_path: Path, opened_urls: list[QUrl]) -> Callable[[Line], OperatorWindow]:
    def make(line: Line) -> OperatorWindow:
        def record(url: QUrl) -> bool:
            opened_urls.append(url)
            return True

        window = OperatorWindow(line, sounds=ResultSounds(tmp_path / "sounds"), cameras=[], open_url=record)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        qtbot.waitUntil(lambda: window.lot_bar.snapshot is not None)
        return window

    return make


@pytest.fixture
def window(make_window: Callable[[Line], OperatorWindow], line: Line) -> OperatorWindow:
    return make_window(line)


def gray_variance(image: QImage, samples: int = 80) -> float:
    """Variance of the grey level over a grid of pixels: about 0 for a blank (single-colour) picture."""
    width, height = image.width(), image.height()
    values = []
    for row in range(samples):
        for column in range(samples):
            colour = image.pixelColor(column * (width - 1) // (samples - 1), row * (height - 1) // (samples - 1))
            values.append(0.299 * colour.red() + 0.587 * colour.green() + 0.114 * colour.blue())
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / len(values)


@pytest.fixture
def variance() -> Callable[[QImage], float]:
    return gray_variance
