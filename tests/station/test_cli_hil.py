"""``particle-station hil udev``: the rules name Particle's vendor id and tell ModemManager to keep away."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.cli import main


def test_udev_rules_are_printed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hil", "udev"]) == 0
    rules = capsys.readouterr().out
    assert 'ATTRS{idVendor}=="2b04"' in rules
    assert 'ENV{ID_MM_DEVICE_IGNORE}="1"' in rules


def test_udev_rules_install_into_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["hil", "udev", "--install", "--no-reload", "--rules-dir", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    [written] = list(tmp_path.iterdir())
    assert "2b04" in written.read_text()
