"""Wi-Fi credentials and setup-done steps through the whole line; the Wi-Fi password never leaves the device."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from pathlib import Path

import openpyxl
import pytest

from hardware.firmware import ModuleFunction
from hardware.firmware_builder import build_module
from station.config.profile import StationProfile
from station.demo.simulated_line import SimulatedLine, build_simulated_line
from station.records.step_table import StepStatus
from station.records.unit_table import UnitState
from station.workflow.line import Line
from station.workflow.lot import prepare_lot

PASSWORD = "Sup3r-Secret-Factory-Key"


def line_for(sim: SimulatedLine, profile: StationProfile) -> Line:
    return Line(prepare_lot(profile, sim.cloud(max_retries=1)), link=sim.link(), operator="ann", find_timeout=1.0,
                outbox_poll=0.05, outbox_base_delay=0.05, workbook_interval=0.1).start()


def with_wifi(profile: StationProfile, security: str = "wpa2") -> StationProfile:
    section = {"ssid": "FactoryNet", "security": security, "password_ref": "env:LINE_WIFI_PASSWORD"}
    return dataclasses.replace(profile, wifi=section)


@pytest.mark.parametrize("platform", ["p2", "argon", "photon"])
def test_wifi_credentials_are_stored_in_the_device(
    tmp_path: Path, platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINE_WIFI_PASSWORD", PASSWORD)
    sim = build_simulated_line(tmp_path / platform, platform=platform, devices=1)
    try:
        with line_for(sim, with_wifi(sim.profile)) as line:
            result = line.scan(sim.devices[0].label).result(timeout=60)
            assert result.state is UnitState.PASS, result.reason
            unit = line.journal.unit_table.by_key(line.lot, result.unit_key)
            assert unit is not None and "wifi" in line.journal.step_table.passed(unit.id)
        [stored] = sim.devices[0].wifi.credentials
        assert stored.ssid == "FactoryNet" and stored.password == PASSWORD
    finally:
        sim.close()


def test_a_security_type_the_device_refuses_is_a_fail_pointing_at_the_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINE_WIFI_PASSWORD", "abcde")
    sim = build_simulated_line(tmp_path / "p2", platform="p2", devices=1)
    try:
        with line_for(sim, with_wifi(sim.profile, security="wep")) as line:
            result = line.scan(sim.devices[0].label).result(timeout=60)
        assert result.state is UnitState.FAIL
        assert result.failed_step == "wifi"
        assert "Wi-Fi credentials not accepted" in result.reason
        assert "[wifi]" in result.action
        assert sim.devices[0].wifi.credentials == ()
    finally:
        sim.close()


def test_no_wifi_password_in_any_log_line_journal_entry_or_workbook_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("LINE_WIFI_PASSWORD", PASSWORD)
    caplog.set_level(logging.DEBUG)
    sim = build_simulated_line(tmp_path / "p2", platform="p2", devices=2)
    try:
        with line_for(sim, with_wifi(sim.profile)) as line:
            for device in sim.devices:
                assert line.scan(device.label).result(timeout=60).state is UnitState.PASS
            steps = line.journal.step_table
            journal_text = [str(step) for unit in line.journal.units(line.lot) for step in steps.of_unit(unit.id)]
            journal_text += [str(unit) for unit in line.journal.units(line.lot)]
            lot, folder = line.lot, sim.profile.log_folder
        workbook = openpyxl.load_workbook(folder / f"{lot}.xlsx")
        cells = [str(c.value) for sheet in workbook for row in sheet.iter_rows() for c in row if c.value is not None]
        assert cells, "the workbook has content"
        assert any("FactoryNet" in text for text in journal_text), "the step is journalled (without the password)"
        for text in [r.getMessage() for r in caplog.records] + journal_text + cells:
            assert PASSWORD not in text
        assert all(PASSWORD in c.password for c in sim.devices[0].wifi.credentials)
    finally:
        sim.close()


@pytest.mark.parametrize(("device_os", "expected"), [("3.3.1", StepStatus.PASSED), ("6.2.0", StepStatus.SKIPPED)])
def test_setup_done_is_set_below_device_os_4_and_skipped_from_4(
    tmp_path: Path, device_os: str, expected: StepStatus
) -> None:
    sim = build_simulated_line(tmp_path / device_os, platform="boron", devices=0, slots=1)
    try:
        device = sim.add_device(device_os=device_os)
        app = build_module("boron", ModuleFunction.USER_PART, 2, 6, size=16 * 1024,
                           dependencies=[(ModuleFunction.SYSTEM_PART, 1, 3302)], product_id=12345, product_version=7)
        path = tmp_path / "app-for-3.3.1.bin"
        path.write_bytes(app)
        profile = dataclasses.replace(
            sim.profile,
            firmware=dataclasses.replace(sim.profile.firmware, file=path, sha256=hashlib.sha256(app).hexdigest()),
        )
        with line_for(sim, profile) as line:
            result = line.scan(device.label).result(timeout=60)
            assert result.state is UnitState.PASS, result.reason
            unit = line.journal.unit_table.by_key(line.lot, result.unit_key)
            assert unit is not None
            step = line.journal.step_table.passed(unit.id)["setup_done"]
        assert step.status is expected
        if expected is StepStatus.PASSED:
            assert device.setup_done is True
        else:
            assert "4.0" in step.detail["note"]
    finally:
        sim.close()
