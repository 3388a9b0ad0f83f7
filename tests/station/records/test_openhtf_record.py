"""A unit's test record as OpenHTF-style JSON, and ``particle-station lot tests`` over a journal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from station.cli import main
from station.records.journal import Journal
from station.records.measurement_table import MeasurementOutcome, MeasurementRow
from station.records.openhtf_record import openhtf_record

VALIDATOR = "3.6 <= Marginal:3.7 <= x <= 4.3"


def row(test: str, name: str, value: object, outcome: str = "PASS", *, at: float = 1000.0,
        marginal: bool = False) -> MeasurementRow:
    return MeasurementRow(test=test, name=name, value=value, units="V" if test == "battery" else None,
                          lower=3.6 if test == "battery" else None, upper=4.3 if test == "battery" else None,
                          marginal_lower=3.7 if test == "battery" else None, marginal_upper=None,
                          validator=VALIDATOR if test == "battery" else "'x' is equal to '[]'",
                          outcome=MeasurementOutcome(outcome), marginal=marginal, started_at=at, duration_s=0.5)


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    path = tmp_path / "journal.sqlite3"
    with Journal(path) as journal:
        journal.open_lot("L1", station="Line 1", product_id=12345, profile="p", operator="ann")
        unit, _ = journal.unit_table.begin("L1", "P046AB1234567890", serial="P046AB1234567890", tests_hash="ab" * 32)
        journal.measurement_table.record(unit.id, 1, [row("battery", "voltage", 3.2, "FAIL")])
        journal.unit_table.begin("L1", "P046AB1234567890")
        journal.measurement_table.record(unit.id, 2, [row("battery", "voltage", 3.65, at=2000.0, marginal=True),
                                                      row("loopback", "failed_pins", [], at=2001.0)])
        other, _ = journal.unit_table.begin("L1", "P046AB0000000001", serial="P046AB0000000001")
        journal.measurement_table.record(other.id, 1, [row("battery", "voltage", 4.0, at=3000.0),
                                                       row("loopback", "failed_pins", None, "UNSET", at=3001.0)])
    return path


def test_each_attempt_is_an_openhtf_test_record_with_one_phase_per_test(journal_path: Path) -> None:
    with Journal(journal_path) as journal:
        unit = journal.unit_table.by_key("L1", "P046AB1234567890")
        assert unit is not None
        taken = journal.measurement_table.of_unit(unit.id)
    first = openhtf_record(unit, 1, taken, station="Line 1")
    second = openhtf_record(unit, 2, taken, station="Line 1")
    assert (first["dut_id"], first["station_id"], first["outcome"]) == ("P046AB1234567890", "Line 1", "FAIL")
    assert first["outcome_details"][0]["code"] == "test_failed"
    assert "voltage = 3.2 V" in first["outcome_details"][0]["description"]
    assert second["outcome"] == "PASS" and second["marginal"] is True
    assert second["start_time_millis"] == 2_000_000 and second["end_time_millis"] == 2_001_500
    battery, loopback = second["phases"]
    assert battery["name"] == "battery" and battery["outcome"] == "PASS"
    assert battery["measurements"]["voltage"] == {
        "name": "voltage", "outcome": "PASS", "validators": [VALIDATOR],
        "units": {"name": "volt", "code": "VLT", "suffix": "V"}, "measured_value": 3.65, "marginal": True}
    assert loopback["measurements"]["failed_pins"]["measured_value"] == []
    assert second["metadata"]["test_version"] == "ab" * 32 and second["metadata"]["attempt"] == 2
    json.dumps(second)  # only base types
    # The keys OpenHTF 1.6.3's OutputToJSON writes for a test record and a phase (measurements add "marginal").
    assert set(second) == {"branches", "code_info", "diagnosers", "diagnoses", "dut_id", "end_time_millis",
                           "log_records", "marginal", "metadata", "outcome", "outcome_details", "phases",
                           "start_time_millis", "station_id", "subtests"}
    assert set(battery) == {"attachments", "codeinfo", "descriptor_id", "diagnosers", "diagnosis_results",
                            "end_time_millis", "failure_diagnosis_results", "marginal", "measurements", "name",
                            "options", "outcome", "result", "start_time_millis", "subtest_name"}


def test_a_measurement_never_taken_has_no_value_and_errors_the_phase(journal_path: Path) -> None:
    with Journal(journal_path) as journal:
        unit = journal.unit_table.by_key("L1", "P046AB0000000001")
        assert unit is not None
        record = openhtf_record(unit, 1, journal.measurement_table.of_unit(unit.id), station="Line 1")
    pins = record["phases"][1]["measurements"]["failed_pins"]
    assert pins["outcome"] == "UNSET" and "measured_value" not in pins
    assert record["phases"][1]["outcome"] == "ERROR" and record["outcome"] == "ERROR"


def test_lot_tests_prints_statistics_and_writes_records(journal_path: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "records"
    assert main(["lot", "tests", "--lot", "L1", "--journal", str(journal_path), "--json", "--openhtf",
                 str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    voltage = next(m for m in printed["measurements"] if m["name"] == "voltage")
    assert (voltage["count"], voltage["failures"], voltage["minimum"], voltage["maximum"]) == (3, 1, 3.2, 4.0)
    assert printed["failures_by_test"] == [{"test": "battery", "units": 1}, {"test": "loopback", "units": 1}]
    assert sorted(p.name for p in out.iterdir()) == ["P046AB0000000001-attempt1.json",
                                                     "P046AB1234567890-attempt1.json",
                                                     "P046AB1234567890-attempt2.json"]
    assert main(["lot", "tests", "--lot", "L1", "--journal", str(journal_path)]) == 0
    text = capsys.readouterr().out
    assert "battery / voltage" in text and "failures by test" in text


def test_lot_tests_of_an_unknown_lot_is_one_sentence(journal_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lot", "tests", "--lot", "nope", "--journal", str(journal_path)]) != 0
    err = capsys.readouterr().err
    assert "lot 'nope' is not in the journal" in err and "Traceback" not in err
