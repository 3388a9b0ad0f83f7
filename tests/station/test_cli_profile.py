"""The profile commands: check a profile as the line would load it, and make an engineer PIN hash."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloud_client.emulator import EmulatorServer
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


# --- [protection] protect_at_end: the check the lot makes at its start, against the cloud emulator ---------------

PROTECTED = Path(__file__).parents[2] / "fixtures" / "profiles" / "boron-protected.toml"
OWNER, TOKEN = "owner@example.com", "owner-token-0123456789abcdef"


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    monkeypatch.delenv("PARTICLE_CLIENT_ID", raising=False)
    monkeypatch.delenv("PARTICLE_CLIENT_SECRET", raising=False)
    monkeypatch.setenv("PARTICLE_ACCESS_TOKEN", TOKEN)
    with EmulatorServer() as server:
        server.add_owned_product(12345, "boron", OWNER, access_token=TOKEN)
        yield server


def _check_against(server: EmulatorServer, profile: Path = PROTECTED) -> list[str]:
    assert server.base_url is not None
    return ["profile", "check", str(profile), "--cloud-url", server.base_url]


def test_check_of_the_protected_sample_asks_the_cloud_for_device_protection(
    emulator: EmulatorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.set_product_device_protection(12345, "active")
    assert main(_check_against(emulator)) == 0
    out = capsys.readouterr().out
    assert ("Protection  a Protected Device on arrival: rework; each unit is protected at the end: product 12345 has "
            "Device Protection active, its bootloader becomes bootloader 0 version 3100 for Boron") in out
    assert ("GET", "/v1/products/12345", 200) in emulator.request_log
    assert f"Cloud       {emulator.base_url} (--cloud-url; the profile's is https://api.particle.io)" in out
    assert out.rstrip().endswith("OK")


def test_check_refuses_protect_at_end_for_a_product_without_device_protection(
    emulator: EmulatorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_check_against(emulator)) == 1
    captured = capsys.readouterr()
    assert ("product 12345 does not have Device Protection active; ask Particle to enable it, or set "
            "protect_at_end = false") in captured.err
    assert "Traceback" not in captured.err and TOKEN not in captured.err + captured.out
    assert "OK" not in captured.out


def test_check_refuses_protect_at_end_when_the_cloud_is_unreachable(
    emulator: EmulatorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = emulator.base_url
    emulator.stop()
    assert url is not None
    assert main(["profile", "check", str(PROTECTED), "--cloud-url", url]) == 1
    err = capsys.readouterr().err
    assert "the cloud is unreachable, so the product's Device Protection cannot be checked" in err


def test_check_says_protect_at_end_is_unchecked_without_readable_credentials(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("PARTICLE_CLIENT_ID", "PARTICLE_CLIENT_SECRET", "PARTICLE_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert main(["profile", "check", str(PROTECTED)]) == 0
    assert "protect_at_end not checked: the credentials are not readable here" in capsys.readouterr().out


def test_check_without_protect_at_end_asks_no_cloud(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "check", str(FIXTURE)]) == 0
    assert "Protection  a Protected Device on arrival: refuse; units are not protected at the end" in (
        capsys.readouterr().out)


WITH_TESTS = FIXTURE.parent / "boron-with-tests.toml"
FIRMWARE = FIXTURE.parent.parent / "firmware"


def profile_with_tests(tmp_path: Path, test_firmware: str = "boron-test.bin", sha256: str | None = None) -> Path:
    """The example profile with tests, its files named absolutely and its records in ``tmp_path``."""
    import hashlib

    pinned = sha256 or hashlib.sha256((FIRMWARE / test_firmware).read_bytes()).hexdigest()
    lines = []
    for line in WITH_TESTS.read_text().splitlines():
        if line.startswith("log_folder"):
            line = f'log_folder = "{tmp_path / "records"}"'
        elif line.startswith('file = "../firmware/boron-user.bin"'):
            line = f'file = "{FIRMWARE / "boron-user.bin"}"'
        elif line.startswith("firmware = { file = "):
            line = f'firmware = {{ file = "{FIRMWARE / test_firmware}", sha256 = "{pinned}" }}'
        lines.append(line)
    path = tmp_path / "station.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_check_shows_the_test_firmware_and_every_test(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "check", str(profile_with_tests(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert ("Test fw     boron-test.bin: user part 2 version 2 for Boron (platform 13), test firmware "
            "boron-fixture-test version 2, SHA-256 matches the profile") in out
    assert "Tests       11 tests, 1 asking the operator; on failure: stop; tests hash " in out
    # The limits as an engineer writes them, not as OpenHTF's validators print ("'x' is equal to 'True'").
    assert '   1. ready: sends {"op": "is_ready"}; ready: must be true' in out
    assert ('   2. battery: sends {"op": "battery"}; battery_voltage: 3.6 to 4.2 V (marginal: 3.7 or below, 4.1 or '
            'above)' in out)
    assert "; rssi: -105 to -40 dBm (marginal: -95 or below); quality: 10 to 100 % (marginal: 25 or below)" in out
    assert "   7. gpio: sends {\"op\": \"gpio_loopback\"}; failed_pins: must be empty" in out
    assert "hw_version: must equal 7" in out and "label_serial: must equal the serial on the scanned label" in out
    assert "is equal to" not in out and "<= x" not in out
    assert "  11. led: asks 'Is the status LED breathing cyan?'" in out
    assert out.rstrip().endswith("OK")


@pytest.mark.parametrize(("firmware", "sha256", "words"), [
    ("boron-test.bin", "ab" * 32, f"but the profile pins {'ab' * 32}; fix [tests] firmware.sha256 or the file"),
    ("boron-user.bin", None, "is not test firmware (it carries no PSTEST-FW1 manifest)"),
    ("argon-test.bin", None, "cannot go on a Boron"),
])
def test_check_refuses_test_firmware_that_does_not_fit_in_one_sentence(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], firmware: str, sha256: str | None, words: str) -> None:
    assert main(["profile", "check", str(profile_with_tests(tmp_path, firmware, sha256))]) == 1
    captured = capsys.readouterr()
    assert "OK" not in captured.out.splitlines()
    err = captured.err.strip()
    assert words in err, err
    assert "Traceback" not in err and "\n" not in err
