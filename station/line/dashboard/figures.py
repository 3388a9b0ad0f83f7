"""The dashboard's arithmetic on rows already read: yields, Cpk, the cycle-time bins and the Particle API budget.

Yield is counted per unit, by attempt, as station.records.lot_summary defines it for one station (TofuPilot, "First
pass yield", https://www.tofupilot.com/docs/analytics/yield): units tested are those whose latest attempt has an
outcome (PASS, FAIL, "not confirmed"); yield = units whose latest attempt passed / units tested; first-pass yield =
units whose first attempt passed / units tested; running, "cloud pending" and interrupted (aborted) units are outside
both. Cpk = min(USL - mean, mean - LSL) / (3 sigma), the usual bar being 1.33 (ISO 22514-2; TofuPilot, "Process
capability").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from station.records.test_stats import MIN_CPK_SAMPLES
from station.records.unit_table import UnitState

TESTED = (UnitState.PASS.value, UnitState.FAIL.value, UnitState.NOT_CONFIRMED.value)
"""States with an outcome: the denominator of every yield."""
NOT_PASSED = (UnitState.FAIL.value, UnitState.NOT_CONFIRMED.value)
"""States that count as failures in the Pareto (an online time-out counts like a time-out)."""
NO_OUTCOME = (UnitState.IN_PROGRESS.value, UnitState.INTERRUPTED.value)
"""States whose cycle time is not a finished cycle."""
NO_CODE = "(no code recorded)"
CPK_BAR = 1.33
CPK_MIN_SAMPLES = MIN_CPK_SAMPLES
"""No Cpk from fewer values than this (the station's own minimum, station.records.test_stats): the panel says
"n < 30" instead."""

API_BUDGET = 10_000
API_WINDOW_S = 300.0
"""Particle's Cloud API limit per public IP: 10,000 requests per 5 minutes (docs.particle.io, Cloud API reference,
"API rate limits"). Stations behind one factory NAT share it, so the line's total is what counts."""
API_SERIES_MINUTES = 30


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Tally:
    """Units counted over a group (a station, an hour, a lot)."""

    tested: int = 0
    passed: int = 0
    first_pass: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.tested + other.tested, self.passed + other.passed, self.first_pass + other.first_pass)

    def as_json(self) -> dict[str, Any]:
        return {"tested": self.tested, "passed": self.passed, "failed": self.tested - self.passed,
                "yield": ratio(self.passed, self.tested), "fpy": ratio(self.first_pass, self.tested)}


def cpk(mean: float | None, sigma: float | None, lower: float | None, upper: float | None) -> float | None:
    """Process capability of one measurement; one-sided when only one limit is set; None when it cannot be told."""
    if mean is None or sigma is None or not math.isfinite(sigma) or sigma <= 0 or (lower is None and upper is None):
        return None
    sides = [x for x in ((upper - mean) if upper is not None else None,
                         (mean - lower) if lower is not None else None) if x is not None]
    return min(sides) / (3 * sigma)


def too_few_for_cpk(samples: int) -> str | None:
    """What the panel shows instead of a Cpk of ``samples`` values when they are too few; None when enough."""
    return f"n < {CPK_MIN_SAMPLES}" if samples < CPK_MIN_SAMPLES else None


@dataclass(frozen=True)
class Bins:
    """Equal-width bins from ``start``; the last one also holds everything above it."""

    start: float
    width: float
    count: int

    def edges(self) -> list[tuple[float, float]]:
        return [(self.start + i * self.width, self.start + (i + 1) * self.width) for i in range(self.count)]


def cycle_bins(low: float, high: float, *, target: int = 16) -> Bins:
    """About ``target`` bins of a round width (1, 2 or 5 times a power of ten seconds) covering low..high."""
    low, high = max(0.0, low), max(high, low)
    span = high - low
    if span <= 0:
        return Bins(math.floor(low), 1.0, 1)
    raw = span / target
    power = 10 ** math.floor(math.log10(raw))
    width = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    start = math.floor(low / width) * width
    return Bins(start, width, max(1, math.ceil((high - start) / width)))


def minute_counts(value: Any) -> dict[int, int]:
    """A station's ``api_requests`` (jsonb): requests per minute, keyed by the minute's start in epoch seconds.

    Accepted shapes: ``{"<minute start>": count}`` or ``[{"minute": start, "count": n}, ...]`` or
    ``[[start, n], ...]``. Anything else reads as no requests (the station row stays readable)."""
    items: Iterable[tuple[Any, Any]]
    if isinstance(value, Mapping):
        items = value.items()
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        pairs: list[tuple[Any, Any]] = []
        for entry in value:
            if isinstance(entry, Mapping):
                pairs.append((entry.get("minute", entry.get("at")), entry.get("count", entry.get("requests"))))
            elif isinstance(entry, Sequence) and len(entry) == 2:
                pairs.append((entry[0], entry[1]))
        items = pairs
    else:
        return {}
    counts: dict[int, int] = {}
    for minute, count in items:
        try:
            start = int(float(minute)) // 60 * 60
            number = int(count)
        except (TypeError, ValueError):
            continue
        if number > 0:
            counts[start] = counts.get(start, 0) + number
    return counts


def api_usage(per_station: Mapping[str, dict[int, int]], now: float) -> dict[str, Any]:
    """The line's request rate against the shared per-IP budget: the last 5 minutes' total, its share of the
    budget, and requests per minute over the last half hour (line and per station)."""
    this_minute = int(now) // 60 * 60
    window_start = now - API_WINDOW_S
    minutes = [this_minute - 60 * i for i in range(API_SERIES_MINUTES - 1, -1, -1)]
    used_by_station = {name: sum(n for m, n in counts.items() if m + 60 > window_start)
                       for name, counts in per_station.items()}
    used = sum(used_by_station.values())
    series = [{"minute": m, "requests": sum(c.get(m, 0) for c in per_station.values())} for m in minutes]
    return {"budget": API_BUDGET, "window_s": API_WINDOW_S, "used": used, "share": used / API_BUDGET,
            "per_station": used_by_station, "per_minute": series}
