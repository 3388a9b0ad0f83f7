"""Workbooks people open (issue 16 item 6): ready to print and share, states coloured, numbers typed, and the file
readable by whoever may read the journal (its mode follows the umask)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from station.records.cells import WIDE_SHEET_SCALE
from station.records.journal import Journal
from station.records.lot_seal import close_lot
from station.records.measurement_table import MeasurementOutcome, MeasurementRow
from station.records.spreadsheet import write_workbook
from station.records.unit_table import UnitState
from station.version import station_version

LOT = "12345-20260101-001"


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal(tmp_path / "journal.sqlite3", software_version="9.8.7") as opened:
        opened.open_lot(LOT, station="Line 1 & Co", product_id=12345, profile="boron.toml", operator="ann")
        for n, state in enumerate((UnitState.PASS, UnitState.FAIL, UnitState.CLOUD_PENDING, UnitState.PASS)):
            unit, _ = opened.unit_table.begin(LOT, f"P{n:03d}", operator="ann", station="Line 1 & Co")
            opened.unit_table.update(unit.id, state=state, reason="=HYPERLINK(1)" if state is UnitState.FAIL else None)
        yield opened


def measured_once(journal: Journal) -> None:
    """The lot's first unit gets one measurement, so that the workbook has a Tests sheet."""
    unit = journal.units(LOT)[0]
    journal.measurement_table.record(unit.id, 1, [MeasurementRow(
        test="battery", name="voltage", value=3.9, units="V", lower=3.6, upper=4.3, marginal_lower=None,
        marginal_upper=None, validator="3.6 <= x <= 4.3", outcome=MeasurementOutcome.PASS, marginal=False,
        started_at=1_767_261_600.0, duration_s=0.2)])


def sheets(path: Path) -> dict[str, Worksheet]:
    book = openpyxl.load_workbook(path)
    return {name: book[name] for name in book.sheetnames}  # type: ignore[misc]


def column(sheet: Worksheet, header: str) -> list[object]:
    headers = [cell.value for cell in sheet[1]]
    return [row[headers.index(header)] for row in sheet.iter_rows(min_row=2)]


def test_every_sheet_prints_landscape_with_gridlines_and_the_report_header_and_page_footer(
        journal: Journal, tmp_path: Path) -> None:
    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT, now=1_767_261_600.0)
    for name, sheet in sheets(tmp_path / "lot.xlsx").items():
        assert sheet.page_setup.orientation == "landscape", name
        assert sheet.print_options.gridLines and not sheet.print_options.headings, name
        header, footer = sheet.oddHeader, sheet.oddFooter
        assert header.left.text == f"Lot {LOT} · product 12345", name
        assert header.right.text.startswith("Written 2026-01-01"), name
        assert footer.left.text == "Station Line 1 && Co · Operator ann", name  # '&' doubled: it starts a code
        assert footer.center.text == f"Lot {LOT} · Page &P of &N", name
        assert footer.right.text == f"particle-station {station_version()}", name


def test_the_summary_prints_fitted_to_the_page_width(journal: Journal, tmp_path: Path) -> None:
    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT)
    summary = sheets(tmp_path / "lot.xlsx")["Summary"]
    assert (summary.page_setup.fitToWidth, summary.page_setup.fitToHeight) == (1, 0)
    assert summary.sheet_properties.pageSetUpPr.fitToPage


def test_the_wide_sheets_print_at_a_readable_scale_over_pages_across_instead_of_squeezed(
        journal: Journal, tmp_path: Path) -> None:
    """25 columns fitted to one page width printed at 3-4 pt: Units and Tests are not fitted but printed at 80 %
    (11 pt text at about 9 pt), over as many pages across as they need."""
    measured_once(journal)
    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT)
    book = sheets(tmp_path / "lot.xlsx")
    for name in ("Units", "Tests"):
        sheet = book[name]
        assert not sheet.sheet_properties.pageSetUpPr.fitToPage, name
        assert sheet.page_setup.scale == WIDE_SHEET_SCALE >= 75, name  # >= about 8 pt of the default 11 pt font
        assert sheet.page_setup.pageOrder == "overThenDown", name  # a row's pages follow each other


