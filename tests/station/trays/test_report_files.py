"""Import reports as files: the workbook read back by openpyxl as Excel would show it, and the JSON report."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from station.errors import StationError
from station.trays.device_import import ImportReport, LineResult
from station.trays.report import ReportLine, check_report_path, write_report
from station.trays.report_files import write_report_safely


def report(source: str = "tray.csv") -> ImportReport:
    lines = (
        ReportLine(2, "e00fce68a1b2c3d4e5f60001", "device id", "e00fce68a1b2c3d4e5f60001", LineResult.ADDED),
        ReportLine(3, '=HYPERLINK("#A1","x")', "", None, LineResult.INVALID, "not an id"),
        ReportLine(4, " bell\x07 ", "", None, LineResult.INVALID, "not an id"),
    )
    return ImportReport(source, 4242, lines, 1, True)


def test_the_workbook_has_a_frozen_bold_header_and_text_that_stays_text(tmp_path: Path) -> None:
    path = write_report(report("=1+1"), tmp_path / "r.xlsx")
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Import"]
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.b and sheet["F1"].value == "Reason"
    assert [c.value for c in sheet[2]] == [2, "e00fce68a1b2c3d4e5f60001", "device id", "e00fce68a1b2c3d4e5f60001",
                                          "added", None]
    assert (sheet["B3"].value, sheet["B3"].data_type, sheet["B3"].quotePrefix) == ('=HYPERLINK("#A1","x")', "s", True)
    assert sheet["B4"].value == " bell\\x07 "
    assert sheet.column_dimensions["F"].width == 70
    summary = workbook["Summary"]
    assert (summary["B1"].value, summary["B1"].data_type, summary["B1"].quotePrefix) == ("=1+1", "s", True)
    assert [(r[0], r[1]) for r in summary.iter_rows(min_row=5, values_only=True)] == [("added", 1), ("invalid", 2)]


def test_a_json_name_gets_json(tmp_path: Path) -> None:
    data = json.loads(write_report(report(), tmp_path / "r.JSON").read_text())
    assert data["summary"] == {"added": 1, "invalid": 2}


@pytest.mark.parametrize("name", ["r.csv", "r.xls", "r", "r.xlsx.txt"])
def test_other_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(StationError, match="name it .xlsx"):
        check_report_path(tmp_path / name)


def test_when_neither_place_can_be_written_the_printed_result_is_said_to_be_the_only_copy(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    written = write_report_safely(report(), tmp_path / "file" / "a.xlsx", tmp_path / "file" / "b.xlsx")
    assert written.path is None
    assert written.problem is not None and "the result printed above is the only copy" in written.problem


def test_a_report_reads_back_as_a_tray_workbook(tmp_path: Path) -> None:
    """The tray reader's own XML path on inline strings (the report writer's), as openpyxl reads them above."""
    from station.trays.tray_files import read_tables

    path = write_report(report(), tmp_path / "r.xlsx")
    tables = {t.sheet: t.rows for t in read_tables(path)}
    assert tables["Import"][1] == (2, ["2", "e00fce68a1b2c3d4e5f60001", "device id", "e00fce68a1b2c3d4e5f60001",
                                       "added"])
    assert tables["Import"][2][1][1] == '=HYPERLINK("#A1","x")'
    assert tables["Summary"][0] == (1, ["Tray file", "tray.csv"])
