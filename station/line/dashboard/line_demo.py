"""``particle-station demo --line N``: a throwaway PostgreSQL, N simulated stations feeding it and the dashboard.

Each station is the real thing on simulated devices (station.demo.simulated_line): its own profile, SQLite journal
and cloud emulator in a temporary folder, its replicator feeding the line database through its own role
(``line_station_<name>``); an operator thread per station scans unit after unit into one shared lot, now and then a
label stuck on the wrong unit, so the dashboard shows a line with failures. The roles' password is made up for this
process and reaches the stations and the dashboard through PARTICLE_STATION_LINE_DB_PASSWORD (never a file).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from station.errors import StationError
from station.line.connection import PASSWORD_ENV
from station.line.dashboard.reader import DashboardError
from station.line.dashboard.server import DashboardServer
from station.line.roles import make_dashboard_role, make_station_role, station_role
from station.line.schema import DASHBOARD_ROLE, ensure_schema
from station.line.throwaway_pg import ThrowawayServer, throwaway_postgres

DATABASE = "line"
DEFAULT_PORT = 8080
WRONG_LABEL_EVERY = 9
"""One scan in this many is a label stuck on the wrong unit (it fails: the dashboard's Pareto has something)."""


@dataclass
class DemoStation:
    name: str
    sim: Any  # station.demo.simulated_line.SimulatedLine
    line: Any  # station.workflow.line.Line
    scanner: Any  # station.commands.demo.DemoScanner


def station_names(count: int) -> list[str]:
    return [f"bench-{n}" for n in range(1, count + 1)]


def prepare_database(server: ThrowawayServer, names: list[str], password: str) -> None:
    """The line database with its schema, one role per station and the dashboard's (all with ``password``)."""
    server.create_database(DATABASE)
    with psycopg.connect(server.conninfo(DATABASE), autocommit=True) as admin:
        ensure_schema(admin)
        for name in names:
            make_station_role(admin, name, password)
        make_dashboard_role(admin, password)


OpenStation = Callable[..., tuple[Any, Any, Any]]
"""``open_station(folder, name, database_url, lot=..., **options)``: a started simulated station feeding the line
database at ``database_url`` (its simulated line, its started Line, its label source); station.commands.demo has it,
so this package never reaches up into the workflow."""


@contextmanager
def demo_stations(server: ThrowawayServer, root: Path, names: list[str], *, open_station: OpenStation, lot: str,
                  **options: Any) -> Iterator[list[DemoStation]]:
    """Start one simulated station per name, each feeding the line database; closed when the block ends."""
    with ExitStack() as stack:
        stations: list[DemoStation] = []
        for name in names:
            sim, line, labels = open_station(root / name, name, server.url(DATABASE, user=station_role(name)),
                                             lot=lot, **options)
            stack.callback(sim.close)
            stack.callback(line.close)
            stations.append(DemoStation(name, sim, line, labels))
        yield stations


@contextmanager
def start_dashboard(url: str, host: str, port: int | None) -> Iterator[DashboardServer]:
    """The dashboard on ``port``; by default 8080, or any free port when 8080 is taken."""
    server = DashboardServer(url, host=host, port=DEFAULT_PORT if port is None else port, refresh_s=10.0)
    try:
        server.start()
    except DashboardError:
        if port is not None:
            raise
        server = DashboardServer(url, host=host, port=0, refresh_s=10.0).start()
    try:
        yield server
    finally:
        server.stop()


def operate(station: DemoStation, stop: threading.Event) -> None:
    """An operator at one station: scan the next unit whenever a slot is free, sometimes a wrong label."""
    scans = 0
    while not stop.is_set():
        if not station.line.wait_for_free_slot(timeout=0.5):
            continue
        scans += 1
        label = station.scanner.wrong_label() if scans % WRONG_LABEL_EVERY == 0 else station.scanner.next_label()
        try:
            station.line.scan(label)
        except StationError as exc:  # a refused scan is part of the demo; the operator scans the next unit
            if stop.is_set():
                return
            print(f"{station.name}: {exc}")
        stop.wait(0.3)


def run_line_demo(count: int, root: Path, *, open_station: OpenStation,
                  host: str = "127.0.0.1", port: int | None = None, announce: Callable[[str], None] = print,
                  until: threading.Event | None = None, **options: Any) -> int:
    """Run the demo until Ctrl-C (or ``until`` is set); raises PostgresNotInstalled (one sentence) without
    PostgreSQL. ``open_station`` starts one simulated station (see OpenStation)."""
    import os
    import signal

    names = station_names(count)
    password = secrets.token_urlsafe(18)
    os.environ[PASSWORD_ENV] = password  # this process only: the stations' feeds and the dashboard read it
    stop = until or threading.Event()
    if threading.current_thread() is threading.main_thread():
        # a service manager's stop (SIGTERM) ends the demo like Ctrl-C: PostgreSQL stopped, its folder removed
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with throwaway_postgres() as server:
        prepare_database(server, names, password)
        lot = f"LINE-DEMO-{time.strftime('%Y%m%d')}"
        with demo_stations(server, root, names, open_station=open_station, lot=lot, **options) as stations, \
                start_dashboard(server.url(DATABASE, user=DASHBOARD_ROLE), host, port) as dashboard:
            workers = [threading.Thread(target=operate, args=(s, stop), name=f"operator-{s.name}", daemon=True)
                       for s in stations]
            for worker in workers:
                worker.start()
            announce(f"line dashboard at {dashboard.url}  ({count} simulated stations feeding a throwaway "
                     f"PostgreSQL on 127.0.0.1:{server.port}, lot {lot}); Ctrl-C stops the demo")
            try:
                while not stop.wait(0.5):
                    pass
            except KeyboardInterrupt:
                announce("stopping the line demo …")
            finally:
                stop.set()
                for worker in workers:
                    worker.join(timeout=10)
    return 0
