"""``[operator] ask_name``: a headless run needs ``--operator NAME`` (the window asks instead), and every unit
records the name given; ``profile check`` reads the setting."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from station.cli import main
from station.config.profile_loader import load_profile

from .test_cli_inputs import one_sentence, profile_copy

SIMULATE = ["--headless", "--simulate", "1", "--device-timing", "zero", "--auto-scan"]


def asking_profile(tmp_path: Path, value: str = "true") -> Path:
    path = profile_copy(tmp_path, tmp_path / "data")
    text = path.read_text()
    assert "\n[operator]\n" in text
    path.write_text(text.replace("\n[operator]\n", f"\n[operator]\nask_name = {value}\n"))
    return path


def test_a_headless_run_of_a_profile_that_asks_the_name_needs_operator(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = asking_profile(tmp_path)
    assert load_profile(profile).operator.ask_name
    assert main(["run", "--profile", str(profile), *SIMULATE]) == 1
    err = capsys.readouterr().err
    one_sentence(err)
    assert "--operator NAME" in err and not (tmp_path / "data" / "journal.sqlite3").exists()


def test_the_operator_given_is_recorded_on_every_unit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = asking_profile(tmp_path)
    assert main(["run", "--profile", str(profile), *SIMULATE, "--operator", "Maria Lopez"]) == 0
    db = sqlite3.connect(tmp_path / "data" / "journal.sqlite3")
    try:
        operators = [row[0] for row in db.execute("SELECT operator FROM units")]
    finally:
        db.close()
    assert operators == ["Maria Lopez"]


def test_profile_check_refuses_an_ask_name_that_is_not_true_or_false(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = asking_profile(tmp_path, '"yes"')
    assert main(["profile", "check", str(profile)]) == 1
    err = capsys.readouterr().err
    one_sentence(err)
    assert "ask_name" in err and "true or false" in err
