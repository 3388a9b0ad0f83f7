"""The dashboard's SQL: read-only SELECTs over the line database, each shaped to use the schema's indexes.

Every query reads units by ``ended_at`` (index units(ended_at)) within the dashboard's window, per lot by ``lot``
(index units(lot)), and the failures of the window by state; none scans the whole units table, so they stay fast with
millions of units (benchmarks/line_db.py times each). A snapshot runs all of them in one REPEATABLE READ, READ ONLY
transaction, so the panels agree with each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from station.line.dashboard import figures
from station.line.dashboard.figures import NO_CODE, NO_OUTCOME, NOT_PASSED, TESTED, Tally

HOUR = 3600.0
HOURS_SHOWN = 12
"""The per-hour charts show the last 12 hours."""
LOTS_SHOWN = 12
MEASUREMENTS_SHOWN = 24
STATION_STALE_S = 60.0
"""A station not heard from for this long shows as offline."""
READ_ONLY_OPTIONS = "-c default_transaction_read_only=on -c statement_timeout=15000 -c jit=off"
"""Every transaction of a dashboard connection is READ ONLY (on top of the read-only role); a query that would take
more than 15 s is cancelled rather than left to pile up on a busy line database. No JIT: compiling took 60 of the
lots query's 90 ms at a million units (benchmarks/line_db.py), for queries that each read a few thousand rows."""


@dataclass(frozen=True)
class Window:
    """What the dashboard looks at: units that ended since ``since`` (default: the last 24 hours)."""

    now: float
    hours: float = 24.0
    since: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "since", self.now - self.hours * HOUR)


Cursor = psycopg.Cursor[Any]


def stations(cur: Cursor, window: Window) -> list[dict[str, Any]]:
    """Each station: what its slots are doing, its replication lag and backlog, its API requests."""
    cur.execute("SELECT station, software_version, last_seen, slots, backlog, lag_seconds, replicated_change, "
                "api_requests FROM line.stations ORDER BY station")
    rows = []
    for name, version, last_seen, slots, backlog, lag, change, api in cur.fetchall():
        age = None if last_seen is None else max(0.0, window.now - last_seen)
        rows.append({"station": name, "software_version": version, "last_seen": last_seen, "age_s": age,
                     "online": age is not None and age < STATION_STALE_S,
                     "slots": [s for s in (slots or []) if isinstance(s, dict)],
                     "backlog": backlog, "lag_seconds": lag, "replicated_change": change,
                     "api_minutes": figures.minute_counts(api)})
    return rows


def unit_tallies(cur: Cursor, window: Window) -> dict[tuple[str, float], dict[str, Any]]:
    """Units that ended in the window, counted per (station, hour): tested, passed, first-pass, refused not included."""
    cur.execute(
        "SELECT station, floor(ended_at / 3600) * 3600 AS hour, "
        "count(*) FILTER (WHERE state = ANY(%(tested)s)), "
        "count(*) FILTER (WHERE state = 'PASS'), "
        "count(*) FILTER (WHERE state = ANY(%(tested)s) AND first_result = 'PASS'), "
        "count(*) FILTER (WHERE state = 'interrupted') "
        "FROM line.units WHERE ended_at >= %(since)s GROUP BY 1, 2",
        {"tested": list(TESTED), "since": window.since})
    return {(station, float(hour)): {"tally": Tally(tested, passed, first), "interrupted": interrupted}
            for station, hour, tested, passed, first, interrupted in cur.fetchall()}


def lots(cur: Cursor, window: Window) -> list[dict[str, Any]]:
    """The lots worked on in the window (latest first), each counted over its whole life and every station."""
    # LATERAL: each recent lot's units through the index units(lot), never a scan of the whole table
    cur.execute(
        "WITH recent AS (SELECT lot, max(ended_at) AS last FROM line.units WHERE ended_at >= %(since)s "
        "GROUP BY lot ORDER BY last DESC LIMIT %(limit)s) "
        "SELECT r.lot, r.last, f.* FROM recent r CROSS JOIN LATERAL ("
        "SELECT array_agg(DISTINCT u.station ORDER BY u.station), count(*), "
        "count(*) FILTER (WHERE u.state = ANY(%(tested)s)), count(*) FILTER (WHERE u.state = 'PASS'), "
        "count(*) FILTER (WHERE u.state = ANY(%(tested)s) AND u.first_result = 'PASS'), "
        "count(*) FILTER (WHERE u.state = 'in progress') FROM line.units u WHERE u.lot = r.lot) f "
        "ORDER BY r.last DESC",
        {"since": window.since, "limit": LOTS_SHOWN, "tested": list(TESTED)})
    return [{"lot": lot, "last": last, "stations": list(names), "units": units, "running": running,
             **Tally(tested, passed, first).as_json()}
            for lot, last, names, units, tested, passed, first, running in cur.fetchall()]


