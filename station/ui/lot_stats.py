"""A snapshot of the lot for the lot bar (counts, yield, cloud pending, yield and cycle time over the lot); no Qt."""

from __future__ import annotations

from dataclasses import dataclass

from station.records.unit_table import UnitRecord, UnitState
from station.workflow.line import Line, LotCounts

MAX_CHART_POINTS = 500
"""The chart shows at most this many of the latest finished units (a long lot stays cheap to draw)."""

_PASSING = (UnitState.PASS, UnitState.CLOUD_PENDING, UnitState.NOT_CONFIRMED)


@dataclass(frozen=True)
class LotSnapshot:
    lot: str
    operator: str
    station: str
    counts: LotCounts
    cloud_pending_operations: int
    """Cloud operations still waiting in the journal's outbox (all lots)."""
    yield_points: tuple[tuple[int, float], ...]
    """(unit number in the lot, running yield in percent) for every finished unit."""
    cycle_points: tuple[tuple[int, float], ...]
    """(unit number in the lot, cycle time in seconds) for every finished unit with a cycle time."""

    @property
    def yield_text(self) -> str:
        fraction = self.counts.yield_fraction
        return "–" if fraction is None else f"{100 * fraction:.1f} %"

    @property
    def mean_cycle_text(self) -> str:
        if not self.cycle_points:
            return "–"
        recent = [seconds for _, seconds in self.cycle_points[-20:]]
        return f"{sum(recent) / len(recent):.1f} s"


def lot_series(units: list[UnitRecord]) -> tuple[tuple[tuple[int, float], ...], tuple[tuple[int, float], ...]]:
    """Running yield (percent) and cycle time (seconds) per finished unit, in the order units finished."""
    finished = sorted((u for u in units if u.state is not UnitState.IN_PROGRESS and u.ended_at is not None),
                      key=lambda u: (u.ended_at or 0.0, u.id))
    yield_points: list[tuple[int, float]] = []
    cycle_points: list[tuple[int, float]] = []
    passed = 0
    for number, unit in enumerate(finished, start=1):
        passed += unit.state in _PASSING
        yield_points.append((number, 100.0 * passed / number))
        if unit.cycle_seconds is not None:
            cycle_points.append((number, float(unit.cycle_seconds)))
    return tuple(yield_points[-MAX_CHART_POINTS:]), tuple(cycle_points[-MAX_CHART_POINTS:])


def take_snapshot(line: Line) -> LotSnapshot:
    """Read the lot from the journal; runs on a worker thread (it queries SQLite)."""
    units = line.journal.unit_table.all(line.lot)
    yield_points, cycle_points = lot_series(units)
    return LotSnapshot(
        lot=line.lot,
        operator=line.operator,
        station=line.profile.station_name,
        counts=line.counts(),
        cloud_pending_operations=line.journal.outbox_table.count_pending(),
        yield_points=yield_points,
        cycle_points=cycle_points,
    )
