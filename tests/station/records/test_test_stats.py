"""Per-measurement statistics over a lot: count, mean, stdev, min, max, Cpk against the limits, failures."""

from __future__ import annotations

import statistics

import pytest

from station.records.measurement_table import MeasurementOutcome, MeasurementRecord
from station.records.test_stats import MIN_CPK_SAMPLES, cpk, measurement_stats


def record(n: int, value: float | None, outcome: str = "PASS", *, name: str = "voltage") -> MeasurementRecord:
    return MeasurementRecord(id=n, unit_id=n, attempt=1, test="battery", name=name, value_num=value,
                             value_text=None, units="V", lower=3.6, upper=4.3, marginal_lower=None,
                             marginal_upper=None, validator="3.6 <= x <= 4.3",
                             outcome=MeasurementOutcome(outcome), marginal=False, started_at=0.0, duration_s=0.1)


def test_statistics_per_measurement_with_cpk_against_the_nearer_limit() -> None:
    values = [3.9, 4.0, 4.1, 3.95, 4.05] * 6
    records = [record(n, v) for n, v in enumerate(values)] + [record(99, 3.2, "FAIL"), record(100, None, "UNSET")]
    [stats] = measurement_stats(records)
    numbers = [*values, 3.2]
    assert (stats.count, stats.failures, stats.samples) == (32, 2, 31)
    assert stats.mean == pytest.approx(statistics.fmean(numbers))
    assert stats.stdev == pytest.approx(statistics.stdev(numbers))
    assert (stats.minimum, stats.maximum) == (3.2, 4.1)
    mean, sigma = statistics.fmean(numbers), statistics.stdev(numbers)
    assert stats.cpk == pytest.approx(min(4.3 - mean, mean - 3.6) / (3 * sigma))
    assert stats.cpk_text() == f"{stats.cpk:.2f}" and not stats.cpk_withheld


def test_a_cpk_from_fewer_than_the_minimum_values_is_not_computed() -> None:
    """Two (or 29) values give a number that means nothing: it is withheld and shown as 'n < 30'."""
    assert MIN_CPK_SAMPLES == 30
    for values in ([3.9, 4.2], [3.9, 4.0, 4.1] * 9 + [3.95, 4.05]):
        [stats] = measurement_stats([record(n, v) for n, v in enumerate(values)])
        assert stats.mean is not None and stats.stdev is not None  # the other figures still show
        assert stats.cpk is None and stats.cpk_withheld and not stats.cpk_below_bar
        assert stats.cpk_text() == "n < 30"
        assert stats.as_json()["cpk_not_computed"] == "n < 30"


def test_a_low_cpk_is_below_the_bar() -> None:
    values = [3.65, 4.25] * 15
    [stats] = measurement_stats([record(n, v) for n, v in enumerate(values)])
    assert stats.cpk is not None and stats.cpk < 1.33 and stats.cpk_below_bar
    assert stats.as_json()["cpk_not_computed"] is None


def test_cpk_needs_a_limit_enough_values_and_spread() -> None:
    spread = [1.0, 2.0] * 15
    assert cpk(spread, None, None) is None
    assert cpk([1.0, 2.0], 0.0, 3.0) is None  # too few
    assert cpk([1.0] * 30, 0.0, 3.0) is None
    assert cpk(spread, None, 3.0) == pytest.approx((3.0 - 1.5) / (3 * statistics.stdev(spread)))
    assert cpk([1.0, 2.0], None, 3.0, minimum=2) == pytest.approx((3.0 - 1.5) / (3 * statistics.stdev([1.0, 2.0])))


def test_each_measurement_gets_its_own_line_in_first_seen_order() -> None:
    stats = measurement_stats([record(1, 4.0), record(2, 1.0, name="current"), record(3, 4.1)])
    assert [(s.name, s.count) for s in stats] == [("voltage", 2), ("current", 1)]
