"""Statistics of each measurement over a lot: count, mean, standard deviation, min, max, Cpk against the limits and
failures; what the workbook's Summary, the Tests sheet and ``particle-station lot tests`` show.

Every attempt's measurement counts (a retested unit contributes each run, as test executives count runs). Process
capability as line yield tools define it (TofuPilot, "Cpk"): Cpk = min(USL - mean, mean - LSL) / (3 sigma), with
sigma the sample standard deviation; with one limit only that side counts; no Cpk without a limit, with fewer than
``MIN_CPK_SAMPLES`` values or when every value is the same. Cpk >= 1.33 is the usual bar.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from station.records.measurement_table import MeasurementOutcome, MeasurementRecord

CPK_BAR = 1.33
"""The usual bar of a capable process."""
MIN_CPK_SAMPLES = 30
"""Fewest numeric values a Cpk is computed from. A Cpk from a handful of values is noise, not a capability: its
standard error is about sqrt(1/(9n) + Cpk^2/(2(n-1))) (Bissell 1990, "How reliable is your capability index?",
Applied Statistics 39), so at n = 2 a true 1.33 reads anywhere from 0 to 3, and only from about 30 values is it
within roughly +-0.35 of the truth (95 %); 30 is also the common rule of thumb of capability studies (AIAG SPC
manual: at least 25 subgroups). The line dashboard should apply the same minimum (import it from here)."""
CPK_TOO_FEW = f"n < {MIN_CPK_SAMPLES}"
"""What is shown instead of a Cpk withheld for too few values."""


@dataclass(frozen=True)
class MeasurementStats:
    test: str
    name: str
    units: str | None
    count: int
    """Measurements taken (every attempt); non-numeric values count here and in ``failures`` only."""
    failures: int
    """Measurements that failed their limit or were never taken (no reply)."""
    marginal: int
    mean: float | None
    stdev: float | None
    minimum: float | None
    maximum: float | None
    lower: float | None
    """The limits of the latest measurement (the profile's current ones)."""
    upper: float | None
    cpk: float | None
    """None without a limit, without spread, or from fewer than ``MIN_CPK_SAMPLES`` values (``cpk_withheld``)."""
    samples: int = 0
    """Numeric values among ``count``: what mean, standard deviation and Cpk are computed from."""

    @property
    def cpk_withheld(self) -> bool:
        """The measurement has a limit but too few values for a meaningful Cpk."""
        return self.cpk is None and (self.lower is not None or self.upper is not None) and \
            self.samples < MIN_CPK_SAMPLES

    @property
    def cpk_below_bar(self) -> bool:
        return self.cpk is not None and self.cpk < CPK_BAR

    def cpk_text(self) -> str:
        """The Cpk as every report shows it: two decimals, ``n < 30`` when withheld, ``–`` when there is none."""
        if self.cpk is not None:
            return f"{self.cpk:.2f}"
        return CPK_TOO_FEW if self.cpk_withheld else "–"

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "cpk_not_computed": CPK_TOO_FEW if self.cpk_withheld else None}


def measurement_stats(records: Sequence[MeasurementRecord]) -> list[MeasurementStats]:
    """One entry per (test, measurement), in the order they were first taken."""
    groups: dict[tuple[str, str], list[MeasurementRecord]] = {}
    for record in records:
        groups.setdefault((record.test, record.name), []).append(record)
    return [_stats(test, name, rows) for (test, name), rows in groups.items()]


def failures_by_test(records: Sequence[MeasurementRecord]) -> list[tuple[str, int]]:
    """Failed attempts per test (a test failed in an attempt when any of its measurements did not pass), most
    first: the Pareto of the lot view and ``lot tests``."""
    failed = {(r.unit_id, r.attempt, r.test) for r in records if r.outcome is not MeasurementOutcome.PASS}
    counts: dict[str, int] = {}
    for _, _, test in failed:
        counts[test] = counts.get(test, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def cpk(values: Sequence[float], lower: float | None, upper: float | None, *,
        minimum: int = MIN_CPK_SAMPLES) -> float | None:
    """Cpk of ``values`` against the limits; None with fewer than ``minimum`` values (at least 2), without a limit
    or without spread."""
    if len(values) < max(2, minimum) or (lower is None and upper is None):
        return None
    sigma = statistics.stdev(values)
    if sigma == 0:
        return None
    mean = statistics.fmean(values)
    sides = [side for side in ((upper - mean) if upper is not None else None,
                               (mean - lower) if lower is not None else None) if side is not None]
    return min(sides) / (3 * sigma)


def _stats(test: str, name: str, rows: list[MeasurementRecord]) -> MeasurementStats:
    numbers = [r.value_num for r in rows if r.value_num is not None]
    latest = rows[-1]
    return MeasurementStats(
        test=test, name=name, units=latest.units, count=len(rows),
        failures=sum(1 for r in rows if r.outcome is not MeasurementOutcome.PASS),
        marginal=sum(1 for r in rows if r.marginal),
        mean=statistics.fmean(numbers) if numbers else None,
        stdev=statistics.stdev(numbers) if len(numbers) >= 2 else None,
        minimum=min(numbers) if numbers else None,
        maximum=max(numbers) if numbers else None,
        lower=latest.lower, upper=latest.upper,
        cpk=cpk(numbers, latest.lower, latest.upper),
        samples=len(numbers),
    )
