"""The workbook of a tested lot: a Tests sheet with every measurement, and measurement statistics in the Summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from station.records.journal import Journal
from station.records.measurement_table import MeasurementOutcome, MeasurementRow
from station.records.spreadsheet import write_workbook


def row(value: float, outcome: str = "PASS") -> MeasurementRow:
    return MeasurementRow(test="battery", name="voltage", value=value, units="V", lower=3.6, upper=4.3,
                          marginal_lower=None, marginal_upper=None, validator="3.6 <= x <= 4.3",
                          outcome=MeasurementOutcome(outcome), marginal=False, started_at=1_700_000_000.0,
                          duration_s=0.25)


def test_a_tested_lot_gets_a_tests_sheet_and_statistics_in_the_summary(tmp_path: Path) -> None:
    with Journal(tmp_path / "journal.sqlite3") as journal:
        journal.open_lot("L1", station="s", product_id=12345, profile="p", operator="ann")
        for n, value in enumerate((3.9, 4.0, 3.2)):
            unit, _ = journal.unit_table.begin("L1", f"P046AB000000000{n}", serial=f"P046AB000000000{n}")
            journal.measurement_table.record(unit.id, 1, [row(value, "FAIL" if value < 3.6 else "PASS")])
        write_workbook(journal, tmp_path / "lot.xlsx", lot="L1")
    book = load_workbook(tmp_path / "lot.xlsx")
    tests = [[c.value for c in r] for r in book["Tests"].iter_rows()]
    assert tests[0][:6] == ["Serial", "Device ID", "Attempt", "Test", "Measurement", "Value"]
    assert [(r[0], r[5], r[12]) for r in tests[1:]] == [
        ("P046AB0000000000", 3.9, "PASS"), ("P046AB0000000001", 4.0, "PASS"), ("P046AB0000000002", 3.2, "FAIL")]
    summary = [[c.value for c in r] for r in book["Summary"].iter_rows()]
    [stats] = [r for r in summary if r[0] == "battery / voltage"]
    assert stats[2] == 3 and stats[5] == 3.2 and stats[6] == 4.0 and stats[10] == 1
    assert ["battery", 1] in [r[:2] for r in summary]


def test_a_lot_without_tests_has_no_tests_sheet(tmp_path: Path) -> None:
    with Journal(tmp_path / "journal.sqlite3") as journal:
        journal.open_lot("L1", station="s", product_id=12345, profile="p", operator="ann")
        journal.unit_table.begin("L1", "K1")
        write_workbook(journal, tmp_path / "lot.xlsx", lot="L1")
    assert "Tests" not in load_workbook(tmp_path / "lot.xlsx").sheetnames


def summary_stats(path: Path, name: str) -> dict[str, Any]:
    """The cells of one measurement's statistics row of the Summary, by header."""
    summary = load_workbook(path)["Summary"]
    headers = next(r for r in summary.iter_rows() if r[0].value == "Test / measurement")
    row = next(r for r in summary.iter_rows() if r[0].value == name)
    return dict(zip([h.value for h in headers], row, strict=False))


def test_the_summary_withholds_a_cpk_from_too_few_values(tmp_path: Path) -> None:
    with Journal(tmp_path / "journal.sqlite3") as journal:
        journal.open_lot("L1", station="s", product_id=12345, profile="p", operator="ann")
        for n, value in enumerate((3.9, 4.2)):
            unit, _ = journal.unit_table.begin("L1", f"K{n}")
            journal.measurement_table.record(unit.id, 1, [row(value)])
        write_workbook(journal, tmp_path / "lot.xlsx", lot="L1")
    stats = summary_stats(tmp_path / "lot.xlsx", "battery / voltage")
    assert stats["Cpk"].value == "n < 30"
    summary = [r[0] for r in load_workbook(tmp_path / "lot.xlsx")["Summary"].iter_rows(values_only=True)]
    assert "Cpk n < 30: not computed from fewer than 30 values (too few to mean anything)" in summary


def test_the_summary_rounds_its_statistics_and_flags_a_cpk_below_the_bar(tmp_path: Path) -> None:
    with Journal(tmp_path / "journal.sqlite3") as journal:
        journal.open_lot("L1", station="s", product_id=12345, profile="p", operator="ann")
        for n, value in enumerate([3.65, 4.25] * 15):
            unit, _ = journal.unit_table.begin("L1", f"K{n}")
            journal.measurement_table.record(unit.id, 1, [row(value)])
        write_workbook(journal, tmp_path / "lot.xlsx", lot="L1")
    stats = summary_stats(tmp_path / "lot.xlsx", "battery / voltage")
    cpk = stats["Cpk"]
    assert isinstance(cpk.value, float) and cpk.value < 1.33
    assert cpk.number_format == "0.00" and cpk.fill.fgColor.rgb == "00FFEB9C"
    assert stats["Note"].value == "below 1.33"
    assert {stats[h].number_format for h in ("Mean", "Stdev", "Min", "Max")} == {"0.0###"}
