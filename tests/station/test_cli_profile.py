"""The profile commands: check a profile as the line would load it, and make an engineer PIN hash."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from station.cli import main
from station.config.profile import verify_pin

FIXTURE = Path(__file__).parents[2] / "fixtures" / "profiles" / "boron-line.toml"


def test_check_prints_the_firmware_and_steps(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "check", str(FIXTURE)]) == 0
    out = capsys.readouterr().out
    assert "product version 7, SHA-256 matches the profile" in out
    assert out.rstrip().endswith("OK")


def test_check_refuses_a_profile_whose_firmware_changed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    firmware = tmp_path / "fw.bin"
    firmware.write_bytes((FIXTURE.parent.parent / "firmware" / "boron-user-v8.bin").read_bytes())
    text = FIXTURE.read_text().replace('file = "../firmware/boron-user.bin"', f'file = "{firmware}"')
    profile = tmp_path / "p.toml"
    profile.write_text(text)
    assert main(["profile", "check", str(profile)]) == 1
    assert "the file changed" in capsys.readouterr().err


def test_hash_pin_from_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("2468\n"))
    assert main(["profile", "hash-pin", "--stdin"]) == 0
    assert verify_pin("2468", capsys.readouterr().out.strip())


def test_hash_pin_refuses_a_short_pin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("12\n"))
    assert main(["profile", "hash-pin", "--stdin"]) == 1
    assert "at least 4" in capsys.readouterr().err
