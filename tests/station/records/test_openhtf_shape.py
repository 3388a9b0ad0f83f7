"""A unit tested on the simulated line (pyusb, request 10, the emulated cloud over sockets), its record exported as
OpenHTF JSON and checked field by field against what OpenHTF 1.6.3 itself writes for the same measurements:
``TestRecord`` / ``PhaseRecord`` keys (openhtf/core/test_record.py), ``Measurement.as_base_types`` (name, outcome
by enum name, validators as ``str(validator)``, units as the ``UnitDescriptor`` namedtuple's dict, measured_value
only once set; openhtf/core/measurements.py) and the validators' texts (openhtf/util/validators.py: InRange,
Equals, RegexMatcher, WithinPercent ``__str__``)."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.config.profile_loader import load_profile
from station.demo.simulated_line import SimulatedLine, build_simulated_line
from station.records.openhtf_record import openhtf_record
from station.records.unit_table import UnitState
from station.workflow.line import Line
from station.workflow.lot import prepare_lot

FIRMWARE = Path(__file__).resolve().parents[3] / "fixtures" / "firmware"

TESTS = """
[tests]
firmware = {{ file = "boron-test.bin", sha256 = "{sha}" }}
on_failure = "continue"

[[tests.test]]
name = "battery"
request = {{ op = "battery" }}

[[tests.test.measurement]]
name = "battery_voltage"
read = "voltage"
units = "V"
lower = 3.6
upper = 4.2
marginal_lower = 3.7
marginal_upper = 4.1

[[tests.test]]
name = "vin"
request = {{ op = "vin" }}

[[tests.test.measurement]]
name = "vin_voltage"
read = "voltage"
units = "V"
expected = 5.0
percent = 6
marginal_percent = 4

[[tests.test]]
name = "gpio"
request = {{ op = "gpio_loopback" }}

[[tests.test.measurement]]
name = "failed_pins"
equals = []

[[tests.test]]
name = "serial"
request = {{ op = "read_serial" }}