def pareto(cur: Cursor, window: Window) -> list[dict[str, Any]]:
    """Units that did not pass in the window per reason code, most frequent first, with the cumulative share."""
    cur.execute(
        "SELECT coalesce(reason_code, %(none)s) AS code, count(*) FROM line.units "
        "WHERE ended_at >= %(since)s AND state = ANY(%(failed)s) GROUP BY 1 ORDER BY 2 DESC, 1",
        {"none": NO_CODE, "since": window.since, "failed": list(NOT_PASSED)})
    rows = cur.fetchall()
    total = sum(count for _, count in rows)
    running = 0
    result = []
    for code, count in rows:
        running += count
        result.append({"code": code, "units": count, "cumulative": running / total})
    return result


def cycle_times(cur: Cursor, window: Window) -> dict[str, Any]:
    """The distribution of finished cycles in the window: median, p90, p99 and about 16 bins up to the p99."""
    params = {"since": window.since, "open": list(NO_OUTCOME)}
    where = "ended_at >= %(since)s AND cycle_seconds IS NOT NULL AND state <> ALL(%(open)s)"
    cur.execute(
        "SELECT count(*), min(cycle_seconds), percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP "
        f"(ORDER BY cycle_seconds), max(cycle_seconds) FROM line.units WHERE {where}", params)
    row = cur.fetchone()
    count, low, quantiles, high = row if row is not None else (0, None, None, None)
    if not count or low is None or quantiles is None or high is None:
        return {"count": 0, "median": None, "p90": None, "p99": None, "max": None, "bins": []}
    median, p90, p99 = quantiles
    bins = figures.cycle_bins(low, p99)
    cur.execute(
        "SELECT least(greatest(floor((cycle_seconds - %(start)s) / %(width)s), 0), %(last)s)::int, count(*) "
        f"FROM line.units WHERE {where} GROUP BY 1",
        {**params, "start": bins.start, "width": bins.width, "last": bins.count - 1})
    counts = dict(cur.fetchall())
    return {"count": count, "median": median, "p90": p90, "p99": p99, "max": high,
            "bins": [{"from": lo, "to": hi, "units": counts.get(i, 0), "open_ended": i == bins.count - 1 and high > hi}
                     for i, (lo, hi) in enumerate(bins.edges())]}


def capability(cur: Cursor, window: Window) -> list[dict[str, Any]]:
    """Cpk of each numeric measurement with limits taken in the window, least capable first (empty before the
    fixture tests record any); a measurement with fewer than ``figures.CPK_MIN_SAMPLES`` values has no Cpk and a
    ``cpk_note`` ("n < 30") instead."""
    cur.execute(
        "SELECT name, units, lower, upper, count(value_num), avg(value_num), stddev_samp(value_num), "
        "count(*) FILTER (WHERE outcome IS NOT NULL AND upper(outcome) NOT IN ('PASS', 'PASSED')) "
        "FROM line.measurements WHERE started_at >= %(since)s AND value_num IS NOT NULL "
        "GROUP BY name, units, lower, upper",
        {"since": window.since})
    rows = []
    for name, units, lower, upper, n, mean, sigma, failed in cur.fetchall():
        too_few = figures.too_few_for_cpk(n)  # "n < 30": no Cpk shown from fewer values
        value = None if too_few else figures.cpk(mean, sigma, lower, upper)
        rows.append({"name": name, "units": units, "lower": lower, "upper": upper, "n": n, "mean": mean,
                     "sigma": sigma, "failed": failed, "cpk": value, "cpk_note": too_few})
    rows.sort(key=lambda r: (r["cpk"] is None, r["cpk"] if r["cpk"] is not None else 0.0, r["name"]))
    return rows[:MEASUREMENTS_SHOWN]


