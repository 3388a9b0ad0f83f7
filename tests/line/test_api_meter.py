"""Particle API requests counted per minute for the line's budget (the station row's api_requests)."""

from __future__ import annotations

from station.line.api_meter import ApiMeter


def test_requests_are_counted_by_the_minute_they_started_in_and_an_hour_is_kept() -> None:
    now = [600.0]
    meter = ApiMeter(clock=lambda: now[0])
    meter.record()
    meter.record(object())
    now[0] = 661.0
    meter.record()
    assert meter.snapshot() == {"600": 2, "660": 1}
    now[0] = 600.0 + 61 * 60
    meter.record()
    assert meter.snapshot() == {"660": 1, "4260": 1}
