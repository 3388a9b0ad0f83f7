"""``particle-station lot tests`` and ``lot summary`` as a person reads them: every measurement's name in full, no
Cpk from too few values, a low Cpk flagged, figures said once, counts in the right number."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.cli import main
from station.records.journal import Journal
from station.records.measurement_table import MeasurementOutcome, MeasurementRow
from station.records.unit_table import UnitState

LOT = "12345-20260101-001"


def row(test: str, name: str, value: float, *, lower: float | None = 3.6, upper: float | None = 4.3) -> MeasurementRow:
    return MeasurementRow(test=test, name=name, value=value, units="V", lower=lower, upper=upper,
                          marginal_lower=None, marginal_upper=None, validator="3.6 <= x <= 4.3",
                          outcome=MeasurementOutcome.PASS, marginal=False, started_at=1000.0, duration_s=0.5)


def journal_with(tmp_path: Path, values: list[float]) -> Path:
    path = tmp_path / "journal.sqlite3"
    with Journal(path) as journal:
        journal.open_lot(LOT, station="Line 1", product_id=12345, profile="p", operator="ann")
        for n, value in enumerate(values):
            unit, _ = journal.unit_table.begin(LOT, f"P046AB{n:010d}", serial=f"P046AB{n:010d}")
            journal.measurement_table.record(unit.id, 1, [
                row("battery", "voltage", value),
                row("serial_matches_label", "label_serial", value, lower=None, upper=None)])
    return path


def lot_tests(path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["lot", "tests", "--lot", LOT, "--journal", str(path)]) == 0
    return capsys.readouterr().out.splitlines()


def test_lot_tests_shows_no_cpk_from_two_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = lot_tests(journal_with(tmp_path, [3.9, 4.2]), capsys)
    [voltage] = [line for line in lines if line.startswith("battery / voltage")]
    assert "n < 30" in voltage and "below" not in voltage
    assert any("not computed from fewer than 30 values" in line for line in lines)
    assert lines[0] == f"lot {LOT}: 2 measurements over 2 units"


def test_lot_tests_prints_every_measurement_name_in_full(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = lot_tests(journal_with(tmp_path, [3.9]), capsys)
    assert any(line.startswith("serial_matches_label / label_serial ") for line in lines)
    assert lines[0] == f"lot {LOT}: 2 measurements over 1 unit"
    assert lines[1].startswith("test / measurement" + " " * (len("serial_matches_label / label_serial ") - 18))


def test_lot_tests_flags_a_cpk_below_the_bar_from_enough_values(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    lines = lot_tests(journal_with(tmp_path, [3.65, 4.25] * 15), capsys)
    [voltage] = [line for line in lines if line.startswith("battery / voltage")]
    assert "(Cpk below 1.33)" in voltage and "n < 30" not in voltage


def test_lot_summary_says_each_figure_once_in_the_right_number(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "journal.sqlite3"
    with Journal(path) as journal:
        journal.open_lot(LOT, station="Line 1", product_id=12345, profile="p", operator="ann")
        unit, _ = journal.unit_table.begin(LOT, "P1")
        journal.unit_table.update(unit.id, state=UnitState.FAIL)
        journal.unit_table.begin(LOT, "P1")  # reworked: a second attempt
        journal.unit_table.update(unit.id, state=UnitState.PASS)
        journal.refused_scan_table.record(LOT, "X1", "LABEL_FORMAT", "not a label")
    assert main(["lot", "summary", "--lot", LOT, "--journal", str(path)]) == 0
    text = capsys.readouterr().out
    assert text.count("first-pass yield") == 1
    assert "1 unit:" in text and "1 unit reworked" in text and "1 refused scan (not a unit)" in text
    assert "1 units" not in text and "1 refused scans" not in text
