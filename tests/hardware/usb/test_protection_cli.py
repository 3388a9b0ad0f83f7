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
