"""A simulated line per test: real emulator over sockets, simulated devices behind the real pyusb code path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from station.demo.simulated_line import SimulatedLine, build_simulated_line
from station.workflow.events import UnitEvent
from station.workflow.line import Line
from station.workflow.lot import prepare_lot


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimulatedLine]:
    line = build_simulated_line(tmp_path / "sim", platform="boron", devices=1)
    try:
        yield line
    finally:
        line.close()


@pytest.fixture
def events() -> list[UnitEvent]:
    return []


def make_line(sim: SimulatedLine, events: list[UnitEvent] | None = None, **options: object) -> Line:
    cloud = sim.cloud(max_retries=1)
    line = Line(prepare_lot(sim.profile, cloud), link=sim.link(), operator="ann", find_timeout=1.0,
                outbox_poll=0.05, outbox_base_delay=0.05, **options).start()  # type: ignore[arg-type]
    if events is not None:
        line.events.subscribe(events.append)
    return line
