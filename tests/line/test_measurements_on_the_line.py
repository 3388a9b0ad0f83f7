"""A lot with fixture tests (the example profile's tests, fixtures/profiles/boron-with-tests.toml) on a simulated
station: every measurement its journal holds reaches line.measurements, and the dashboard's Cpk panel reads them
through the index made for it."""

from __future__ import annotations

import time
from pathlib import Path

from station.config.profile_loader import load_profile
from station.line.dashboard.queries import Window, capability, read_only_connection
from station.line.dashboard.server import DashboardServer
from tests.conftest import MemoryKeyring
from tests.line.conftest import LineDb
from tests.line.stations import line_rows, simulated_station, start_line, wait_until
from tests.line.test_dashboard import dashboard_conninfo, figures_of

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def example_tests() -> str:
    """The example profile's [tests], its test firmware found from here, without the operator's LED prompt (no one
    answers it in a test)."""
    text = (FIXTURES / "profiles" / "boron-with-tests.toml").read_text(encoding="utf-8")
    tests = text[text.index("[tests]"):text.index('[[tests.test]]\nname = "led"')]
    return tests.replace('"../firmware/boron-test.bin"', f'"{(FIXTURES / "firmware" / "boron-test.bin").as_posix()}"')


def test_a_lot_with_fixture_tests_reaches_line_measurements_and_the_cpk_panel(
        tmp_path: Path, line_db: LineDb, memory_keyring: MemoryKeyring) -> None:
    sim = simulated_station(tmp_path, "a", line_db, memory_keyring, devices=3)
    with sim.profile.path.open("a", encoding="utf-8") as profile:
        profile.write("\n" + example_tests())
    sim.profile = load_profile(sim.profile.path)
    assert sim.profile.tests is not None
    line = start_line(sim, "LOT-T")
    try:
        for device in sim.devices:
            line.scan(device.label).result(120)
        journal = line.journal.measurement_table.of_lot("LOT-T")
        numeric = {m.name for m in journal if m.value_num is not None}
        assert {"battery_voltage", "vin_voltage", "board_temperature"} <= numeric, numeric
        wait_until(lambda: line_rows(line_db, "SELECT count(*) FROM line.measurements WHERE station = 'a'")
                   == [(len(journal),)], 30, "every measurement replicated")
        on_line = line_rows(line_db, "SELECT name, value_num, lower, upper, outcome FROM line.measurements "
                                     "WHERE station = 'a' ORDER BY local_id")
        assert on_line == [(m.name, m.value_num, m.lower, m.upper, m.outcome.value) for m in journal]
    finally:
        line.close()
        sim.close()

    with line_db.connect() as conn:
        conn.execute("SET enable_seqscan = off")  # a handful of rows: only to see which index the query can use
        plan = "\n".join(str(row[0]) for row in conn.execute(
            "EXPLAIN (COSTS OFF) SELECT name, units, lower, upper, count(value_num), avg(value_num) "
            "FROM line.measurements WHERE started_at >= 0 AND value_num IS NOT NULL "
            "GROUP BY name, units, lower, upper").fetchall())
    assert "measurements_started" in plan, plan
    with read_only_connection(dashboard_conninfo(line_db)) as conn, conn.cursor() as cur:
        rows = {row["name"]: row for row in capability(cur, Window(now=time.time()))}
    assert rows["battery_voltage"]["n"] == 3 and rows["battery_voltage"]["units"] == "V"
    assert (rows["battery_voltage"]["lower"], rows["battery_voltage"]["upper"]) == (3.6, 4.2)
    with DashboardServer(dashboard_conninfo(line_db)) as server:
        panel = {row["name"]: row for row in figures_of(server)["capability"]}
    assert panel.keys() == rows.keys() and panel["battery_voltage"]["n"] == 3
