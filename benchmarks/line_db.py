"""The line database under load: simulated stations feeding one PostgreSQL, an outage, and the dashboard's queries.

Run from the repository root: ``.venv/bin/python benchmarks/line_db.py`` (needs PostgreSQL installed; it starts a
throwaway server). Measures, in one run:
1. replication lag, two ways. (a) ``--stations`` simulated stations (default 8) of ``--slots`` slots (4), zero
   device timing, each in its own process as on its own bench PC: a real Line with its own journal, cloud emulator
   and replicator (the ``[line]`` profile section), an operator scanning unit after unit for ``--run`` seconds; on a
   small machine the simulated stations' CPU, not the database, sets the rate they reach (printed beside the goal).
   (b) as many station journals written at ``--rate`` units/s in total (default 50, the goal's rate), a unit with
   its eight steps at a time, each replicated by the real Replicator through its station's role. Both: the benchmark
   watches the line database and takes, per unit, the time from its final state in the station's journal to that
   state on the line. Goal: p99 <= 1 s at >= 50 units/s in total;
2. catch-up after an outage: PostgreSQL stopped for ``--outage`` seconds (the 5 minutes of the goal scaled down;
   ``--outage 300`` for the real thing) while the stations keep working, then started; units replicated per second
   from the restart until every journal's backlog is on the line (goal >= 500 units/s), and the same from the first
   row that arrived (without the replicators' reconnect back-off);
3. the dashboard: ``--units`` (1,000,000) units seeded with generate_series in a fresh database, each query of a
   snapshot timed (median and worst of 5; goal <= 200 ms each) and a whole snapshot.
Figures and ratios to the goals are printed; nothing is asserted. The default run takes about 3 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# This folder holds benchmarks/logging.py, which would shadow the standard library's logging module.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from hardware.simulated import Timing  # noqa: E402
from hardware.usb.timing import HostTiming  # noqa: E402
from station.commands.demo import line_station  # noqa: E402
from station.line.connection import PASSWORD_ENV, connect, port_open  # noqa: E402
from station.line.dashboard.line_demo import DATABASE, prepare_database  # noqa: E402
from station.line.dashboard.queries import QUERIES, Window, read_only_connection, read_snapshot  # noqa: E402
from station.line.dashboard.reader import CHANGE_MARK  # noqa: E402
from station.line.replicator import Replicator  # noqa: E402
from station.line.roles import station_role  # noqa: E402
from station.line.schema import ensure_schema  # noqa: E402
from station.line.throwaway_pg import ThrowawayServer, throwaway_postgres  # noqa: E402
from station.records.database import JournalDatabase  # noqa: E402
from station.workflow.line import LineError  # noqa: E402

FINAL = ("PASS", "FAIL", "not confirmed")
LAG_GOAL_S, RATE_GOAL, CATCH_UP_GOAL, QUERY_GOAL_S = 1.0, 50.0, 500.0, 0.200
WATCH_S = 60.0


def operate(station: Any, stop: threading.Event) -> None:
    while not stop.is_set():
        if not station.line.wait_for_free_slot(timeout=0.5):
            continue
        try:
            station.line.scan(station.scanner.next_label())
        except LineError:
            if stop.is_set():
                return


class LineWatcher:
    """Polls the line database every 50 ms; notes when each unit's final state first appears there (units whose
    journal time is within the last minute: a lag beyond that is not measured)."""

    def __init__(self, server: ThrowawayServer) -> None:
        self._conninfo = server.conninfo(DATABASE)
        self.first_seen: dict[tuple[str, int], tuple[float, float]] = {}  # -> (seen at, journal's updated_at)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        while not self._stop.is_set():
            try:
                if conn is None:
                    conn = psycopg.connect(self._conninfo, autocommit=True)
                rows = conn.execute("SELECT station, local_id, updated_at FROM line.units WHERE state = ANY(%s) "
                                    "AND updated_at > %s", (list(FINAL), time.time() - WATCH_S)).fetchall()
                now = time.time()
                for station, local_id, updated in rows:
                    self.first_seen.setdefault((station, local_id), (now, updated))
            except psycopg.Error:
                conn = None
            self._stop.wait(0.05)

    def start(self) -> LineWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def journal_units(stations: list[Any]) -> int:
    return sum(int(s.line.journal.db.query(
        f"SELECT count(*) FROM units WHERE state IN {FINAL!r}")[0][0]) for s in stations)


def line_units(server: ThrowawayServer) -> int:
    with psycopg.connect(server.conninfo(DATABASE), autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM line.units WHERE state = ANY(%s)", (list(FINAL),)).fetchone()
    return int(row[0]) if row else 0


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(0.99 * len(ordered)) - 1)] if ordered else float("nan")


SIM_STEPS = 'pre_add = true\nsim_activation = "off"\n'


def station_process(folder: str, name: str, url: str, password: str, slots: int, run_s: float,
                    ready: Any, go: Any, results: Any) -> None:
    """One simulated station in its own process, as on its own bench PC: it starts, says it is ready, runs its
    operator for ``run_s`` seconds once told to go, waits for its units and its replicator, and reports its units."""
    os.environ[PASSWORD_ENV] = password
    sim, line, scanner = line_station(Path(folder), name, url, lot="BENCH", devices=slots, slots=slots,
                                      timing=Timing.zero(), host_timing=HostTiming.fast(), connect_delay=None,
                                      steps=SIM_STEPS)
    try:
        ready.put(name)
        go.wait()
        stop = threading.Event()
        worker = threading.Thread(target=operate, args=(_Station(line, scanner), stop), daemon=True)
        worker.start()
        time.sleep(run_s)
        stop.set()
        worker.join(timeout=30)
        results.put(journal_units([_Station(line, scanner)]))
        line.wait_idle(timeout=60)
        deadline = time.monotonic() + 30
        while line.line_feed.status().backlog and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        line.close()
        sim.close()


@dataclass
class _Station:
    line: Any
    scanner: Any


def simulated_line(server: ThrowawayServer, args: argparse.Namespace, root: Path) -> None:
    """Part 1a: real simulated stations, each in its own process; the rate they reach and the lag of their units."""
    names = [f"sim-{n}" for n in range(1, args.stations + 1)]
    password = os.environ[PASSWORD_ENV]
    prepare_database(server, names, password)
    context = multiprocessing.get_context("spawn")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    processes = [context.Process(target=station_process, args=(
        str(root / name), name, server.url(DATABASE, user=station_role(name)), password, args.slots, args.run,
        ready, go, results)) for name in names]
    for process in processes:
        process.start()
    for _ in processes:
        ready.get(timeout=300)
    watcher = LineWatcher(server).start()
    started = time.time()
    go.set()
    produced = sum(int(results.get(timeout=args.run + 120)) for _ in processes)
    rate = produced / args.run
    for process in processes:
        process.join(timeout=120)
    watcher.stop()
    lags = [seen - updated for seen, updated in list(watcher.first_seen.values()) if updated >= started]
    print(f"1a. {args.stations} simulated stations x {args.slots} slots (zero device timing), one process each, for "
          f"{args.run:.0f} s: {produced} units, {rate:.1f} units/s (goal >= {RATE_GOAL:.0f}: ratio "
          f"{rate / RATE_GOAL:.2f}; {os.cpu_count()} CPUs for every station, PostgreSQL and this watcher)")
    print_lag("    ", lags)


def print_lag(indent: str, lags: list[float]) -> None:
    if not lags:
        print(f"{indent}no unit reached the line database")
        return
    print(f"{indent}replication lag over {len(lags)} units: median {statistics.median(lags):.3f} s, p99 "
          f"{p99(lags):.3f} s (goal <= {LAG_GOAL_S:.1f} s: ratio {p99(lags) / LAG_GOAL_S:.2f}), max {max(lags):.3f} s")


class JournalStation:
    """A station's journal written at a set rate as the runner would (a unit started with its steps, then its
    outcome), replicated by the real Replicator through the station's own role: the line database's side at a rate
    the simulated stations cannot reach on a small machine."""

    STEPS = ("find", "identify", "check_label", "validate_firmware", "flash", "final_check", "pre_add", "setup_done")

    def __init__(self, server: ThrowawayServer, root: Path, name: str) -> None:
        self.name = name
        self.db = JournalDatabase(root / f"{name}.sqlite")
        with self.db.transaction() as db:
            db.execute("INSERT INTO lots (name, station, product_id, profile, operator, created_at) VALUES "
                       "('BENCH-J', ?, 12345, 'bench', 'bench', ?)", (name, time.time()))
        url = server.url(DATABASE, user=station_role(name))
        self.replicator = Replicator(self.db, name, lambda: connect(url), probe=lambda: port_open(url)).start()
        self.count = 0

    def unit(self) -> None:
        self.count += 1
        now = time.time()
        key = f"{self.name}-{self.count}"
        with self.db.transaction() as db:
            unit_id = db.execute(
                "INSERT INTO units (lot, unit_key, serial, device_id, platform, slot, operator, station, state, "
                "attempts, started_at, updated_at) VALUES ('BENCH-J', ?, ?, ?, 'boron', ?, 'bench', ?, "
                "'in progress', 1, ?, ?)",
                (key, key, f"{self.count:024x}", self.count % 4, self.name, now - 0.5, now)).lastrowid
            db.executemany("INSERT INTO steps (unit_id, step, status, started_at, ended_at) VALUES (?, ?, 'done', "
                           "?, ?)", [(unit_id, step, now - 0.5, now) for step in self.STEPS])
        failed = self.count % 50 == 0
        with self.db.transaction() as db:
            done = time.time()
            db.execute("UPDATE units SET state = ?, first_result = ?, reason_code = ?, ended_at = ?, "
                       "cycle_seconds = 0.5, updated_at = ?, device_result = ? WHERE id = ?",
                       ("FAIL" if failed else "PASS", "FAIL" if failed else "PASS",
                        "flash_verify" if failed else None, done, done, "failed" if failed else "done", unit_id))
        self.replicator.wake()

    def backlog(self) -> int:
        return self.replicator.status().backlog

    def close(self) -> None:
        self.replicator.stop()
        self.db.close()


def write_at(stations: list[JournalStation], rate: float, stop: threading.Event) -> None:
    """Units across the stations at ``rate`` per second in total, round robin."""
    started, n = time.monotonic(), 0
    while not stop.is_set():
        stations[n % len(stations)].unit()
        n += 1
        pause = started + n / rate - time.monotonic()
        if pause > 0:
            stop.wait(pause)


def journal_fed_line(server: ThrowawayServer, args: argparse.Namespace, root: Path) -> None:
    """Part 1b and 2: journals written at ``--rate`` units/s; the lag; then an outage and its catch-up."""
    names = [f"bench-{n}" for n in range(1, args.stations + 1)]
    prepare_database(server, names, os.environ[PASSWORD_ENV])
    stations = [JournalStation(server, root, name) for name in names]
    watcher = LineWatcher(server).start()
    stop = threading.Event()
    writer = threading.Thread(target=write_at, args=(stations, args.rate, stop), daemon=True)
    started = time.time()
    writer.start()
    time.sleep(args.run)
    written = sum(s.count for s in stations)
    lags = [seen - updated for seen, updated in list(watcher.first_seen.values()) if updated >= started]
    print(f"1b. {args.stations} station journals written at {args.rate:.0f} units/s in total ({written} units in "
          f"{time.time() - started:.0f} s, 8 steps each), replicated by their replicators:")
    print_lag("    ", lags)

    watcher.stop()
    server.stop()
    time.sleep(args.outage)
    stop.set()  # the outage's backlog is what catches up: the writers stop at the restart
    writer.join(timeout=30)
    server.start()
    restart = time.time()
    total = sum(s.count for s in stations)
    with psycopg.connect(server.conninfo(DATABASE), autocommit=True) as conn:
        def on_line() -> int:
            row = conn.execute("SELECT count(*) FROM line.units WHERE state = ANY(%s)", (list(FINAL),)).fetchone()
            return int(row[0]) if row else 0

        at_restart = on_line()
        first: float | None = None
        while time.time() < restart + 600:
            count = on_line()
            if first is None and count > at_restart:
                first = time.time()
            if count >= total and not sum(s.backlog() for s in stations):
                break
            time.sleep(0.05)
    done = time.time()
    waiting = total - at_restart
    first = first or restart
    print(f"2.  PostgreSQL down {args.outage:.0f} s at {args.rate:.0f} units/s: {waiting} units waited in the "
          f"journals; all on the line {done - restart:.1f} s after the restart: "
          f"{waiting / (done - restart):.0f} units/s (goal >= {CATCH_UP_GOAL:.0f}: ratio "
          f"{waiting / (done - restart) / CATCH_UP_GOAL:.2f}); from the first unit back ({first - restart:.1f} s, "
          f"the replicators' reconnect back-off): {waiting / max(done - first, 1e-6):.0f} units/s")
    for station in stations:
        station.close()


SEED = """
INSERT INTO line.stations (station, software_version, last_seen, slots, backlog, lag_seconds, replicated_change)
SELECT 'bench-' || s, '0.1.0', %(now)s, '[{"slot": 1, "state": "running"}]', 0, 0.1, 1 FROM generate_series(1, 8) s;
INSERT INTO line.units (station, local_id, lot, unit_key, serial, device_id, platform, state, reason_code, attempts,
                        first_result, slot, started_at, ended_at, cycle_seconds, updated_at)
