"""The Summary sheet of a lot or day workbook: units per state, yields, cycle time and failures by reason."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from station.records.cells import PERCENT_FORMAT, SECONDS_FORMAT, SheetCells
from station.records.lot_table import LotRecord
from station.records.unit_table import UnitRecord, UnitState

SUMMARY_SHEET = "Summary"
FINISHED_STATES = (UnitState.PASS, UnitState.FAIL, UnitState.NOT_CONFIRMED)
"""States with a final outcome: the denominator of the yield (in progress and cloud pending are not finished)."""
_STATE_ORDER = (
    UnitState.PASS, UnitState.FAIL, UnitState.CLOUD_PENDING, UnitState.NOT_CONFIRMED, UnitState.IN_PROGRESS,
)
_NO_CODE = "(no code recorded)"


@dataclass(frozen=True)
class LotSummary:
    """The figures of the Summary sheet, computed from units' latest states."""

    units: int
    counts: dict[UnitState, int]
    finished: int
    yield_rate: float | None
    """PASS / finished units; None when no unit is finished yet."""
    first_pass_yield: float | None
    """Units whose first result was PASS / all units; None for an empty lot."""
    median_cycle_seconds: float | None
    failures_by_reason: tuple[tuple[str, int], ...]
    """Failed units per reason code (records/reason_code.py), most frequent first, then by code: a Pareto."""


def summarize(units: Sequence[UnitRecord]) -> LotSummary:
    counts = Counter(u.state for u in units)
    finished = sum(counts[s] for s in FINISHED_STATES)
    first_pass = sum(1 for u in units if u.first_result == UnitState.PASS.value)
    cycles = [u.cycle_seconds for u in units if u.cycle_seconds is not None]
    reasons = Counter((u.reason_code or _NO_CODE) for u in units if u.state is UnitState.FAIL)
    return LotSummary(
        units=len(units),
        counts={state: counts[state] for state in _STATE_ORDER},
        finished=finished,
        yield_rate=counts[UnitState.PASS] / finished if finished else None,
        first_pass_yield=first_pass / len(units) if units else None,
        median_cycle_seconds=statistics.median(cycles) if cycles else None,
        failures_by_reason=tuple(sorted(reasons.items(), key=lambda item: (-item[1], item[0]))),
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
) -> None:
    cells = SheetCells(sheet, tz)
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 40
    summary = summarize(units)

    def pair(label: str, value: Cell | str | float | None) -> None:
        sheet.append([cells.header(label), value])

    if day is not None:
        pair("Date", cells.text(day.isoformat()))
    pair("Lot", cells.text(_joined(lot.name for lot in lots)))
    pair("Station", cells.text(_joined(lot.station for lot in lots)))
    pair("Product", cells.text(_joined(lot.product_id for lot in lots)))
    pair("Operator", cells.text(_joined(lot.operator for lot in lots)))
    if day is None and len(lots) == 1:
        pair("Lot opened", cells.time(lots[0].created_at))
        pair("Lot closed", cells.time(lots[0].closed_at))
    if now is not None:
        pair("Workbook written", cells.time(now))
    sheet.append([])
    sheet.append([cells.header("State"), cells.header("Units")])
    for state, count in summary.counts.items():
        sheet.append([cells.text(state.value), cells.number(count)])
    pair("Total units", cells.number(summary.units))
    pair("Finished units (PASS, FAIL, not confirmed)", cells.number(summary.finished))
    pair("Yield (PASS / finished)", cells.number(summary.yield_rate, PERCENT_FORMAT))
    pair("First-pass yield (first result PASS / units)", cells.number(summary.first_pass_yield, PERCENT_FORMAT))
    pair("Median cycle time (s)", cells.number(summary.median_cycle_seconds, SECONDS_FORMAT))
    sheet.append([])
    sheet.append([cells.header("Failures by reason code"), cells.header("Units")])
    for reason, count in summary.failures_by_reason:
        sheet.append([cells.text(reason), cells.number(count)])
