"""``particle-station devices / identify / flash`` with ``--simulate``: the same code path as real USB hardware."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from hardware.firmware import ModuleFunction
from hardware.firmware_builder import build_module
from hardware.progress import ProgressEvent
from station.cli import main
from station.commands.usb import ProgressPrinter


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def app_file(tmp_path: Path, platform: str, version: int = 9, product_version: int | None = None) -> Path:
    path = tmp_path / f"{platform}-app.bin"
    dependency = [(ModuleFunction.SYSTEM_PART, 1, 6200)]
    index = 2 if platform == "boron" else 1
    path.write_bytes(
        build_module(platform, ModuleFunction.USER_PART, index, version, size=24 * 1024, dependencies=dependency,
                     product_id=None if product_version is None else 12345, product_version=product_version)
    )
    return path


def test_devices_json_lists_every_simulated_device(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "devices", "--simulate", "boron,p2", "--json")
    listed = json.loads(out)
    assert code == 0 and sorted((d["platform"], d["mode"]) for d in listed) == [("boron", "normal"), ("p2", "normal")]


def test_devices_text_shows_id_platform_and_mode(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "devices", "--simulate", "msom")
    (line,) = out.splitlines()
    assert "M-SoM" in line and "normal mode" in line and len(line.split()[0]) == 24


def test_identify_json_of_a_cellular_device_has_serial_version_iccid_imei_and_app(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "identify", "--simulate", "boron", "--json")
    report = json.loads(out)
    assert code == 0 and report["platform"] == "boron" and report["device_os"] == "6.2.0"
    assert report["serial"].startswith("B40T") and report["iccid"].startswith("89") and len(report["imei"]) == 15
    assert report["user_part_version"] == 6


def test_identify_text_of_a_wifi_device_has_no_cellular_lines(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "identify", "--simulate", "p2")
    assert "Device OS:" in out and "ICCID" not in out and "IMEI" not in out


def test_identify_with_several_devices_and_no_id_fails_naming_them(capsys: pytest.CaptureFixture[str]) -> None:
    _, listed, _ = run(capsys, "devices", "--simulate", "boron,p2", "--json")
    code, _, err = run(capsys, "identify", "--simulate", "boron,p2")
    assert code == 1 and err.count("\n") == 1 and "--device" in err
    assert all(d["id"] in err for d in json.loads(listed))


def test_identify_with_device_picks_that_one(capsys: pytest.CaptureFixture[str]) -> None:
    _, listed, _ = run(capsys, "devices", "--simulate", "boron,p2", "--json")
    p2 = next(d for d in json.loads(listed) if d["platform"] == "p2")
    code, out, _ = run(capsys, "identify", "--simulate", "boron,p2", "--device", p2["id"], "--json")
    assert code == 0 and json.loads(out)["id"] == p2["id"]


def test_malformed_device_id_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["identify", "--simulate", "boron", "--device", "nothex"])
    assert exited.value.code == 2 and "24 hex characters" in capsys.readouterr().err


def test_unknown_simulated_platform_is_reported_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "devices", "--simulate", "toaster")
    assert code == 1 and "unknown platform 'toaster'" in err and err.count("\n") == 1


def test_flash_json_reports_the_confirmed_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "flash", str(app_file(tmp_path, "boron")), "--simulate", "boron", "--json")
    result = json.loads(out)
    assert code == 0 and result["ok"] and result["running_version"] == 9 and result["address"] == "0x000b4000"


def test_flash_shows_the_product_firmware_version_the_engineer_knows(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "flash", str(app_file(tmp_path, "boron", product_version=3)), "--simulate", "boron")
    assert code == 0 and "runs product firmware version 3 (module version 9)" in out
    code, out, _ = run(capsys, "flash", str(app_file(tmp_path, "boron", product_version=3)), "--simulate", "boron",
                       "--json")
    assert code == 0 and json.loads(out)["product_version"] == 3


def test_flash_prints_plain_progress_lines_when_stderr_is_not_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "flash", str(app_file(tmp_path, "p2")), "--simulate", "p2")
    assert code == 0 and "runs version 9" in out
    assert "\r" not in err and "write: 24576 bytes done" in err and "switching to DFU mode..." in err


def test_flash_of_firmware_for_another_platform_fails_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "flash", str(app_file(tmp_path, "p2")), "--simulate", "boron")
    last = err.rstrip().splitlines()[-1]
    assert code == 1 and last.startswith("particle-station: error: cannot flash") and "use the Boron build" in last


def test_progress_bar_is_redrawn_in_place_on_a_terminal() -> None:
    stream = io.StringIO()
    printer = ProgressPrinter(stream, tty=True)
    for done in (1024, 2048):
        printer(ProgressEvent("write", done, 2048))
    text = stream.getvalue()
    assert text.count("\r") == 2 and text.endswith("100%  2/2 KB\n")
