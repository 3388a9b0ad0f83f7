"""``particle-station identify --serial`` and ``flash --serial`` against a simulated device on a pty."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hardware.firmware import ModuleFunction
from hardware.firmware_builder import build_module
from station.cli import main


@pytest.fixture
def boron_app(tmp_path: Path) -> Path:
    path = tmp_path / "app.bin"
    path.write_bytes(
        build_module(
            "boron", ModuleFunction.USER_PART, 2, 9, size=3000, dependencies=[(ModuleFunction.SYSTEM_PART, 1, 5901)]
        )
    )
    return path


def test_identify_serial_simulate_prints_the_device_over_the_console(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["identify", "--serial", "--simulate", "boron", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["platform"] == "boron"
    assert report["device_os"] == "5.9.0"
    assert report["transport"] == "serial"
    assert len(report["id"]) == 24 and report["imei"] and report["serial"]


def test_flash_serial_simulate_sends_the_file_over_ymodem(boron_app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flash", str(boron_app), "--serial", "--simulate", "boron", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result == {"ok": True, "port": result["port"], "bytes": 3000, "transport": "serial-ymodem",
                      "product_version": None}


def test_flash_serial_on_device_os_6_fails_with_one_line_naming_dfu(
    boron_app: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["flash", str(boron_app), "--serial", "--simulate", "boron", "--device-os", "6.2.0"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "6.2.0" in error and "DFU" in error


def test_identify_serial_on_a_missing_port_fails_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["identify", "--serial", "--port", "/dev/ttyACM-missing"]) == 1
    assert "does not exist" in capsys.readouterr().err
