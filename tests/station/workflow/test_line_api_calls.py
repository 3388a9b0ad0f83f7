"""API requests per unit on a Boron line with the default steps, counted at the emulator (real sockets).

Importing a device into a product also imports and activates its Particle SIM (docs.particle.io Cloud API, 'Import
devices into product'), so the station neither checks nor activates it again; it never looks serial numbers up (50
per hour per account, docs.particle.io 'API rate limits').
"""

from __future__ import annotations

from collections import Counter

from station.demo.simulated_line import SimulatedLine
from station.records.unit_table import UnitState

from .conftest import make_line

UNITS = 4


def test_a_boron_unit_costs_at_most_three_and_a_half_requests_and_its_sim_ends_active(sim: SimulatedLine) -> None:
    devices = [sim.devices[0], *(sim.add_device() for _ in range(UNITS - 1))]
    with make_line(sim) as line:
        sim.emulator.clear_request_log()
        results = [line.scan(device.label).result(timeout=60) for device in devices]
        assert [r.state for r in results] == [UnitState.PASS] * UNITS, [r.reason for r in results]
        log = sim.emulator.request_log
    assert len(log) / UNITS <= 3.5, Counter((method, path) for method, path, _ in log)
    assert not [path for _, path, _ in log if path.startswith("/v1/serial_numbers")]
    assert not [path for _, path, _ in log if "/sims" in path]
    sim.emulator.advance_time(60)
    for device in devices:
        assert device.iccid is not None
        assert sim.emulator.sim_status(device.iccid.value) == "active"
