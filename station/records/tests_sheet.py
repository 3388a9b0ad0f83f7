"""The Tests sheet of a workbook: every measurement of every attempt, one row each, with its limits and outcome
(the journal's measurements table as a spreadsheet, filterable by test, measurement and outcome)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from station.records.cells import SheetData, local_datetime
from station.records.measurement_table import MeasurementRecord
from station.records.unit_table import UnitRecord

TESTS_SHEET = "Tests"
_HEADERS = ("Serial", "Device ID", "Attempt", "Test", "Measurement", "Value", "Units", "Lower", "Upper",
            "Marginal lower", "Marginal upper", "Limit", "Outcome", "Marginal", "Started", "Seconds")
_WIDTHS = (18, 26, 8, 16, 20, 14, 7, 9, 9, 9, 9, 48, 9, 9, 20, 8)  # the limit: OpenHTF validator text on one line


def tests_sheet(units: Sequence[UnitRecord], measurements: Sequence[MeasurementRecord],
                tz: tzinfo | None = None) -> SheetData:
    by_id = {unit.id: unit for unit in units}
    rows: list[list[object]] = [list(_HEADERS)]
    for m in measurements:
        unit = by_id.get(m.unit_id)
        if unit is None:
            continue
        rows.append([
            unit.serial or unit.unit_key, unit.device_id or "", m.attempt, m.test, m.name,
            m.value_num if m.value_num is not None else m.value_shown, m.units or "", m.lower, m.upper,
            m.marginal_lower, m.marginal_upper, m.validator or "", m.outcome.value, "yes" if m.marginal else "",
            local_datetime(m.started_at, tz).strftime("%Y-%m-%d %H:%M:%S"),
            round(m.duration_s, 3) if m.duration_s is not None else None,
        ])
    # Printed, the header row and the serial repeat on every page; 16 columns print over pages across, not squeezed.
    return SheetData(TESTS_SHEET, rows, widths=_WIDTHS, title_rows=1, title_columns=1, wide=True)