SELECT 'bench-' || (i %% 8 + 1), i, 'LOT-' || (i / 5000), 'K' || i, 'P046' || lpad(i::text, 11, '0'),
       lpad(to_hex(i), 24, '0'), 'boron',
       CASE WHEN i %% 50 = 0 THEN 'FAIL' WHEN i %% 997 = 0 THEN 'not confirmed' ELSE 'PASS' END,
       CASE WHEN i %% 50 = 0
            THEN (ARRAY['flash_verify', 'device_not_found', 'cloud_refused', 'label_mismatch'])[i %% 4 + 1]
            WHEN i %% 997 = 0 THEN 'not_online_in_time' END,
       1 + (i %% 40 = 0)::int, CASE WHEN i %% 40 = 0 OR i %% 50 = 0 THEN 'FAIL' ELSE 'PASS' END, i %% 4 + 1,
       t - c, t, c, t
FROM (SELECT i, %(now)s - (%(units)s - i) * %(spacing)s AS t, 30 + (i::bigint * 7919 %% 200) / 10.0 AS c
      FROM generate_series(1, %(units)s) i) g;
INSERT INTO line.measurements (station, local_id, unit_local_id, attempt, test, name, value_num, units, lower, upper,
                               outcome, started_at)
SELECT 'bench-' || (i %% 8 + 1), i, i, 1, 'power', (ARRAY['vbat', 'v3v3', 'current_ma'])[i %% 3 + 1],
       3.3 + ((i::bigint * 7919 %% 100) - 50) / 1000.0, 'V', 3.1, 3.5, 'PASS',
       %(now)s - (%(measured)s - i) * %(spacing)s
