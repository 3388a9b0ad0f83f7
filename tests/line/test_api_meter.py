"""Particle API requests counted per minute for the line's budget (the station row's api_requests)."""

from __future__ import annotations

from pathlib import Path

from station.line.api_meter import ApiMeter
from tests.conftest import MemoryKeyring
from tests.line.conftest import LineDb
from tests.line.stations import line_rows, simulated_station, start_line, wait_until


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


def test_a_stations_particle_api_requests_reach_the_line_database(
        tmp_path: Path, line_db: LineDb, memory_keyring: MemoryKeyring) -> None:
    """Every request the station's ParticleCloud sends (the Line hooks its feed's meter in: `run` and the demo
    alike) is counted in its row of line.stations, the figure the dashboard sets against the per-IP budget."""
    sim = simulated_station(tmp_path, "a", line_db, memory_keyring, devices=2)
    line = start_line(sim, "LOT-API")
    try:
        sim.emulator.clear_request_log()
        for device in sim.devices:
            assert line.scan(device.label).result(60).state.value == "PASS"
        sent = len(sim.emulator.request_log)
        assert sent > 0

        def counted() -> int:
            rows = line_rows(line_db, "SELECT api_requests FROM line.stations WHERE station = 'a'")
            return sum(rows[0][0].values()) if rows else -1  # type: ignore[attr-defined]

        # each request the emulator answered, counted once (read together: the outbox may still be sending)
        wait_until(lambda: counted() == len(sim.emulator.request_log) >= sent, 30,
                   "the requests counted in line.stations")
    finally:
        line.close()
        sim.close()
