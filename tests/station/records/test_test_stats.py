"""Per-measurement statistics over a lot: count, mean, stdev, min, max, Cpk against the limits, failures."""

from __future__ import annotations

import statistics

import pytest

from station.records.measurement_table import MeasurementOutcome, MeasurementRecord
from station.records.test_stats import cpk, measurement_stats


def record(n: int, value: float | None, outcome: str = "PASS", *, name: str = "voltage") -> MeasurementRecord:
    return MeasurementRecord(id=n, unit_id=n, attempt=1, test="battery", name=name, value_num=value,
                             value_text=None, units="V", lower=3.6, upper=4.3, marginal_lower=None,
                             marginal_upper=None, validator="3.6 <= x <= 4.3",
                             outcome=MeasurementOutcome(outcome), marginal=False, started_at=0.0, duration_s=0.1)


def test_statistics_per_measurement_with_cpk_against_the_nearer_limit() -> None:
    values = [3.9, 4.0, 4.1, 3.95, 4.05]
    records = [record(n, v) for n, v in enumerate(values)] + [record(9, 3.2, "FAIL"), record(10, None, "UNSET")]
    [stats] = measurement_stats(records)
    numbers = [*values, 3.2]
    assert (stats.count, stats.failures) == (7, 2)
    assert stats.mean == pytest.approx(statistics.fmean(numbers))
    assert stats.stdev == pytest.approx(statistics.stdev(numbers))
    assert (stats.minimum, stats.maximum) == (3.2, 4.1)
    mean, sigma = statistics.fmean(numbers), statistics.stdev(numbers)
    assert stats.cpk == pytest.approx(min(4.3 - mean, mean - 3.6) / (3 * sigma))


def test_cpk_needs_a_limit_two_values_and_spread() -> None:
    assert cpk([1.0, 2.0], None, None) is None
    assert cpk([1.0], 0.0, 3.0) is None
    assert cpk([1.0, 1.0], 0.0, 3.0) is None
    assert cpk([1.0, 2.0], None, 3.0) == pytest.approx((3.0 - 1.5) / (3 * statistics.stdev([1.0, 2.0])))


def test_each_measurement_gets_its_own_line_in_first_seen_order() -> None:
    stats = measurement_stats([record(1, 4.0), record(2, 1.0, name="current"), record(3, 4.1)])
    assert [(s.name, s.count) for s in stats] == [("voltage", 2), ("current", 1)]