FROM generate_series(1, %(measured)s) i;
ANALYZE line.units; ANALYZE line.measurements; ANALYZE line.stations;
"""


def dashboard_queries(server: ThrowawayServer, args: argparse.Namespace) -> None:
    name = "dashboard_bench"
    server.create_database(name)
    now = time.time()
    spacing = args.days * 86400 / args.units  # the units spread over --days, as a line's history would be
    seeding = time.perf_counter()
    with psycopg.connect(server.conninfo(name), autocommit=True) as admin:
        ensure_schema(admin)
        params = {"now": now, "units": args.units, "spacing": spacing, "measured": args.units // 5}
        for statement in SEED.split(";"):
            if statement.strip():
                admin.execute(statement.encode(), params if "%(" in statement else None)
    print(f"3. {args.units:,} units (and {args.units // 5:,} measurements) over {args.days} days seeded in "
          f"{time.perf_counter() - seeding:.1f} s; each dashboard query (24-hour window: "
          f"{args.units / args.days:,.0f} units), median / worst of 5:")
    window = Window(now=now)
    with read_only_connection(server.conninfo(name)) as conn:
        timed = {label: query for label, query in QUERIES.items()}
        for label, query in timed.items():
            times = []
            for _ in range(5):
                started = time.perf_counter()
                with conn.transaction(), conn.cursor() as cur:
                    query(cur, window)
                times.append(time.perf_counter() - started)
            print(f"   {label:<14} {1000 * statistics.median(times):7.1f} ms / {1000 * max(times):7.1f} ms "
                  f"(goal <= {1000 * QUERY_GOAL_S:.0f} ms: ratio {max(times) / QUERY_GOAL_S:.2f})")
        for label, run in (("change mark", lambda: conn.execute(CHANGE_MARK).fetchone()),
                           ("whole snapshot", lambda: read_snapshot(conn, window))):
            times = []
            for _ in range(5):
                started = time.perf_counter()
                run()
                times.append(time.perf_counter() - started)
            print(f"   {label:<14} {1000 * statistics.median(times):7.1f} ms / {1000 * max(times):7.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--stations", type=int, default=8)
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--run", type=float, default=20.0, help="seconds each line runs")
    parser.add_argument("--rate", type=float, default=RATE_GOAL, help="units/s the journals are written at")
    parser.add_argument("--outage", type=float, default=20.0, help="seconds PostgreSQL is down (goal: 300)")
    parser.add_argument("--units", type=int, default=1_000_000, help="units seeded for the dashboard queries")
    parser.add_argument("--days", type=int, default=100, help="days the seeded units spread over")
    parser.add_argument("--skip-line", action="store_true", help="only the dashboard queries")
    parser.add_argument("--skip-simulated", action="store_true", help="no simulated stations (part 1a)")
    args = parser.parse_args()
    os.environ[PASSWORD_ENV] = secrets.token_urlsafe(18)  # the stations' roles: this process only
    with throwaway_postgres() as server, tempfile.TemporaryDirectory(prefix="line-db-bench-") as folder:
        if not args.skip_line:
            if not args.skip_simulated:
                simulated_line(server, args, Path(folder))
                server.drop_database(DATABASE)
            journal_fed_line(server, args, Path(folder))
        dashboard_queries(server, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
