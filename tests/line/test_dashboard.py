"""The line dashboard's server against a real PostgreSQL: the figures it serves for a seeded line, read-only access,
live updates by server-sent events, CSV export, and one sentence when it cannot start."""

from __future__ import annotations

import csv
import datetime
import http.client
import io
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

from station.line.dashboard import figures
from station.line.dashboard.queries import read_only_connection
from station.line.dashboard.reader import DashboardError
from station.line.dashboard.server import DashboardServer
from station.line.schema import DASHBOARD_ROLE, grant_statements

DASHBOARD_PASSWORD = "dashboard-test-password"
NOW = time.time()


def dashboard_conninfo(db: Any) -> str:
    """The read-only ``line_dashboard`` role (roles are per server: created once, granted per database)."""
    with db.connect() as conn:
        conn.execute(f"DO $$ BEGIN CREATE ROLE {DASHBOARD_ROLE} LOGIN; "
                     "EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        conn.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(DASHBOARD_ROLE), sql.Literal(DASHBOARD_PASSWORD)))
        for statement in grant_statements(DASHBOARD_ROLE, write=False):
            conn.execute(statement)
    return str(db.conninfo(DASHBOARD_ROLE, DASHBOARD_PASSWORD))


def add_unit(conn: psycopg.Connection[Any], station: str, local_id: int, *, lot: str = "LOT-A", state: str = "PASS",
             first: str | None = None, code: str | None = None, ended: float | None = NOW - 60,
             cycle: float | None = 40.0) -> None:
    conn.execute(
        "INSERT INTO line.units (station, local_id, lot, unit_key, serial, device_id, state, reason_code, "
        "first_result, attempts, slot, started_at, ended_at, cycle_seconds, updated_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 1, 1, %s, %s, %s, %s) "
        "ON CONFLICT (station, local_id) DO UPDATE SET state = excluded.state, ended_at = excluded.ended_at, "
        "first_result = excluded.first_result, reason_code = excluded.reason_code, "
        "cycle_seconds = excluded.cycle_seconds, updated_at = excluded.updated_at",
        (station, local_id, lot, f"{station}-{local_id}", f"P046{station[-1]}{local_id:07d}", f"{local_id:024x}",
         state, code, first if first is not None else (state if state in ("PASS", "FAIL") else None),
         (ended or NOW) - (cycle or 0), ended, cycle, ended or NOW))


def seed_line(conn: psycopg.Connection[Any]) -> None:
    """Two stations: bench-1 (online, two slots, 50 API requests this minute) and bench-2 (not seen for 10 min).

    bench-1: 8 PASS (one after a failed first attempt), 2 FAIL flash_verify; bench-2: 4 PASS, 1 FAIL
    device_not_found, 1 'not confirmed' not_online_in_time, 1 interrupted, 1 in progress. Cycle times 30..52 s."""
    seen = time.time()  # not NOW: the module may have been imported minutes before this test runs (a whole suite)
    minute = int(seen) // 60 * 60
    conn.execute(
        "INSERT INTO line.stations (station, software_version, last_seen, slots, backlog, lag_seconds, "
        "replicated_change, api_requests) VALUES (%s, '0.1.0', %s, %s, 4, 0.6, 20, %s), "
        "('bench-2', '0.1.0', %s, '[]', 0, 0.2, 9, '{}')",
        ("bench-1", seen - 1, json.dumps([
            {"slot": 1, "state": "running", "unit_key": "bench-1-11", "step": "flash", "since": NOW - 12},
            {"slot": 2, "state": "idle", "unit_key": None, "step": None, "since": NOW - 300}]),
         json.dumps({str(minute): 50, str(minute - 600): 999}), seen - 600))
    for i in range(8):
        add_unit(conn, "bench-1", i + 1, first="FAIL" if i == 0 else "PASS", cycle=30.0 + i)
    for i in range(2):
        add_unit(conn, "bench-1", 9 + i, state="FAIL", code="flash_verify", cycle=50.0 + i)
    for i in range(4):
        add_unit(conn, "bench-2", i + 1, lot="LOT-B", cycle=40.0 + i)
    add_unit(conn, "bench-2", 5, lot="LOT-B", state="FAIL", code="device_not_found", cycle=44.0)
    add_unit(conn, "bench-2", 6, lot="LOT-B", state="not confirmed", code="not_online_in_time", cycle=45.0)
    add_unit(conn, "bench-2", 7, lot="LOT-B", state="interrupted", code="interrupted", cycle=3.0)
    add_unit(conn, "bench-2", 8, lot="LOT-B", state="in progress", ended=None, cycle=None)
    add_unit(conn, "bench-1", 99, lot="OLD", ended=NOW - 3 * 86400)  # outside the 24-hour window
    conn.execute("INSERT INTO line.refused_scans (station, local_id, lot, label, reason_code, reason, at) "
                 "VALUES ('bench-1', 1, 'LOT-A', '=cmd|calc', 'already_passed', 'already passed', %s)", (NOW - 30,))


@pytest.fixture
def seeded(line_db_with_schema: Any) -> Any:
    with line_db_with_schema.connect() as conn:
        seed_line(conn)
    return line_db_with_schema


@pytest.fixture
def dashboard(seeded: Any) -> Iterator[DashboardServer]:
    with DashboardServer(dashboard_conninfo(seeded), poll_s=0.2) as server:
        yield server


def get(url: str) -> tuple[int, bytes, Any]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers


def figures_of(server: DashboardServer) -> dict[str, Any]:
    status, body, _ = get(server.url + "api/figures")
    assert status == 200
    return dict(json.loads(body))


def test_serves_the_figures_the_database_holds(dashboard: DashboardServer) -> None:
    data = figures_of(dashboard)
    head = data["headline"]
    assert (head["tested"], head["passed"], head["failed"]) == (16, 12, 4)
    assert head["yield"] == pytest.approx(12 / 16)
    assert head["fpy"] == pytest.approx(11 / 16)  # bench-1's first unit passed on its second attempt
    assert (head["interrupted"], head["refused_scans"], head["backlog"]) == (1, 1, 4)
    assert (head["stations"], head["stations_online"], head["running"]) == (2, 1, 1)
    stations = {s["station"]: s for s in data["stations"]}
    assert stations["bench-1"]["yield"] == pytest.approx(0.8) and stations["bench-1"]["fpy"] == pytest.approx(0.7)
    assert stations["bench-2"]["tested"] == 6 and stations["bench-2"]["online"] is False
    assert [slot["unit_key"] for slot in stations["bench-1"]["slots"]] == ["bench-1-11", None]
    assert [(p["code"], p["units"]) for p in data["pareto"]] == [
        ("flash_verify", 2), ("device_not_found", 1), ("not_online_in_time", 1)]
    assert data["pareto"][-1]["cumulative"] == pytest.approx(1.0)
    assert {lot["lot"]: (lot["tested"], lot["running"]) for lot in data["lots"]} == {"LOT-A": (10, 0),
                                                                                  "LOT-B": (6, 1)}
    assert data["cycle"]["count"] == 16 and sum(b["units"] for b in data["cycle"]["bins"]) == 16
    assert data["api"]["used"] == 50 and data["api"]["budget"] == 10_000
    assert data["capability"] == [] and data["error"] is None


def add_measurements(conn: psycopg.Connection[Any], name: str, values: Sequence[float], *, first_id: int = 1) -> None:
    for i, value in enumerate(values):
        conn.execute("INSERT INTO line.measurements (station, local_id, unit_local_id, attempt, test, name, "
                     "value_num, units, lower, upper, outcome, started_at) VALUES ('bench-1', %s, %s, 1, "
                     "'power', %s, %s, 'V', 3.0, 3.6, 'PASS', %s)",
                     (first_id + i, first_id + i, name, value, NOW - 100))


def test_measurements_capability(seeded: Any) -> None:
    with seeded.connect() as conn:
        add_measurements(conn, "vbat", (3.29, 3.30, 3.31, 3.30, 3.30, 3.29) * 5)
    with DashboardServer(dashboard_conninfo(seeded)) as server:
        (row,) = figures_of(server)["capability"]
    assert (row["name"], row["n"]) == ("vbat", 30)
    assert row["cpk"] == pytest.approx(figures.cpk(row["mean"], row["sigma"], 3.0, 3.6))
    assert row["cpk"] > figures.CPK_BAR and row["cpk_note"] is None


def test_no_cpk_is_shown_from_fewer_than_30_values(seeded: Any) -> None:
    """A Cpk of 29 values is not shown: the panel says "n < 30" (seven values once gave a Cpk of 3.9)."""
    with seeded.connect() as conn:
        add_measurements(conn, "vbat", (3.29, 3.30, 3.31, 3.30, 3.30, 3.29, 3.31))
        add_measurements(conn, "vin", [5.0 + 0.01 * (i % 3) for i in range(29)], first_id=100)
    with DashboardServer(dashboard_conninfo(seeded)) as server:
        rows = {row["name"]: row for row in figures_of(server)["capability"]}
    assert figures.CPK_MIN_SAMPLES == 30
    assert [(rows[n]["n"], rows[n]["cpk"], rows[n]["cpk_note"]) for n in ("vbat", "vin")] == [
        (7, None, "n < 30"), (29, None, "n < 30")]


def test_a_nan_measurement_leaves_the_figures_readable(seeded: Any) -> None:
    with seeded.connect() as conn:
        for i, value in enumerate((1.0, float("nan"))):
            conn.execute("INSERT INTO line.measurements (station, local_id, unit_local_id, name, value_num, lower, "
                         "upper, started_at) VALUES ('bench-2', %s, %s, 'rssi', %s, 0, 2, %s)",
                         (i + 1, i + 1, value, NOW - 50))
    with DashboardServer(dashboard_conninfo(seeded)) as server:
        data = figures_of(server)
    assert data["error"] is None
    assert [(row["name"], row["cpk"]) for row in data["capability"]] == [("rssi", None)]


def test_pushes_new_figures_when_a_unit_finishes(seeded: Any, dashboard: DashboardServer) -> None:
    parts = urlsplit(dashboard.url)
    stream = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    stream.request("GET", "/events")
    response = stream.getresponse()
    assert response.headers["Content-Type"] == "text/event-stream"

    def next_figures() -> dict[str, Any]:
        while True:
            line = response.readline()
            if line.startswith(b"data: "):
                return dict(json.loads(line[6:]))

    assert next_figures()["headline"]["tested"] == 16
    with seeded.connect() as conn:
        add_unit(conn, "bench-2", 8, lot="LOT-B", state="PASS", ended=time.time())
    assert next_figures()["headline"]["tested"] == 17
    stream.close()


def test_says_when_the_database_stops_answering_and_recovers(seeded: Any) -> None:
    with DashboardServer(dashboard_conninfo(seeded), poll_s=0.2, refresh_s=0.5) as server:
        assert figures_of(server)["error"] is None
        seeded.server.stop()
        deadline = time.monotonic() + 60
        while not figures_of(server)["error"] and time.monotonic() < deadline:
            time.sleep(0.2)
        down = figures_of(server)
        assert "line database" in down["error"] and down["headline"]["tested"] == 16  # the last figures stay
        seeded.server.start()
        while figures_of(server)["error"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert figures_of(server)["error"] is None


def test_the_dashboards_connection_cannot_write(seeded: Any) -> None:
    with read_only_connection(seeded.admin) as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("UPDATE line.units SET state = 'PASS'")
    with psycopg.connect(dashboard_conninfo(seeded)) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("UPDATE line.units SET state = 'PASS'")


def test_answers_get_only(dashboard: DashboardServer) -> None:
    for method, path in (("POST", "/"), ("PUT", "/export/units.csv"), ("DELETE", "/api/figures")):
        parts = urlsplit(dashboard.url)
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        conn.request(method, path)
        assert conn.getresponse().status == 405
        conn.close()
    assert dashboard.url.startswith("http://127.0.0.1:")


def test_answers_only_requests_addressed_to_loopback(dashboard: DashboardServer) -> None:
    parts = urlsplit(dashboard.url)
    for host, status in ((f"rebound.example:{parts.port}", 421), (f"localhost:{parts.port}", 200)):
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        conn.request("GET", "/api/figures", headers={"Host": host})
        assert conn.getresponse().status == status
        conn.close()


def test_page_and_its_assets_come_from_the_server(dashboard: DashboardServer) -> None:
    status, body, headers = get(dashboard.url)
    assert status == 200 and b"/static/app.js" in body
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert b"http://" not in body and b"https://" not in body
    for name in ("app.js", "charts.js", "style.css", "favicon.svg"):
        status, asset, _ = get(dashboard.url + "static/" + name)
        assert status == 200 and b"https://" not in asset
    assert get(dashboard.url + "static/../server.py")[0] == 404


def test_exports_a_table_as_csv(dashboard: DashboardServer) -> None:
    status, body, headers = get(dashboard.url + "export/units.csv?lot=LOT-B")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    lines = body.decode("utf-8-sig").splitlines()
    header = lines[0].split(",")
    assert header[:3] == ["station", "local_id", "lot"] and "ended_at" in header
    assert len(lines) == 1 + 8 and all(",LOT-B," in line for line in lines[1:])
    refused = get(dashboard.url + "export/refused_scans.csv")[1].decode("utf-8-sig")
    assert "'=cmd|calc" in refused  # a spreadsheet shows it, never runs it
    assert get(dashboard.url + "export/secrets.csv")[0] == 404


def csv_rows(server: DashboardServer, table: str) -> list[dict[str, str]]:
    status, body, _ = get(server.url + f"export/{table}.csv")
    assert status == 200
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def local_text(epoch: float) -> str:
    """How the screens' time reads in an export: local ISO 8601 with the offset, to the second."""
    return datetime.datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="seconds")


def test_every_export_reads_in_a_spreadsheet_as_the_screens_show_it(seeded: Any, dashboard: DashboardServer) -> None:
    """Slots from 1, local ISO 8601 times, rounded durations and measurements, a lot summary one figure per column:
    in every table, no epoch float and no 0-based slot reaches the manager's spreadsheet."""
    at = 1796625049.3060007
    with seeded.connect() as conn:
        conn.execute("INSERT INTO line.lots VALUES ('bench-1', 1, 'LOT-A', 12345, 'p.toml', 'ann', %s, %s)",
                     (at, at + 3600))
        conn.execute("INSERT INTO line.steps VALUES ('bench-1', 1, 1, 'flash', 'done', %s, %s, NULL)", (at, at + 7.25))
        conn.execute("INSERT INTO line.outbox VALUES ('bench-1', 1, 1, 'claim', 'done', 1, NULL, %s, %s)",
                     (at, at + 2))
        conn.execute("INSERT INTO line.measurements VALUES ('bench-1', 1, 1, 1, 'power', 'current', %s, NULL, 'mA', "
                     "0.1, 0.7, 'pass', true, %s, 0.123456)", (0.1 + 0.2, at))
        conn.execute("INSERT INTO line.lot_summaries VALUES ('bench-1', 'LOT-A', %s)", (json.dumps({
            "lot": "LOT-A", "units_in_progress_at_close": 0, "summary": {
                "units": 10, "passed": 8, "failed": 2, "tested": 10, "yield_rate": 0.8, "first_pass_yield": 0.7,
                "median_cycle_seconds": 33.54999, "p90_cycle_seconds": 50.0,
                "failures_by_code": [["flash_verify", 2]]}}),))
        conn.execute("UPDATE line.units SET slot = 0 WHERE station = 'bench-1' AND local_id = 1")

    unit = next(r for r in csv_rows(dashboard, "units") if (r["station"], r["local_id"]) == ("bench-1", "1"))
    assert unit["slot"] == "1", "slot 0 of the database is Slot 1 on every screen"
    assert unit["started_at"] == local_text(NOW - 60 - 30.0) and unit["ended_at"] == local_text(NOW - 60)
    assert unit["cycle_seconds"] == "30.0"
    assert [r["slot"] for r in csv_rows(dashboard, "units") if r["local_id"] == "2"] == ["2", "2"]

    lot = csv_rows(dashboard, "lots")[0]
    assert (lot["created_at"], lot["closed_at"]) == (local_text(at), local_text(at + 3600))
    assert lot["created_at"][:19] == datetime.datetime.fromtimestamp(at).strftime("%Y-%m-%dT%H:%M:%S")
    assert csv_rows(dashboard, "steps")[0]["ended_at"] == local_text(at + 7.25)
    assert csv_rows(dashboard, "outbox")[0]["done_at"] == local_text(at + 2)
    assert csv_rows(dashboard, "refused_scans")[0]["at"] == local_text(NOW - 30)
    measured = csv_rows(dashboard, "measurements")[0]
    assert (measured["value_num"], measured["lower"], measured["duration_s"], measured["marginal"]) == (
        "0.3", "0.1", "0.123", "yes")
    assert measured["started_at"] == local_text(at)

    stations = {r["station"]: r for r in csv_rows(dashboard, "stations")}
    assert stations["bench-1"]["slots"] == (f"Slot 1 running bench-1-11 (flash) since {local_text(NOW - 12)}; "
                                            f"Slot 2 idle since {local_text(NOW - 300)}")
    assert stations["bench-1"]["lag_seconds"] == "0.6"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", stations["bench-2"]["last_seen"])
    assert re.search(r"T\d\d:\d\d:00[+-]\d\d:\d\d: 50$", stations["bench-1"]["api_requests"])  # minute: requests

    summary = csv_rows(dashboard, "lot_summaries")[0]
    assert (summary["lot"], summary["units"], summary["yield"], summary["first_pass_yield"]) == (
        "LOT-A", "10", "80.0%", "70.0%")
    assert (summary["median_cycle_seconds"], summary["failures_by_code"]) == ("33.5", "flash_verify: 2")

    epoch = re.compile(r"^1[0-9]{9}(\.[0-9]+)?$")
    for table in ("stations", "lots", "units", "steps", "refused_scans", "outbox", "measurements", "lot_summaries"):
        for row in csv_rows(dashboard, table):
            assert not any(epoch.match(value) for value in row.values()), (table, row)
            assert not any(name.endswith("_utc") for name in row), table


def test_refuses_a_database_without_the_line_schema(line_db: Any) -> None:
    with pytest.raises(DashboardError, match="no line schema yet: run 'particle-station line init'"):
        DashboardServer(line_db.admin)


def test_refuses_a_newer_schema(seeded: Any) -> None:
    with seeded.connect() as conn:
        conn.execute("UPDATE line.meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(DashboardError, match="schema version 999, newer than"):
        DashboardServer(seeded.admin)


def test_an_unreachable_database_is_one_sentence_without_the_password(seeded: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTICLE_STATION_LINE_DB_PASSWORD", "s3cret-pw")
    url = f"postgresql://line_dashboard@127.0.0.1:{seeded.server.port}/no_such_db"
    with pytest.raises(DashboardError, match="cannot reach the line database") as caught:
        DashboardServer(url)
    assert "s3cret-pw" not in str(caught.value) and "\n" not in str(caught.value)


def test_takes_the_password_from_the_environment_never_the_url(seeded: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    dashboard_conninfo(seeded)
    url = f"postgresql://{DASHBOARD_ROLE}@127.0.0.1:{seeded.server.port}/{seeded.name}"
    with pytest.raises(DashboardError, match="never put the line database's password in the URL"):
        DashboardServer(url.replace(f"{DASHBOARD_ROLE}@", f"{DASHBOARD_ROLE}:{DASHBOARD_PASSWORD}@"))
    monkeypatch.setenv("PARTICLE_STATION_LINE_DB_PASSWORD", DASHBOARD_PASSWORD)
    with DashboardServer(url) as server:
        assert figures_of(server)["headline"]["tested"] == 16


@pytest.mark.parametrize(("low", "high", "start", "width"), [(30.0, 52.0, 30.0, 2.0), (0.4, 0.9, 0.4, 0.05)])
def test_cycle_bins_are_round(low: float, high: float, start: float, width: float) -> None:
    bins = figures.cycle_bins(low, high)
    assert bins.start == pytest.approx(start) and bins.width == pytest.approx(width)
    assert bins.edges()[-1][1] >= high


def test_cpk_is_one_sided_with_one_limit() -> None:
    assert figures.cpk(10.0, 1.0, None, 16.0) == pytest.approx(2.0)
    assert figures.cpk(10.0, 1.0, 7.0, 16.0) == pytest.approx(1.0)
    assert figures.cpk(10.0, 0.0, 7.0, 16.0) is None


def test_api_minutes_accept_the_station_shapes() -> None:
    assert figures.minute_counts({"120": 3, "180": "2"}) == {120: 3, 180: 2}
    assert figures.minute_counts([{"minute": 130, "count": 4}, [200, 1], "junk"]) == {120: 4, 180: 1}
    assert figures.minute_counts("nonsense") == {}


def test_line_serve_prints_its_url_serves_and_stops_on_ctrl_c(seeded: Any) -> None:
    import os
    import signal
    import socket
    import subprocess
    import sys

    dashboard_conninfo(seeded)
    url = f"postgresql://{DASHBOARD_ROLE}@127.0.0.1:{seeded.server.port}/{seeded.name}"
    env = {**os.environ, "PARTICLE_STATION_LINE_DB_PASSWORD": DASHBOARD_PASSWORD}
    with socket.socket() as probe:  # a free port ('line serve' takes 1-65535)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with subprocess.Popen([sys.executable, "-m", "station", "line", "serve", "--db", url, "--port", str(port)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as process:
        try:
            first = process.stdout.readline() if process.stdout else ""
            assert first.startswith("line dashboard at "), process.stderr.read() if process.stderr else ""
            address = next(word for word in first.split() if word.startswith("http://127.0.0.1:"))
            assert DASHBOARD_PASSWORD not in first
            assert figures_of_url(address)["headline"]["tested"] == 16
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=60) == 0
        finally:
            if process.poll() is None:
                process.kill()


def figures_of_url(address: str) -> dict[str, Any]:
    status, body, _ = get(address + "api/figures")
    assert status == 200
    return dict(json.loads(body))
