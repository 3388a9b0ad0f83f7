"""The demo: its stand-in scanner, and the scripted screenshot mode (in-process and as a command under xvfb-run)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from hardware.identifiers import LabelScan
from hardware.platforms import McuFamily
from hardware.simulated import Timing
from station.commands.demo import (
    DEMO_PIN,
    DEMO_WIFI_PASSWORD_ENV,
    DemoScanner,
    demo_host_timing,
    demo_profile,
    write_demo_tray,
)
from station.config.profile import StationProfile
from station.demo.simulated_line import SimulatedLine, build_simulated_line
from station.records.unit_table import UnitState
from station.ui.main_window import OperatorWindow
from station.ui.screenshots import run_screenshot_script
from station.ui.slot_state import Phase
from station.ui.sounds import ResultSounds
from station.workflow.line import Line
from station.workflow.lot import prepare_lot

from .conftest import ROOT

MIN_VARIANCE = 50.0
"""A real screen (text, panels, colours) varies far more; a blank or single-colour grab is near 0."""


def test_demo_scanner_hands_out_each_unit_once_then_swaps_a_finished_one_for_a_fresh_unit(
        sim: SimulatedLine) -> None:
    scanner = DemoScanner(sim)
    labels = [scanner.next_label() for _ in range(2)]
    assert labels == [device.label for device in sim.devices]
    fresh = scanner.next_label()
    assert len(sim.devices) == 3 and fresh == sim.devices[2].label
    assert not sim.devices[0].plugged and sim.devices[2].plugged


def test_demo_scanner_wrong_label_is_well_formed_but_matches_no_unit(sim: SimulatedLine) -> None:
    label = LabelScan.parse(DemoScanner(sim).wrong_label())
    assert label.serial not in {device.serial for device in sim.devices}


def test_scripted_demo_saves_non_blank_screenshots_of_every_main_state(
        qtbot: QtBot, sim: SimulatedLine, tmp_path: Path, variance: Callable[[QImage], float]) -> None:
    scanner = DemoScanner(sim)
    line = scanner.watch(Line(prepare_lot(demo_profile(sim, pin=None), sim.cloud()), link=sim.link(), operator="demo",
                              find_timeout=1.0).start())
    window = OperatorWindow(line, simulator=scanner, cameras=[])
    qtbot.addWidget(window)
    try:
        shots = run_screenshot_script(window, tmp_path / "shots", simulator=scanner,
                                      tray_file=write_demo_tray(sim, tmp_path / "tray.txt"))
    finally:
        window.close()
        line.close()
    assert [shot.name for shot in shots] == [
        "01-ready.png", "02-running.png", "03-pass-and-refused-scan.png", "05-engineer-profile.png",
        "06-engineer-history.png", "07-tray-preview.png", "08-tray-result.png",
    ]
    for shot in shots:
        image = QImage(str(shot))
        assert image.width() >= 800 and variance(image) > MIN_VARIANCE, shot.name


def test_scripted_demo_stops_at_the_pin_prompt_when_it_does_not_know_the_pin(
        qtbot: QtBot, sim: SimulatedLine, tmp_path: Path) -> None:
    scanner = DemoScanner(sim)
    prepared = prepare_lot(demo_profile(sim, pin=DEMO_PIN), sim.cloud())
    line = scanner.watch(Line(prepared, link=sim.link(), operator="demo", find_timeout=1.0).start())
    window = OperatorWindow(line, simulator=scanner, cameras=[])
    qtbot.addWidget(window)
    try:
        shots = run_screenshot_script(window, tmp_path / "shots", simulator=scanner, engineer_pin=None)
    finally:
        window.close()
        line.close()
    assert shots[-1].name == "04-engineer-pin.png" and window.engineer_dialog is None


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is not installed (apt package xvfb)")
def test_demo_command_screenshot_mode_under_xvfb_writes_non_blank_pngs(
        tmp_path: Path, variance: Callable[[QImage], float]) -> None:
    environ = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    folder = tmp_path / "shots"
    done = subprocess.run(
        ["xvfb-run", "-a", sys.executable, "-m", "station", "demo", "--timing", "zero", "--screenshot", str(folder)],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    pictures = sorted(folder.glob("*.png"))
    assert len(pictures) == 8, done.stdout
    assert all(variance(QImage(str(p))) > MIN_VARIANCE for p in pictures)


@pytest.fixture
def demo_window(qtbot: QtBot, sim: SimulatedLine, tmp_path: Path) -> Iterator[OperatorWindow]:
    scanner = DemoScanner(sim)

    def make_line(profile: StationProfile) -> Line:
        prepared = prepare_lot(profile, sim.cloud())
        return scanner.watch(Line(prepared, link=sim.link(), operator="demo", find_timeout=1.0).start())

    window = OperatorWindow(make_line(sim.profile), simulator=scanner, line_factory=make_line,
                            sounds=ResultSounds(tmp_path / "sounds"), cameras=[])
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.close()
    window.line.close()


def test_f2_scans_the_next_simulated_unit_through_to_pass(qtbot: QtBot, demo_window: OperatorWindow,
                                                         sim: SimulatedLine) -> None:
    qtbot.keyClick(demo_window.scan_field, Qt.Key.Key_F2)
    panel = demo_window.panels[0]
    qtbot.waitUntil(lambda: panel.state.phase is Phase.PASS, timeout=30_000)
    assert panel.state.unit_key == sim.devices[0].serial.value  # type: ignore[union-attr]


def test_shift_f2_scans_a_wrong_label_that_is_refused_not_failed(qtbot: QtBot, demo_window: OperatorWindow) -> None:
    qtbot.keyClick(demo_window.scan_field, Qt.Key.Key_F2, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: "Scan refused" in demo_window.scan_message.text(), timeout=30_000)
    assert "WR0NG" in demo_window.scan_message.text() and "matches no device" in demo_window.scan_message.text()
    assert all(panel.state.phase is Phase.IDLE for panel in demo_window.panels.values())
    qtbot.waitUntil(lambda: demo_window.lot_bar.snapshot is not None
                    and demo_window.lot_bar.snapshot.figures.refused_scans == 1, timeout=10_000)
    assert demo_window.lot_bar.snapshot.figures.units == 0  # type: ignore[union-attr]


def test_choosing_another_profile_in_engineer_mode_restarts_the_line_with_it(
        qtbot: QtBot, demo_window: OperatorWindow, sim: SimulatedLine) -> None:
    text = sim.profile.path.read_text()
    other = sim.profile.path.with_name("one-slot.toml")
    other.write_text(text.replace('name = "Simulated station"', 'name = "One-slot station"')
                     .replace(f"count = {sim.profile.slots.count}", "count = 1"))
    old = demo_window.line
    demo_window.open_engineer_mode()
    qtbot.waitUntil(lambda: demo_window.engineer_dialog is not None)
    panel = demo_window.engineer_dialog.firmware  # type: ignore[union-attr]
    panel.inspect_profile(other)
    qtbot.waitUntil(panel.use_profile.isEnabled)
    qtbot.mouseClick(panel.use_profile, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: demo_window.line is not old, timeout=10_000)
    assert demo_window.line.profile.station_name == "One-slot station"
    assert list(demo_window.panels) == [0]
    assert "One-slot station" in demo_window.windowTitle()


def test_demo_line_of_a_wifi_platform_sets_the_demo_network_and_its_wifi_step_passes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEMO_WIFI_PASSWORD_ENV, "made-up-demo-password")
    sim = build_simulated_line(tmp_path / "p2", platform="p2", devices=1, timing=Timing.zero())
    try:
        profile = demo_profile(sim, pin=None)
        assert profile.wifi is not None and profile.wifi["ssid"] == "DemoFactoryNet"
        with Line(prepare_lot(profile, sim.cloud()), link=sim.link(), operator="demo").start() as line:
            result = line.scan(sim.devices[0].label).result(timeout=60)
            assert result.state is UnitState.PASS, result.reason
            unit = line.journal.unit_table.search(sim.devices[0].device_id.value)[0]
            steps = {step.step: step.status.value for step in line.journal.step_table.of_unit(unit.id)}
        assert steps.get("wifi") == "passed"
    finally:
        sim.close()


def test_demo_profile_of_a_cellular_platform_has_no_wifi_section(sim: SimulatedLine) -> None:
    assert demo_profile(sim, pin=None).wifi is None


def test_demo_host_timing_waits_out_a_realistic_gen2_sector_erase() -> None:
    gen2 = Timing.realistic(McuFamily.STM32F2)
    erase_ms = gen2.erase_seconds(128 * 1024) * 1000
    assert demo_host_timing(gen2).transfer_timeout_ms > erase_ms


def test_demo_line_of_electron_units_passes_with_sim_activation(tmp_path: Path) -> None:
    sim = build_simulated_line(tmp_path / "electron", platform="electron", devices=1, timing=Timing.zero())
    try:
        assert sim.devices[0].device_os == "3.3.1"
        prepared = prepare_lot(demo_profile(sim, pin=None), sim.cloud())
        with Line(prepared, link=sim.link(), operator="demo").start() as line:
            result = line.scan(sim.devices[0].label).result(timeout=60)
            assert result.state is UnitState.PASS, result.reason
            unit = line.journal.unit_table.search(sim.devices[0].device_id.value)[0]
            steps = {step.step: step.status.value for step in line.journal.step_table.of_unit(unit.id)}
        assert steps.get("activate_sim") == "passed"
    finally:
        sim.close()
