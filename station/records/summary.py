"""The Summary sheet of a lot or day workbook: units per state, yields, cycle time and failures by reason code, as
records/lot_summary.py computes them (the same figures as the lot bar and ``particle-station lot summary``); with
fixture tests, each measurement's statistics (records/test_stats.py, as ``particle-station lot tests`` prints them)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, tzinfo
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from station.records.cells import PERCENT_FORMAT, SECONDS_FORMAT, SheetCells
from station.records.lot_summary import lot_figures
from station.records.lot_table import LotRecord
from station.records.measurement_table import MeasurementRecord
from station.records.test_stats import (
    CPK_BAR,
    CPK_TOO_FEW,
    MIN_CPK_SAMPLES,
    failures_by_test,
    measurement_stats,
)
from station.records.unit_table import UnitRecord, UnitState

SUMMARY_SHEET = "Summary"
_STATE_ORDER = (
    UnitState.PASS, UnitState.FAIL, UnitState.CLOUD_PENDING, UnitState.NOT_CONFIRMED, UnitState.IN_PROGRESS,
    UnitState.INTERRUPTED,
)


def _joined(values: Iterable[object]) -> str:
    return ", ".join(dict.fromkeys(str(v) for v in values))


def write_summary_sheet(
    sheet: WriteOnlyWorksheet,
    units: Sequence[UnitRecord],
    lots: Sequence[LotRecord],
    *,
    day: date | None,
    tz: tzinfo | None,
    now: float | None,
    refused_scans: int = 0,
    measurements: Sequence[MeasurementRecord] = (),
) -> None:
    cells = SheetCells(sheet, tz)
    sheet.column_dimensions["A"].width = 52  # the longest bold label ("First-pass yield (...)") on one line
    sheet.column_dimensions["B"].width = 40
    figures = lot_figures(units, refused_scans=refused_scans)
    counts = {UnitState.PASS: figures.passed, UnitState.FAIL: figures.failed,
              UnitState.CLOUD_PENDING: figures.waiting_on_cloud, UnitState.NOT_CONFIRMED: figures.not_confirmed,
              UnitState.IN_PROGRESS: figures.running, UnitState.INTERRUPTED: figures.interrupted}

    def pair(label: str, value: Cell | str | float | None) -> None:
        sheet.append([cells.header(label), value])

    if day is not None:
        pair("Date", cells.text(day.isoformat()))
    pair("Lot", cells.text(_joined(lot.name for lot in lots)))
    pair("Station", cells.text(_joined(lot.station for lot in lots)))
    products = sorted({lot.product_id for lot in lots})
    # The product id is a number in every sheet (the tray reports' too), so filters and lookups match.
    pair("Product", cells.number(products[0]) if len(products) == 1 else cells.text(_joined(products)))
    pair("Operator", cells.text(_joined(lot.operator for lot in lots)))
    if day is None and len(lots) == 1:
        pair("Lot opened", cells.time(lots[0].created_at))
        pair("Lot closed", cells.time(lots[0].closed_at))
    if now is not None:
        pair("Workbook written", cells.time(now))
    sheet.append([])
    sheet.append([cells.header("State"), cells.header("Units")])
    for state in _STATE_ORDER:
        sheet.append([cells.text(state.value), cells.number(counts[state])])
    pair("Units", cells.number(figures.units))
    pair("Units tested (PASS, FAIL, not confirmed)", cells.number(figures.tested))
    pair("Waiting on the cloud (cloud pending)", cells.number(figures.waiting_on_cloud))
    pair("Refused scans (not units)", cells.number(figures.refused_scans))
    pair("Attempts", cells.number(figures.attempts))
    pair("Reworked units (more than one attempt)", cells.number(figures.reworked))
    pair("Yield (latest attempt PASS / tested)", cells.number(figures.yield_rate, PERCENT_FORMAT))
    pair("First-pass yield (first attempt PASS / tested)", cells.number(figures.first_pass_yield, PERCENT_FORMAT))
    pair("Median cycle time (s)", cells.number(figures.median_cycle_seconds, SECONDS_FORMAT))
    pair("p90 cycle time (s)", cells.number(figures.p90_cycle_seconds, SECONDS_FORMAT))
    sheet.append([])
    sheet.append([cells.header("Failures by reason code"), cells.header("Units")])
    for code, count in figures.failures_by_code:
        sheet.append([cells.text(code), cells.number(count)])
    if measurements:
        _measurement_statistics(sheet, cells, measurements)


_STATS_HEADERS = ("Test / measurement", "Units", "Count", "Mean", "Stdev", "Min", "Max", "Lower", "Upper", "Cpk",
                  "Failures", "Marginal", "Note")
MEASURED_FORMAT = "0.0###"
"""Measured values and their statistics to at most four decimals (a mean of 3.951234... reads 3.9512)."""
CPK_FORMAT = "0.00"


def _measurement_statistics(sheet: WriteOnlyWorksheet, cells: SheetCells,
                            measurements: Sequence[MeasurementRecord]) -> None:
    """Per measurement over every attempt (records/test_stats.py), then failed attempts per test. A Cpk below the
    bar is filled yellow and noted, as ``lot tests`` flags it; one from too few values is not computed."""
    sheet.append([])
    sheet.append([cells.header(text) for text in _STATS_HEADERS])
    stats = measurement_stats(measurements)
    for s in stats:
        if s.cpk_withheld:
            shown_cpk: Cell | str | float | None = cells.text(CPK_TOO_FEW)
            note = ""
        elif s.cpk is not None and s.cpk < CPK_BAR:
            shown_cpk, note = cells.warning(s.cpk, CPK_FORMAT), f"below {CPK_BAR}"
        else:
            shown_cpk, note = cells.number(s.cpk, CPK_FORMAT), ""
        sheet.append([cells.text(f"{s.test} / {s.name}"), cells.text(s.units or ""), cells.number(s.count),
                      *(cells.number(v, MEASURED_FORMAT)
                        for v in (s.mean, s.stdev, s.minimum, s.maximum, s.lower, s.upper)),
                      shown_cpk, cells.number(s.failures), cells.number(s.marginal), cells.text(note) or None])
    if any(s.cpk_withheld for s in stats):
        # Said once under the table: the Summary stays one page wide.
        sheet.append([cells.text(f"Cpk {CPK_TOO_FEW}: not computed from fewer than {MIN_CPK_SAMPLES} values (too "
                                 "few to mean anything)")])
    by_test = failures_by_test(measurements)
    if by_test:
        sheet.append([])
        sheet.append([cells.header("Failures by test (attempts)"), cells.header("Attempts")])
        for test, count in by_test:
            sheet.append([cells.text(test), cells.number(count)])
