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


def test_check_refuses_oauth_client_credentials_for_a_product_owner_claim(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # An OAuth client's product token may not claim a device ("API users are not allowed to call this endpoint").
    monkeypatch.setenv("PARTICLE_CLIENT_ID", "station-client")
    monkeypatch.setenv("PARTICLE_CLIENT_SECRET", "not-a-real-secret-42")
    assert main(["profile", "check", str(FIXTURE)]) == 1
    err = capsys.readouterr().err
    assert 'claim = "product-owner" cannot work with OAuth client credentials' in err
    assert "not-a-real-secret-42" not in err and "Traceback" not in err


def test_check_names_the_kind_of_credentials(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PARTICLE_CLIENT_ID", raising=False)
    monkeypatch.delenv("PARTICLE_CLIENT_SECRET", raising=False)
    monkeypatch.setenv("PARTICLE_ACCESS_TOKEN", "0123456789abcdef0123456789abcdef01234567")
    assert main(["profile", "check", str(FIXTURE)]) == 0
    assert "Credentials access token from env:PARTICLE" in capsys.readouterr().out
