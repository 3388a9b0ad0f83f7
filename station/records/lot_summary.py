"""The lot's figures, computed in one place: the lot bar, the workbook's Summary sheet, the chart and
``particle-station lot summary`` all show what this module computes (README, "Lot figures").

Yield is counted per unit, by attempt, as line yield tools define it (TofuPilot, "First pass yield",
https://www.tofupilot.com/docs/analytics/yield): first-pass yield = units that passed on their first attempt / units
tested; last-pass yield = units whose latest attempt passed / units tested; errors and time-outs count as failures.
This station decides how its own states count:

- *units tested* = units whose latest attempt has an outcome: PASS, FAIL or "not confirmed";
- "not confirmed" (the cloud did not see the unit online within the time box) counts as tested and not passed,
  like a time-out;
- "cloud pending" (device done, cloud work still queued) and "in progress" have no outcome yet: they are shown
  apart ("waiting on the cloud", "running") and count in neither the numerator nor the denominator until settled;
- "interrupted" (the station stopped while the unit ran) is an aborted run: shown apart, outside yield;
- refused scans (a label refused before a unit existed) are not units: counted apart, outside yield.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from station.records.unit_table import UnitRecord, UnitState
from station.records.wording import counted

TESTED_STATES = (UnitState.PASS, UnitState.FAIL, UnitState.NOT_CONFIRMED)
"""States with an outcome: the denominator of every yield."""
NO_CODE = "(no code recorded)"
"""The reason code shown for a failure recorded before codes existed."""
MAX_CHART_POINTS = 500
"""The chart shows at most this many of the latest tested units (a long lot stays cheap to draw)."""


@dataclass(frozen=True)
class LotFigures:
    units: int
    """Units scanned into the lot (refused scans are not units)."""
    passed: int
    failed: int
    waiting_on_cloud: int
    """'cloud pending': device done, cloud work still queued; no outcome yet."""
    not_confirmed: int
    running: int
    """'in progress'."""
    interrupted: int
    """The station stopped while the unit ran (Ctrl-C, shutdown): no outcome, like an aborted run."""
    tested: int
    """PASS + FAIL + not confirmed: the denominator of the yields."""
    attempts: int
    """Attempts over every unit (runs); more than ``units`` means rework."""
    reworked: int
    """Units with more than one attempt."""
    refused_scans: int
    yield_rate: float | None
    """Last-pass yield: units whose latest attempt passed / units tested; None before a unit is tested."""
    first_pass_yield: float | None
    """Units tested whose first attempt passed / units tested; None before a unit is tested."""
    median_cycle_seconds: float | None
    p90_cycle_seconds: float | None
    """90th percentile of the latest attempts' cycle times (nearest rank)."""
    failures_by_code: tuple[tuple[str, int], ...]
    """Units tested that did not pass (FAIL, not confirmed) per reason code, most frequent first, then by code."""

    @property
    def finished(self) -> int:
        """Units with an outcome: the same as ``tested``."""
        return self.tested

    def sentence(self) -> str:
        """The figures in one line, as the headless run and ``lot summary`` print them."""
        text = (f"{counted(self.units, 'unit')}: {self.passed} PASS, {self.failed} FAIL, "
                f"{self.waiting_on_cloud} waiting on the cloud, {self.not_confirmed} not confirmed")
        if self.running:
            text += f", {self.running} running"
        if self.interrupted:
            text += f", {self.interrupted} interrupted"
        text += (f"; yield {percent_text(self.yield_rate)}, first-pass yield {percent_text(self.first_pass_yield)} "
                 f"(of {self.tested} tested)")
        if self.refused_scans:
            text += (f"; {counted(self.refused_scans, 'refused scan')} "
                     f"({'not a unit' if self.refused_scans == 1 else 'not units'})")
        return text

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["failures_by_code"] = [{"code": code, "units": count} for code, count in self.failures_by_code]
        return data


def lot_figures(units: Sequence[UnitRecord], *, refused_scans: int = 0) -> LotFigures:
    counts = Counter(u.state for u in units)
    tested = [u for u in units if u.state in TESTED_STATES]
    first_pass = sum(1 for u in tested if u.first_result == UnitState.PASS.value)
    cycles = sorted(float(u.cycle_seconds) for u in units if u.cycle_seconds is not None
                    and u.state not in (UnitState.IN_PROGRESS, UnitState.INTERRUPTED))
    codes = Counter((u.reason_code or NO_CODE) for u in tested if u.state is not UnitState.PASS)
    return LotFigures(
        units=len(units),
        passed=counts[UnitState.PASS],
        failed=counts[UnitState.FAIL],
        waiting_on_cloud=counts[UnitState.CLOUD_PENDING],
        not_confirmed=counts[UnitState.NOT_CONFIRMED],
        running=counts[UnitState.IN_PROGRESS],
        interrupted=counts[UnitState.INTERRUPTED],
        tested=len(tested),
        attempts=sum(u.attempts for u in units),
        reworked=sum(1 for u in units if u.attempts > 1),
        refused_scans=refused_scans,
        yield_rate=counts[UnitState.PASS] / len(tested) if tested else None,
        first_pass_yield=first_pass / len(tested) if tested else None,
        median_cycle_seconds=statistics.median(cycles) if cycles else None,
        p90_cycle_seconds=cycles[math.ceil(0.9 * len(cycles)) - 1] if cycles else None,
        failures_by_code=tuple(sorted(codes.items(), key=lambda item: (-item[1], item[0]))),
    )


def yield_series(units: Sequence[UnitRecord]) -> tuple[tuple[int, float], ...]:
    """(n, last-pass yield in percent after the n-th tested unit), in the order units ended; its last point is
    ``lot_figures(units).yield_rate``."""
    tested = sorted((u for u in units if u.state in TESTED_STATES),
                    key=lambda u: (u.ended_at or u.updated_at, u.id))
    points: list[tuple[int, float]] = []
    passed = 0
    for number, unit in enumerate(tested, start=1):
        passed += unit.state is UnitState.PASS
        points.append((number, 100.0 * passed / number))
    return tuple(points[-MAX_CHART_POINTS:])


def cycle_series(units: Sequence[UnitRecord]) -> tuple[tuple[int, float], ...]:
    """(n, cycle time in seconds) of every unit that ended with a cycle time, in the order units ended."""
    ended = sorted((u for u in units if u.state is not UnitState.IN_PROGRESS and u.cycle_seconds is not None),
                   key=lambda u: (u.ended_at or u.updated_at, u.id))
    return tuple((n, float(u.cycle_seconds or 0.0)) for n, u in enumerate(ended, start=1))[-MAX_CHART_POINTS:]


def percent_text(fraction: float | None) -> str:
    """A yield as every screen and report prints it."""
    return "–" if fraction is None else f"{100 * fraction:.1f} %"
