"""Real journals for the line tests: simulated stations (zero device timing) running real units, each fed to the
line database through its own role, its password in the (in-memory) OS keyring."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from hardware.simulated import Timing
from station.config.profile_loader import load_profile
from station.demo.simulated_line import SimulatedLine, build_simulated_line
from station.line.connection import KEYRING_SERVICE
from station.line.roles import make_station_role, station_role
from station.line.schema import ensure_schema
from station.workflow.line import Line
from station.workflow.lot import prepare_lot
from tests.line.conftest import LineDb


def simulated_station(tmp_path: Path, name: str, line_db: LineDb, keyring: object, *, devices: int = 2,
                      on_duplicate: str = "refuse", feed: bool = True) -> SimulatedLine:
    """A simulated station whose profile feeds ``line_db`` as ``line_station_<name>`` (unless not ``feed``)."""
    with line_db.connect() as admin:
        ensure_schema(admin)
        make_station_role(admin, name, f"pw-{name}")
    role = station_role(name)
    keyring.set_password(KEYRING_SERVICE, f"{role}@127.0.0.1", f"pw-{name}")  # type: ignore[attr-defined]
    sim = build_simulated_line(tmp_path / name, devices=devices, station_name=name, timing=Timing.zero(),
                               connect_delay=None, steps='pre_add = true\nsim_activation = "off"\n')
    if not feed:
        return sim
    with sim.profile.path.open("a", encoding="utf-8") as profile:
        profile.write(f'\n[line]\ndatabase = "{line_db.url(role)}"\non_duplicate = "{on_duplicate}"\n')
    sim.profile = load_profile(sim.profile.path)
    return sim


def start_line(sim: SimulatedLine, lot: str) -> Line:
    return Line(prepare_lot(sim.profile, sim.cloud(max_retries=1)), link=sim.link(), operator="ann",
                find_timeout=2.0, outbox_poll=0.05, outbox_base_delay=0.05, lot=lot).start()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout:.0f} s")


def line_rows(line_db: LineDb, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    try:
        with line_db.connect() as conn:
            return list(conn.execute(sql.encode(), params).fetchall())
    except psycopg.OperationalError:
        return []