def test_the_units_header_row_and_identifying_columns_repeat_on_every_printed_page(
        journal: Journal, tmp_path: Path) -> None:
    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT)
    units = sheets(tmp_path / "lot.xlsx")["Units"]
    assert units.freeze_panes == "C2"
    assert units.print_title_rows == "$1:$1"
    assert units.print_title_cols == "$A:$B"
    assert [units.cell(1, n).value for n in (1, 2)] == ["Unit key", "Serial"]
    widths = {units.cell(1, n).value: units.column_dimensions[units.cell(1, n).column_letter].width
              for n in range(1, units.max_column + 1)}
    assert all(width >= 5 for width in widths.values()) and widths["Reason"] >= 30
    assert widths["Firmware file SHA-256"] >= 64  # all 64 digits, not clipped
    # "Product firmware version" wraps to three lines in its column: the header row shows them all.
    assert units.row_dimensions[1].height == 3 * 15


def test_the_tests_sheet_repeats_its_header_row_and_the_serial_on_every_printed_page(
        journal: Journal, tmp_path: Path) -> None:
    measured_once(journal)
    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT)
    tests = sheets(tmp_path / "lot.xlsx")["Tests"]
    assert (tests.print_title_rows, tests.print_title_cols, tests.freeze_panes) == ("$1:$1", "$A:$A", "B2")
    assert tests.cell(1, 1).value == "Serial"
    assert all(cell.font.b and cell.alignment.wrap_text for cell in tests[1])  # "Marginal lower" on two lines
    assert tests.row_dimensions[1].height == 2 * 15


def test_a_long_reason_gets_a_row_high_enough_for_its_wrapped_lines(journal: Journal, tmp_path: Path) -> None:
    unit, _ = journal.unit_table.begin(LOT, "P100")
    journal.unit_table.update(unit.id, state=UnitState.FAIL, reason="No Particle device found on USB. " * 4)
    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT)
    units = sheets(tmp_path / "lot.xlsx")["Units"]
    assert units.row_dimensions[units.max_row].height == 4 * 15


def test_pass_and_fail_are_coloured_and_text_stays_text(journal: Journal, tmp_path: Path) -> None:
    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT)
    units = sheets(tmp_path / "lot.xlsx")["Units"]
    fills = {cell.value: cell.fill.fgColor.rgb for cell in column(units, "State")}  # type: ignore[attr-defined]
    assert fills == {"PASS": "00C6EFCE", "FAIL": "00FFC7CE", "cloud pending": "00FFEB9C"}
    (reason,) = [cell for cell in column(units, "Reason") if cell.value is not None]  # type: ignore[attr-defined]
    assert (reason.value, reason.data_type, reason.alignment.wrap_text) == ("=HYPERLINK(1)", "s", True)


def test_the_product_id_is_a_number_and_units_carry_the_software_version(journal: Journal, tmp_path: Path) -> None:
    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT)
    book = sheets(tmp_path / "lot.xlsx")
    product = {row[0].value: row[1].value for row in book["Summary"].iter_rows() if row[0].value}["Product"]
    assert product == 12345 and isinstance(product, int)
    assert {cell.value for cell in column(book["Units"], "Software version")} == {"9.8.7"}  # type: ignore[attr-defined]


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_the_workbook_file_mode_follows_the_umask_like_the_journal(
        journal: Journal, tmp_path: Path, umask: int, mode: int) -> None:
    previous = os.umask(umask)
    try:
        write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT)
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "lot.xlsx").stat().st_mode) == mode


def test_a_closed_lots_summary_is_sealed_and_scans_into_it_are_refused(journal: Journal) -> None:
    from station.records.lot_seal import sealed_summary
    from station.records.unit_table import LotClosedError

    record = close_lot(journal, LOT)
    sealed = sealed_summary(record)
    assert sealed is not None and sealed["summary"]["units"] == 4
    (unit,) = [u for u in journal.units(LOT) if u.state is UnitState.CLOUD_PENDING]
    journal.unit_table.update(unit.id, state=UnitState.PASS)  # the cloud work finished after the close
    again = close_lot(journal, LOT)
    assert sealed_summary(again) == sealed and again.closed_at == record.closed_at
    with pytest.raises(LotClosedError):
        journal.unit_table.begin(LOT, "P100")


def test_a_closed_lots_workbook_shows_its_sealed_figures_even_after_later_cloud_work(
        journal: Journal, tmp_path: Path) -> None:
    close_lot(journal, LOT)
    (unit,) = [u for u in journal.units(LOT) if u.state is UnitState.CLOUD_PENDING]
    journal.unit_table.update(unit.id, state=UnitState.PASS)
    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT)
    sheet = sheets(tmp_path / "lot.xlsx")["Sealed at close"]
    assert sheet.column_dimensions["A"].width == 60
    sealed = {row[0]: row[1] for row in sheet.iter_rows(values_only=True)}
    assert sealed["units"] == 4 and sealed["units in progress at close"] == 0
    assert sealed["passed"] == 2 and sealed["waiting on cloud"] == 1  # the one lot summary's figures
