"""A lot that spans stations: the line's units of a lot, and ``export --line`` writing one workbook for all."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import psycopg

from station.line.lot_units import line_units_of_lot
from tests.conftest import MemoryKeyring
from tests.line.conftest import LineDb
from tests.line.stations import line_rows, simulated_station, start_line, wait_until
from tests.line.test_cli_line import station_cli


def test_export_line_writes_one_workbook_with_the_lots_units_from_every_station(
        tmp_path: Path, line_db: LineDb, memory_keyring: MemoryKeyring) -> None:
    sims = [simulated_station(tmp_path, name, line_db, memory_keyring, devices=1) for name in ("a", "b")]
    try:
        for sim in sims:
            line = start_line(sim, "LOT-E")
            assert line.scan(sim.devices[0].label).result(60).state.value == "PASS"
            line.close()
        wait_until(lambda: len(line_rows(line_db, "SELECT 1 FROM line.units WHERE lot = 'LOT-E'")) == 2, 30,
                   "both units replicated")
    finally:
        for sim in sims:
            sim.close()

    with psycopg.connect(line_db.conninfo("line_station_b", "pw-b"), autocommit=True) as b:
        assert b.execute("SELECT COUNT(*) FROM line.units").fetchone() == (1,), "b reads only its own rows..."
        others = line_units_of_lot(b, "LOT-E", except_station="b")
    assert [(u.station, u.serial) for u in others] == [("a", sims[0].devices[0].serial.value)]  # type: ignore[union-attr]

    out = tmp_path / "LOT-E-line.xlsx"
    done = station_cli("export", "--lot", "LOT-E", "--line", "--profile", str(sims[1].profile.path),
                       "--out", str(out), password="pw-b")
    assert done.returncode == 0, done.stderr
    assert "wrote 2 units of lot LOT-E at every station of the line" in done.stdout
    sheet = openpyxl.load_workbook(out)["Units"]
    header = [cell.value for cell in sheet[1]]
    stations = sorted(row[header.index("Station")] for row in sheet.iter_rows(min_row=2, values_only=True))
    assert stations == ["a", "b"]


def test_export_line_without_a_line_section_is_one_sentence(tmp_path: Path, line_db: LineDb,
                                                            memory_keyring: MemoryKeyring) -> None:
    sim = simulated_station(tmp_path, "a", line_db, memory_keyring, devices=1, feed=False)
    try:
        line = start_line(sim, "LOT-F")
        line.close()
    finally:
        sim.close()
    done = station_cli("export", "--lot", "LOT-F", "--line", "--profile", str(sim.profile.path),
                       "--out", str(tmp_path / "x.xlsx"))
    assert done.returncode == 1
    assert "has no [line] section" in done.stderr and "Traceback" not in done.stderr


def test_tray_reconcile_line_covers_the_lots_units_at_every_station(
        tmp_path: Path, line_db: LineDb, memory_keyring: MemoryKeyring) -> None:
    """One tray of two units, one provisioned at station a and one at b: b's journal alone misses a's unit; with
    --line the tray is complete."""
    sims = [simulated_station(tmp_path, name, line_db, memory_keyring, devices=1) for name in ("a", "b")]
    serials = [sim.devices[0].serial.value for sim in sims]  # type: ignore[union-attr]
    try:
        for sim in sims:
            line = start_line(sim, "LOT-R")
            assert line.scan(sim.devices[0].label).result(60).state.value == "PASS"
            line.close()
        wait_until(lambda: len(line_rows(line_db, "SELECT 1 FROM line.units WHERE lot = 'LOT-R'")) == 2, 30,
                   "both units replicated")
    finally:
        for sim in sims:
            sim.close()
    tray = tmp_path / "tray.txt"
    tray.write_text("\n".join(serials) + "\n", encoding="utf-8")
    profile = str(sims[1].profile.path)
    attached = station_cli("tray", "attach", str(tray), "--lot", "LOT-R", "--profile", profile)
    assert attached.returncode == 0, attached.stderr

    alone = station_cli("tray", "reconcile", "--lot", "LOT-R", "--profile", profile, "--json")
    assert alone.returncode == 1, alone.stderr  # the lot and its list differ
    assert [e["value"] for e in json.loads(alone.stdout)["not_seen"]] == [serials[0]]

    line_wide = station_cli("tray", "reconcile", "--lot", "LOT-R", "--line", "--profile", profile, "--json",
                            password="pw-b")
    assert line_wide.returncode == 0, line_wide.stderr
    report = json.loads(line_wide.stdout)
    assert report["complete"] and sorted(e["value"] for e in report["provisioned"]) == sorted(serials)
    assert report["duplicates"]["same_label"] == [] and report["not_on_list"] == []

    cut = station_cli("tray", "reconcile", "--lot", "LOT-R", "--line", "--profile", profile, password="wrong")
    assert cut.returncode != 0 and "Traceback" not in cut.stderr and "wrong" not in cut.stderr
    assert "line database" in cut.stderr
