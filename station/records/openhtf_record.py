"""A unit's test record, one attempt, as OpenHTF-style JSON, so tools that read OpenHTF records read ours.

The shape is that of OpenHTF's JSON output (google/openhtf ``openhtf/output/callbacks/json_factory.py`` writing a
``TestRecord``): ``dut_id``, ``station_id``, ``start_time_millis``, ``end_time_millis``, ``outcome`` (PASS, FAIL,
ERROR, TIMEOUT, ABORTED), ``outcome_details`` [{code, description}], ``metadata``, ``phases`` (each ``name``,
``outcome`` PASS/FAIL/SKIP/ERROR, start/end, ``measurements`` {name: {name, outcome PASS/FAIL/UNSET,
measured_value, validators [text], units, marginal}}, ``attachments``) and ``log_records``, with the other keys
OpenHTF 1.6 writes (``code_info``, ``subtests``, ``branches``, ``diagnoses``...) present and empty. One test of
the profile is one phase; its measurements are the phase's. ``measured_value`` is left out of a measurement never
taken, as OpenHTF leaves it out of an unset one. Units are written as OpenHTF's UNECE unit objects (name, code,
suffix) where the profile's symbol is a common one, else with the symbol only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from station.files import write_text_atomically
from station.records.measurement_table import MeasurementOutcome, MeasurementRecord
from station.records.reason_code import ReasonCode
from station.records.unit_table import UnitRecord

_UNECE = {
    "V": ("volt", "VLT"), "mV": ("millivolt", "2Z"), "A": ("ampere", "AMP"), "mA": ("milliampere", "4K"),
    "°C": ("degree Celsius", "CEL"), "C": ("degree Celsius", "CEL"), "%": ("percent", "P1"),
    "dBm": ("decibel-milliwatts", "DBM"), "s": ("second [unit of time]", "SEC"), "ms": ("millisecond", "C26"),
    "Hz": ("hertz", "HTZ"), "g": ("standard acceleration of free fall", "K40"), "Ω": ("ohm", "OHM"),
}
"""Unit symbols to UNECE Recommendation 20 names and codes (the codes OpenHTF's ``openhtf.util.units`` uses)."""


def openhtf_record(unit: UnitRecord, attempt: int, measurements: Sequence[MeasurementRecord], *,
                   station: str, tests_version: str | None = None) -> dict[str, Any]:
    """The record of ``unit``'s attempt ``attempt`` built from its journalled measurements (of that attempt)."""
    rows = [m for m in measurements if m.attempt == attempt]
    phases: dict[str, list[MeasurementRecord]] = {}
    for row in rows:
        phases.setdefault(row.test, []).append(row)
    phase_records = [_phase(number, name, taken) for number, (name, taken) in enumerate(phases.items(), start=1)]
    start = min((m.started_at for m in rows), default=unit.started_at)
    end = max((m.started_at + (m.duration_s or 0.0) for m in rows), default=unit.ended_at or start)
    failed = [m for m in rows if m.outcome is MeasurementOutcome.FAIL]
    unset = [m for m in rows if m.outcome is MeasurementOutcome.UNSET]
    outcome = "FAIL" if failed else "ERROR" if unset else "PASS"
    details = [{"code": ReasonCode.TEST_FAILED.value, "description": _described(m)} for m in failed]
    details += [{"code": ReasonCode.TEST_NO_REPLY.value, "description": f"{m.test}: {m.name} was never measured"}
                for m in unset]
    return {
        "dut_id": unit.serial or unit.unit_key,
        "station_id": station,
        "code_info": {"name": "particle-station", "docstring": None, "sourcecode": ""},
        "start_time_millis": _millis(start),
        "end_time_millis": _millis(end),
        "outcome": outcome,
        "outcome_details": details,
        "marginal": any(m.marginal for m in rows) and outcome == "PASS",
        "metadata": {
            "test_name": "particle-station fixture tests",
            "test_version": tests_version or unit.tests_hash,
            "lot": unit.lot,
            "attempt": attempt,
            "device_id": unit.device_id,
            "platform": unit.platform,
            "device_os": unit.device_os,
            "operator": unit.operator,
            "slot": unit.slot,
            "software_version": unit.software_version,
            "config": {},
        },
        "phases": phase_records,
        "subtests": [],
        "branches": [],
        "diagnosers": [],
        "diagnoses": [],
        "log_records": [],
    }


def write_openhtf_records(folder: Path, unit: UnitRecord, measurements: Sequence[MeasurementRecord], *,
                          station: str) -> list[Path]:
    """One JSON file per attempt of ``unit`` that has measurements, named ``<serial>-attempt<N>.json``, each written
    whole or not at all."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for attempt in sorted({m.attempt for m in measurements}):
        record = openhtf_record(unit, attempt, measurements, station=station)
        name = "".join(c if c.isalnum() or c in "-_" else "_" for c in (unit.serial or unit.unit_key))
        path = folder / f"{name}-attempt{attempt}.json"
        write_text_atomically(path, json.dumps(record, indent=2) + "\n")
        written.append(path)
    return written


def _phase(number: int, name: str, rows: list[MeasurementRecord]) -> dict[str, Any]:
    outcomes = {m.outcome for m in rows}
    outcome = ("FAIL" if MeasurementOutcome.FAIL in outcomes else "ERROR" if MeasurementOutcome.UNSET in outcomes
               else "PASS")
    start = min(m.started_at for m in rows)
    end = max(m.started_at + (m.duration_s or 0.0) for m in rows)
    return {
        "descriptor_id": number,
        "name": name,
        "codeinfo": {"name": name, "docstring": None, "sourcecode": ""},
        "measurements": {m.name: _measurement(m) for m in rows},
        "options": None,
        "diagnosers": [],
        "subtest_name": None,
        "start_time_millis": _millis(start),
        "end_time_millis": _millis(end),
        "attachments": {},
        "diagnosis_results": [],
        "failure_diagnosis_results": [],
        "result": {"phase_result": "CONTINUE" if outcome == "PASS" else "FAIL_AND_CONTINUE"},
        "outcome": outcome,
        "marginal": outcome == "PASS" and any(m.marginal for m in rows),
    }


def _measurement(m: MeasurementRecord) -> dict[str, Any]:
    record: dict[str, Any] = {"name": m.name, "outcome": m.outcome.value}
    if m.validator:
        record["validators"] = [m.validator]
    if m.units:
        unece = _UNECE.get(m.units)
        record["units"] = ({"name": unece[0], "code": unece[1], "suffix": m.units} if unece
                           else {"name": m.units, "code": None, "suffix": m.units})
    if m.outcome is not MeasurementOutcome.UNSET:
        record["measured_value"] = m.value
    record["marginal"] = m.marginal
    return record


def _described(m: MeasurementRecord) -> str:
    units = f" {m.units}" if m.units and m.value_num is not None else ""
    return f"{m.test}: {m.name} = {m.value_shown}{units}, limit {m.validator}"


def _millis(seconds: float) -> int:
    return round(seconds * 1000)
