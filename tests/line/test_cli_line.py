"""``particle-station line status|init|serve`` as a user runs them: real processes, a real line database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg

from station.line.connection import PASSWORD_ENV
from tests.conftest import MemoryKeyring
from tests.line.conftest import LineDb
from tests.line.stations import simulated_station, start_line


def station_cli(*args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path.cwd())}
    env.pop(PASSWORD_ENV, None)
    env.pop("PGPASSWORD", None)
    if password is not None:
        env[PASSWORD_ENV] = password
    return subprocess.run([sys.executable, "-m", "station", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def test_line_init_creates_the_schema_and_a_role_per_station_with_a_password_shown_once(line_db: LineDb) -> None:
    done = station_cli("line", "init", "--db", line_db.url("postgres"), "--station", "Bench 1", "--station", "b",
                       password=line_db.server.password)
    assert done.returncode == 0, done.stderr
    assert "line_station_bench_1: station Bench 1; password (shown once):" in done.stdout
    password = done.stdout.split("line_station_b: station b; password (shown once): ")[1].split()[0]
    with psycopg.connect(line_db.conninfo("line_station_b", password)) as conn:
        assert conn.execute("SELECT line.role_station()").fetchone() == ("b",)
    with line_db.connect() as admin:
        roles = admin.execute("SELECT role, station FROM line.station_roles ORDER BY role").fetchall()
    assert roles == [("line_station_b", "b"), ("line_station_bench_1", "Bench 1")]


def test_line_status_prints_the_journals_backlog_and_every_stations_row(
        tmp_path: Path, line_db: LineDb, memory_keyring: MemoryKeyring) -> None:
    sim = simulated_station(tmp_path, "a", line_db, memory_keyring, devices=1)
    try:
        line = start_line(sim, "LOT-S")
        assert line.scan(sim.devices[0].label).result(60).state.value == "PASS"
        line.close()  # a clean stop sends what waits
    finally:
        sim.close()
    done = station_cli("line", "status", "--profile", str(sim.profile.path), "--json", password="pw-a")
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert status["journal"]["backlog"] == 0
    assert status["reachable"] is True
    assert [(s["station"], s["backlog"]) for s in status["stations"]] == [("a", 0)]

    line_db.server.stop()
    try:
        down = station_cli("line", "status", "--profile", str(sim.profile.path), password="pw-a")
    finally:
        line_db.server.start()
    assert down.returncode == 0, down.stderr
    assert "line database unreachable" in down.stdout
    assert "pw-a" not in down.stdout + down.stderr


def test_a_wrong_url_is_one_sentence_and_a_non_zero_exit() -> None:
    for action in ("init", "serve"):
        done = station_cli("line", action, "--db", "postgresql://admin:secret@db/line")
        assert done.returncode == 1
        assert done.stderr.strip().startswith("particle-station: error: never put the line database's password")
        assert "Traceback" not in done.stderr
        assert "secret" not in done.stderr


def test_an_unreachable_database_for_init_is_one_sentence() -> None:
    done = station_cli("line", "init", "--db", "postgresql://admin@127.0.0.1:1/line", "--station", "a")
    assert done.returncode == 1
    assert "cannot be reached" in done.stderr and "Traceback" not in done.stderr


def test_a_station_name_that_cannot_name_a_role_is_one_sentence(line_db: LineDb) -> None:
    done = station_cli("line", "init", "--db", line_db.url("postgres"), "--station", "!!!",
                       password=line_db.server.password)
    assert done.returncode == 1
    assert "station name '!!!' has no letter or digit" in done.stderr and "Traceback" not in done.stderr