def refused(cur: Cursor, window: Window) -> dict[str, int]:
    """Refused scans per station in the window (not units: outside yield)."""
    cur.execute("SELECT station, count(*) FROM line.refused_scans WHERE at >= %(since)s GROUP BY 1",
                {"since": window.since})
    return dict(cur.fetchall())


QUERIES: dict[str, Callable[[Cursor, Window], Any]] = {
    "stations": stations, "unit_tallies": unit_tallies, "lots": lots, "pareto": pareto,
    "cycle_times": cycle_times, "capability": capability, "refused": refused,
}
"""Every query of a snapshot by name (benchmarks/line_db.py times each)."""


def read_snapshot(conn: psycopg.Connection[Any], window: Window) -> dict[str, Any]:
    """Every panel's figures, read in one read-only transaction (the JSON the page draws)."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        station_rows = stations(cur, window)
        tallies = unit_tallies(cur, window)
        snapshot = {
            "lots": lots(cur, window), "pareto": pareto(cur, window), "cycle": cycle_times(cur, window),
            "capability": capability(cur, window),
        }
        refusals = refused(cur, window)
    return {"generated_at": window.now, "window_hours": window.hours, "since": window.since,
            **_assemble(station_rows, tallies, refusals, window), **snapshot}


def _assemble(station_rows: list[dict[str, Any]], tallies: dict[tuple[str, float], dict[str, Any]],
              refusals: dict[str, int], window: Window) -> dict[str, Any]:
    """Per station, per hour and line totals from the per-(station, hour) tallies; the API budget."""
    last_hour = window.now - HOUR
    names = sorted({row["station"] for row in station_rows} | {name for name, _ in tallies})
    known = {row["station"]: row for row in station_rows}
    per_station = []
    for name in names:
        mine = [(hour, t["tally"]) for (station, hour), t in tallies.items() if station == name]
        total = sum((t for _, t in mine), Tally())
        row = known.get(name) or {"station": name, "slots": [], "online": False, "api_minutes": {}}
        per_station.append({
            **{k: v for k, v in row.items() if k != "api_minutes"}, **total.as_json(),
            "refused_scans": refusals.get(name, 0),
            "running": sum(1 for s in row["slots"] if str(s.get("state", "")).lower() in ("running", "in progress")),
            "units_last_hour": sum(t.tested for hour, t in mine if hour + HOUR > last_hour),
        })
    first_hour = (int(window.now // HOUR) - HOURS_SHOWN + 1) * HOUR
    hours = []
    for i in range(HOURS_SHOWN):
        start = first_hour + i * HOUR
        tally = sum((t["tally"] for (_, hour), t in tallies.items() if hour == start), Tally())
        hours.append({"hour": start, **tally.as_json()})
    line_total = sum((t["tally"] for t in tallies.values()), Tally())
    api = figures.api_usage({row["station"]: row["api_minutes"] for row in station_rows}, window.now)
    for row in per_station:
        row["api_used"] = api["per_station"].get(row["station"], 0)
    return {
        "headline": {**line_total.as_json(),
                     "units_last_hour": sum(row["units_last_hour"] for row in per_station),
                     "running": sum(row["running"] for row in per_station),
                     "interrupted": sum(t["interrupted"] for t in tallies.values()),
                     "refused_scans": sum(refusals.values()),
                     "stations_online": sum(1 for row in per_station if row.get("online")),
                     "stations": len(per_station),
                     "backlog": sum(row.get("backlog") or 0 for row in station_rows),
                     "max_lag_seconds": max((row.get("lag_seconds") or 0.0 for row in station_rows), default=0.0)},
        "stations": per_station, "hours": hours, "api": api,
    }


def read_only_connection(db_url: str, *, connect: Callable[..., psycopg.Connection[Any]] | None = None,
                         **options: Any) -> psycopg.Connection[Any]:
    """A connection whose every transaction is READ ONLY (see READ_ONLY_OPTIONS)."""
    opener = connect or psycopg.connect
    return opener(db_url, options=READ_ONLY_OPTIONS, autocommit=True, **options)

