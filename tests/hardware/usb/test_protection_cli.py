"""``particle-station devices`` and ``identify`` show a device's Device Protection state (``--simulate
PLATFORM:protected|service`` for a simulated Protected Device)."""

from __future__ import annotations

import json

import pytest

from station.cli import main


def test_devices_and_identify_show_the_protection_state(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices", "--simulate", "boron,boron:protected,p2:service", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert sorted(d["protection"] for d in listed) == ["open", "protected", "service"]
    assert main(["identify", "--simulate", "boron:protected"]) == 0
    out = capsys.readouterr().out
    assert "Protection:          Protected Device" in out and "protection disable" in out


def test_devices_and_identify_read_the_protection_state_in_dfu_mode(capsys: pytest.CaptureFixture[str]) -> None:
    # ``:dfu`` starts a simulated device in DFU mode, where the state comes from string descriptor 0xFA.
    assert main(["devices", "--simulate", "boron:protected:dfu,argon:dfu,p2:service:dfu", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert sorted((d["mode"], d["protection"]) for d in listed) == [
        ("dfu", "open"), ("dfu", "protected"), ("dfu", "service")]
    assert main(["identify", "--simulate", "boron:service:dfu"]) == 0
    out = capsys.readouterr().out
    assert "Mode:                dfu" in out and "Protection:          Protected Device (Service Mode)" in out


@pytest.mark.parametrize("spec", ["boron:wat", "boron:protected:dfu:x", "boron:protected:usb"])
def test_a_bad_simulate_spec_is_one_sentence(capsys: pytest.CaptureFixture[str], spec: str) -> None:
    assert main(["devices", "--simulate", spec]) == 1
    err = capsys.readouterr().err
    assert err.startswith("particle-station: error: --simulate:") and err.count("\n") == 1
