"""``particle-station protection status|disable|enable`` with --simulate: simulated devices over pyusb, the cloud
emulator over sockets (in-process, or started separately and named by a profile)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloud_client.emulator import EmulatorServer
from hardware.simulated import SimulatedDevice
from station.cli import main

FIXTURE = Path(__file__).parents[2] / "fixtures" / "profiles" / "boron-line.toml"
FIRMWARE = Path(__file__).parents[2] / "fixtures" / "firmware" / "boron-user.bin"
LIMITS = "A Protected Device stays in Service Mode for a total of 20 reboots or 24 hours."


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["protection", *args])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    document = json.loads(out)
    assert isinstance(document, dict)
    return document


@pytest.mark.parametrize("mode", ["normal", "dfu"])
@pytest.mark.parametrize(("state", "shown"), [("open", "Open Device"), ("protected", "Protected Device"),
                                               ("service", "Protected Device (Service Mode)")])
def test_status_reads_each_state_in_each_mode(capsys: pytest.CaptureFixture[str], state: str, shown: str,
                                              mode: str) -> None:
    code, out, _ = run(capsys, "status", "--simulate", f"boron:{state}:{mode}", "--product", "4242")
    assert code == 0
    first = out.splitlines()[0]
    assert first.startswith("[e00fce68") and first.endswith(f"] (Product 4242): {shown}")


def test_status_json_names_the_state(capsys: pytest.CaptureFixture[str]) -> None:
    document = run_json(capsys, "status", "--simulate", "boron:service")
    assert (document["state"], document["display"], document["product_id"]) == (
        "service", "Protected Device (Service Mode)", None)


@pytest.mark.parametrize("mode", ["normal", "dfu"])
def test_disable_puts_a_protected_device_in_service_mode(capsys: pytest.CaptureFixture[str], mode: str) -> None:
    code, out, err = run(capsys, "disable", "--simulate", f"boron:protected:{mode}")
    assert code == 0, err
    assert out.strip().endswith(f"is now in Service Mode. {LIMITS}")


def test_disable_json_shows_before_and_after(capsys: pytest.CaptureFixture[str]) -> None:
    document = run_json(capsys, "disable", "--simulate", "boron:protected")
    assert (document["before"], document["state"], document["entered"]) == ("protected", "service", True)


def test_disable_on_an_open_device_says_it_is_not_protected(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "disable", "--simulate", "boron")
    assert code == 0
    assert out.strip().endswith("is not a Protected Device.")


@pytest.mark.parametrize("mode", ["normal", "dfu"])
def test_enable_returns_service_mode_to_protected(capsys: pytest.CaptureFixture[str], mode: str) -> None:
    document = run_json(capsys, "enable", "--simulate", f"boron:service:{mode}")
    assert (document["before"], document["state"]) == ("service", "protected")
    assert str(document["message"]).endswith("is now a Protected Device.")


def test_enable_on_a_protected_device_says_it_already_is(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "enable", "--simulate", "boron:protected")
    assert code == 0
    assert out.strip().endswith("is already a Protected Device.")


def twin_bootloader(folder: Path) -> Path:
    """The bootloader of the device ``--simulate boron`` makes (same seed, same Device OS): the file an engineer
    would download for that Device OS."""
    twin = SimulatedDevice("boron", seed="particle-station-0-boron")
    record = next(m for m in twin.modules if m.function.name == "BOOTLOADER" and m.index == 0)
    path = folder / "boron-bootloader@6.2.0.bin"
    path.write_bytes(twin.read_flash(record.start, record.size))
    return path


@pytest.mark.parametrize("mode", ["normal", "dfu"])
def test_enable_protects_an_open_device_with_its_bootloader(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                            mode: str) -> None:
    document = run_json(capsys, "enable", "--simulate", f"boron:open:{mode}", "--file", str(twin_bootloader(tmp_path)))
    assert (document["before"], document["state"]) == ("open", "protected")


def test_enable_refuses_a_file_that_is_not_a_bootloader(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "enable", "--simulate", "boron", "--file", str(FIRMWARE))
    assert code == 1
    assert "not a bootloader" in err and "Traceback" not in err


def test_enable_on_an_open_device_says_what_is_needed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "enable", "--simulate", "boron")
    assert code == 1 and out == ""
    assert "is an Open Device" in err and "--file BOOTLOADER.bin" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("spec", ["boron:wat", "boron:protected:usb", "nosuch"])
def test_a_bad_simulate_spec_is_one_sentence(capsys: pytest.CaptureFixture[str], spec: str) -> None:
    code, _, err = run(capsys, "status", "--simulate", spec)
    assert code == 1
    assert err.startswith("particle-station: error:") and err.count("\n") == 1
    assert "Traceback" not in err


def test_a_gen2_device_has_no_device_protection(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "status", "--simulate", "electron")
    assert code == 1
    assert "Device Protection is not supported on this device" in err


def test_cloud_url_without_a_profile_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "disable", "--simulate", "boron:protected", "--cloud-url", "http://127.0.0.1:1")
    assert code == 1
    assert "--cloud-url needs --profile" in err


def test_status_shows_the_profiles_product(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    monkeypatch.setenv("PARTICLE_ACCESS_TOKEN", "0123456789abcdef0123456789abcdef01234567")
    code, out, err = run(capsys, "status", "--simulate", "boron:protected", "--profile", str(profile_in(tmp_path)))
    assert code == 0, err
    assert "(Product 12345): Protected Device" in out


def profile_in(folder: Path) -> Path:
    """The example Boron profile, with its firmware found from ``folder`` and its log folder inside it."""
    firmware = (FIXTURE.parent / "../firmware/boron-user.bin").resolve()
    text = FIXTURE.read_text().replace('file = "../firmware/boron-user.bin"', f'file = "{firmware}"')
    text = text.replace('log_folder = "../../station-data/boron-line"', f'log_folder = "{folder / "logs"}"')
    profile = folder / "line.toml"
    profile.write_text(text)
    return profile


@pytest.fixture
def separate_cloud() -> Iterator[EmulatorServer]:
    with EmulatorServer() as emulator:
        yield emulator


def test_disable_with_a_profile_uses_a_separately_started_emulator(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    separate_cloud: EmulatorServer,
) -> None:
    # The emulator knows every simulated device's public key by the simulated world's key rule: registering the
    # device (as Particle's factory does) is all it needs.
    device_id = str(run_json(capsys, "status", "--simulate", "boron:protected")["id"])
    owned = separate_cloud.add_owned_product(12345, "boron", "factory@example.com", device_protection="active")
    separate_cloud.add_device(device_id, "boron", product_id=12345, protected=True)
    profile = profile_in(tmp_path)
    monkeypatch.delenv("PARTICLE_CLIENT_ID", raising=False)
    monkeypatch.delenv("PARTICLE_CLIENT_SECRET", raising=False)
    monkeypatch.setenv("PARTICLE_ACCESS_TOKEN", owned.access_token)
    assert separate_cloud.base_url is not None
    document = run_json(capsys, "disable", "--simulate", "boron:protected", "--profile", str(profile),
                        "--cloud-url", separate_cloud.base_url)
    assert (document["state"], document["product_id"]) == ("service", 12345)
    paths = {path for _, path, _ in separate_cloud.request_log}
    assert f"/v1/products/12345/devices/{device_id}/unprotect" in paths
    code, _, err = run(capsys, "disable", "--simulate", "boron:protected", "--profile", str(profile),
                       "--cloud-url", separate_cloud.base_url, "--product", "999")
    assert code == 1
    assert owned.access_token not in err and "Traceback" not in err


def test_enable_with_a_profile_also_clears_the_development_flag(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    separate_cloud: EmulatorServer,
) -> None:
    device_id = str(run_json(capsys, "status", "--simulate", "boron")["id"])
    owned = separate_cloud.add_owned_product(12345, "boron", "factory@example.com", device_protection="active")
    separate_cloud.add_device(device_id, "boron", product_id=12345)
    with separate_cloud.cloud.state.lock:
        separate_cloud.cloud.state.devices[device_id].development = True
    monkeypatch.delenv("PARTICLE_CLIENT_ID", raising=False)
    monkeypatch.delenv("PARTICLE_CLIENT_SECRET", raising=False)
    monkeypatch.setenv("PARTICLE_ACCESS_TOKEN", owned.access_token)
    assert separate_cloud.base_url is not None
    code, out, err = run(capsys, "enable", "--simulate", "boron", "--file", str(twin_bootloader(tmp_path)),
                         "--profile", str(profile_in(tmp_path)), "--cloud-url", separate_cloud.base_url)
    assert code == 0, err
    assert out.splitlines() == [f"Device {device_id} is now a Protected Device.",
                                "Device removed from development mode to maintain current settings."]
    assert next(d for d in separate_cloud.snapshot()["devices"] if d["id"] == device_id)["development"] is False
