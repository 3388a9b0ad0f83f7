"""A snapshot of the lot for the lot bar (its figures, cloud pending, yield and cycle time over the lot, failures by
test); no Qt.

Every figure comes from station.records.lot_summary, the one module that computes a lot's figures for the bar, the
workbook, the chart and ``particle-station lot summary``.
"""

from __future__ import annotations

from dataclasses import dataclass

from station.records.lot_summary import LotFigures, cycle_series, lot_figures, percent_text, yield_series
from station.records.test_stats import failures_by_test
from station.workflow.line import Line


@dataclass(frozen=True)
class LotSnapshot:
    lot: str
    operator: str
    station: str
    figures: LotFigures
    cloud_pending_operations: int
    """Cloud operations still waiting in the journal's outbox (all lots)."""
    yield_points: tuple[tuple[int, float], ...]
    """(n, yield in percent after the n-th tested unit); the last point is the lot's yield."""
    cycle_points: tuple[tuple[int, float], ...]
    """(n, cycle time in seconds) for every unit that ended with a cycle time."""
    test_failures: tuple[tuple[str, int], ...] = ()
    """(test, failed attempts) of the lot, most first."""

    @property
    def counts(self) -> LotFigures:
        return self.figures

    @property
    def yield_text(self) -> str:
        return percent_text(self.figures.yield_rate)

    @property
    def first_pass_text(self) -> str:
        return percent_text(self.figures.first_pass_yield)

    @property
    def test_failures_text(self) -> str:
        """``Test failures: battery 3 · vin 1`` (the five most frequent), or empty when no test failed."""
        if not self.test_failures:
            return ""
        shown = "  ·  ".join(f"{test} {count}" for test, count in self.test_failures[:5])
        more = len(self.test_failures) - 5
        return "Test failures: " + shown + (f"  ·  {more} more" if more > 0 else "")

    @property
    def mean_cycle_text(self) -> str:
        if not self.cycle_points:
            return "–"
        recent = [seconds for _, seconds in self.cycle_points[-20:]]
        return f"{sum(recent) / len(recent):.1f} s"


def take_snapshot(line: Line) -> LotSnapshot:
    """Read the lot from the journal; runs on a worker thread (it queries SQLite)."""
    units = line.journal.unit_table.all(line.lot)
    return LotSnapshot(
        lot=line.lot,
        operator=line.operator,
        station=line.profile.station_name,
        figures=lot_figures(units, refused_scans=line.refused_scans()),
        cloud_pending_operations=line.journal.outbox_table.count_pending(),
        yield_points=yield_series(units),
        cycle_points=cycle_series(units),
        test_failures=tuple(failures_by_test(line.journal.measurement_table.of_lot(line.lot))),
    )