[[tests.test.measurement]]
name = "serial_number"
matches = "^[A-Z0-9]{{15,16}}$"
"""

# What OpenHTF's validators print for the same limits (validators.py __str__ of InRange, WithinPercent, Equals,
# RegexMatcher), and its UnitDescriptor for volts (openhtf/util/units.py VOLT).
OPENHTF_VALIDATORS = {
    "battery_voltage": "3.6 <= Marginal:3.7 <= x <= Marginal:4.1 <= 4.2",
    "vin_voltage": "'x' is within 6% of 5.0. Marginal: 4% of 5.0",
    "failed_pins": "'x' is equal to '[]'",
    "serial_number": "'x' matches /^[A-Z0-9]{15,16}$/",
}
VOLT = {"name": "volt", "code": "VLT", "suffix": "V"}
RECORD_KEYS = {"dut_id", "station_id", "start_time_millis", "end_time_millis", "outcome", "outcome_details",
               "metadata", "phases", "log_records", "code_info", "subtests", "branches", "diagnosers", "diagnoses",
               "marginal"}
PHASE_KEYS = {"name", "outcome", "start_time_millis", "end_time_millis", "measurements", "attachments",
              "descriptor_id", "codeinfo", "options", "diagnosers", "subtest_name", "diagnosis_results",
              "failure_diagnosis_results", "result", "marginal"}


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimulatedLine]:
    line = build_simulated_line(tmp_path / "sim", platform="boron", devices=1)
    firmware = (FIRMWARE / "boron-test.bin").read_bytes()
    shutil.copy(FIRMWARE / "boron-test.bin", line.workdir / "boron-test.bin")
    path = line.workdir / "station.toml"
    path.write_text(path.read_text() + TESTS.format(sha=hashlib.sha256(firmware).hexdigest()))
    line.profile = load_profile(path)
    try:
        yield line
    finally:
        line.close()


def test_the_exported_record_has_the_shape_openhtf_writes(sim: SimulatedLine) -> None:
    device = sim.devices[0]
    device.test_faults = {"battery": "marginal", "vin": "out_of_range"}
    cloud = sim.cloud(max_retries=1)
    with Line(prepare_lot(sim.profile, cloud), link=sim.link(), operator="ann", find_timeout=1.0,
              outbox_poll=0.05, outbox_base_delay=0.05).start() as line:
        result = line.scan(device.label).result(timeout=60)
        unit = line.journal.unit_table.by_key(line.lot, device.serial.value)  # type: ignore[union-attr]
        assert unit is not None
        taken = line.journal.measurement_table.of_unit(unit.id)
    cloud.close()
    assert result.state is UnitState.FAIL
    record = json.loads(json.dumps(openhtf_record(unit, 1, taken, station=sim.profile.station_name)))

    assert set(record) == RECORD_KEYS
    assert record["dut_id"] == device.serial.value  # type: ignore[union-attr]
    assert record["station_id"] == sim.profile.station_name
    assert isinstance(record["start_time_millis"], int) and isinstance(record["end_time_millis"], int)
    assert record["start_time_millis"] <= record["end_time_millis"]
    assert record["outcome"] == "FAIL"  # OpenHTF's Test.Outcome names: PASS, FAIL, ERROR, TIMEOUT, ABORTED
    [detail] = record["outcome_details"]  # OutcomeDetails(code, description)
    assert set(detail) == {"code", "description"} and detail["code"] == "test_failed"
    assert detail["description"].startswith("vin: vin_voltage = 4.2 V, limit 'x' is within 6% of 5.0.")
    assert isinstance(record["metadata"], dict)
    assert record["metadata"]["test_version"] == sim.profile.tests.version  # type: ignore[union-attr]
    assert record["log_records"] == []

    phases = record["phases"]
    assert [p["name"] for p in phases] == ["battery", "vin", "gpio", "serial"]
    assert [p["outcome"] for p in phases] == ["PASS", "FAIL", "PASS", "PASS"]  # PhaseOutcome names
    by_name = {}
    for phase in phases:
        assert set(phase) == PHASE_KEYS
        assert isinstance(phase["start_time_millis"], int) and phase["start_time_millis"] <= phase["end_time_millis"]
        assert record["start_time_millis"] <= phase["start_time_millis"]
        assert phase["end_time_millis"] <= record["end_time_millis"]
        by_name.update(phase["measurements"])
    assert set(by_name) == set(OPENHTF_VALIDATORS)
    journalled = {m.name: m for m in taken}
    for name, measurement in by_name.items():
        assert measurement["name"] == name
        assert measurement["validators"] == [OPENHTF_VALIDATORS[name]], name
        assert measurement["measured_value"] == journalled[name].value
        assert isinstance(measurement["marginal"], bool)
        # Measurement.as_base_types' keys (+ "marginal", the Measurement attribute the reference lists).
        assert set(measurement) <= {"name", "outcome", "validators", "units", "docstring", "measured_value",
                                    "marginal", "dimensions", "conditional_validators"}
    battery, vin = by_name["battery_voltage"], by_name["vin_voltage"]
    assert (battery["outcome"], battery["marginal"], battery["units"]) == ("PASS", True, VOLT)
    assert 4.1 < battery["measured_value"] <= 4.2
    assert (vin["outcome"], vin["marginal"], vin["measured_value"], vin["units"]) == ("FAIL", False, 4.2, VOLT)
    assert by_name["failed_pins"] == {"name": "failed_pins", "outcome": "PASS", "validators": ["'x' is equal to '[]'"],
                                      "measured_value": [], "marginal": False}
    assert by_name["serial_number"]["measured_value"] == device.serial.value  # type: ignore[union-attr]
    assert "units" not in by_name["serial_number"]  # OpenHTF leaves out the units of a measurement without them
