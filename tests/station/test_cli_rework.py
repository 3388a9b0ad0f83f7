"""``particle-station run --headless --rework LABEL``: an engineer reworks a unit that passed, from a terminal."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hardware.platforms import by_name
from hardware.simulated import SimulatedDevice
from station.cli import main

from .test_cli_inputs import one_sentence, profile_copy

SIMULATE = ["--headless", "--simulate", "1", "--device-timing", "zero", "--lot", "LOT-R"]


def the_unit() -> SimulatedDevice:
    return SimulatedDevice(by_name("boron"), seed="station-0")  # the identity of run --simulate 1's unit


def test_run_rework_reruns_a_passed_unit_and_records_the_rework(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = profile_copy(tmp_path, tmp_path / "data")
    assert main(["run", "--profile", str(profile), *SIMULATE, "--auto-scan"]) == 0
    capsys.readouterr()
    serial = the_unit().serial
    assert serial is not None
    assert main(["run", "--profile", str(profile), *SIMULATE, "--rework", serial.value]) == 0
    out = capsys.readouterr().out
    assert f"PASS   {serial.value}" in out
    db = sqlite3.connect(tmp_path / "data" / "journal.sqlite3")
    try:
        (attempts, state), = db.execute("SELECT attempts, state FROM units WHERE unit_key = ?", (serial.value,))
        steps = [row[0] for row in db.execute("SELECT step FROM steps")]
    finally:
        db.close()
    assert (attempts, state) == (2, "PASS") and "rework" in steps


def test_run_rework_of_a_unit_that_never_passed_says_so_and_fails(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = profile_copy(tmp_path, tmp_path / "data")
    assert main(["run", "--profile", str(profile), *SIMULATE, "--rework", "B40TZZ000000001"]) == 1
    err = capsys.readouterr().err
    one_sentence(err)
    assert "not PASS in lot LOT-R" in err and "nothing to rework" in err


def test_run_rework_needs_headless(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = profile_copy(tmp_path, tmp_path / "data")
    assert main(["run", "--profile", str(profile), "--simulate", "1", "--rework", "B40TZZ000000001"]) == 1
    err = capsys.readouterr().err
    one_sentence(err)
    assert "--rework" in err and "--headless" in err
