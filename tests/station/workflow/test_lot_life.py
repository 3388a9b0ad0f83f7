"""The lot's life (issue 16 item 5): an engineer closes a lot, its summary is sealed, scans into it are refused, the
next lot opens; every unit records the software version and the operator is never the literal "operator"."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest

from station.cli import main
from station.demo.simulated_line import SimulatedLine
from station.records.journal import JOURNAL_NAME, Journal
from station.records.lot_seal import sealed_summary
from station.records.unit_table import LotClosedError, UnitState
from station.version import station_version
from station.workflow.line import LineError
from station.workflow.lot import LotPreparationError, operator_name
from tests.station.workflow.conftest import make_line


def test_closing_a_lot_seals_it_refuses_its_scans_and_opens_the_next(sim: SimulatedLine) -> None:
    line = make_line(sim)
    try:
        first = line.lot
        assert first.endswith("-001")
        assert line.scan(sim.devices[0].label).result(60).state is UnitState.PASS
        opened = line.close_lot()
        assert opened == first[:-3] + "002" and line.lot == opened
        closed = line.journal.lot(first)
        assert closed is not None and closed.closed_at is not None
        sealed = sealed_summary(closed)
        assert sealed is not None and sealed["summary"]["units"] == 1
        # the next scan lands in the new lot, and the sealed lot never takes a unit again
        assert line.scan(sim.devices[0].label).result(60).state is UnitState.PASS
        assert [u.lot for u in line.journal.units()] == [first, opened]
        with pytest.raises(LotClosedError, match="is closed"):
            line.journal.unit_table.begin(first, "P999")
        assert line.journal.lot(first) == closed  # closing again changes nothing
    finally:
        line.close()


def test_a_lot_closed_from_the_command_line_refuses_scans_and_a_restart_opens_the_next(
        sim: SimulatedLine, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    line = make_line(sim)
    profile_path = sim.profile.path
    try:
        first = line.lot
        assert line.scan(sim.devices[0].label).result(60).state is UnitState.PASS
        assert main(["lot-close", "--profile", str(profile_path), "--json"]) == 0
        document = json.loads(capsys.readouterr().out)
        assert document["lot"] == first and document["summary"]["units"] == 1
        with pytest.raises(LineError, match=f"Lot {first} is closed"):
            line.scan(sim.devices[0].label)
    finally:
        line.close()
    assert main(["lot-close", "--profile", str(profile_path), "--lot", first]) == 0  # closed already: unchanged
    assert f"opens lot {first[:-3]}002 at its next start" in capsys.readouterr().out
    assert main(["lot-close", "--profile", str(profile_path)]) == 1  # no open lot left: one sentence
    assert "no open lot" in capsys.readouterr().err
    again = make_line(sim)
    try:
        assert again.lot == first[:-3] + "002"
    finally:
        again.close()


def test_a_lot_named_on_the_command_line_is_followed_by_its_numbered_successor(sim: SimulatedLine) -> None:
    line = make_line(sim, lot="ORDER-7")
    try:
        assert line.close_lot() == "ORDER-7-002"
        assert line.close_lot() == "ORDER-7-003"
    finally:
        line.close()
    with pytest.raises(LineError, match="lot ORDER-7 is closed .* run with --lot ORDER-7-003"):
        make_line(sim, lot="ORDER-7")


def test_every_unit_records_the_software_version_that_provisioned_it(sim: SimulatedLine) -> None:
    line = make_line(sim)
    try:
        assert line.scan(sim.devices[0].label).result(60).state is UnitState.PASS
    finally:
        line.close()
    with Journal(sim.profile.log_folder / JOURNAL_NAME) as journal:
        (unit,) = journal.units()
    assert unit.software_version == station_version() != "unknown"


def test_an_old_journal_gets_the_new_columns(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / JOURNAL_NAME
    with sqlite3.connect(path) as db:  # the schema before the software version and the sealed summary
        db.execute("CREATE TABLE lots (name TEXT PRIMARY KEY, station TEXT NOT NULL, product_id INTEGER NOT NULL, "
                   "profile TEXT NOT NULL, operator TEXT NOT NULL, created_at REAL NOT NULL, closed_at REAL)")
        db.execute("INSERT INTO lots VALUES ('L', 's', 1, 'p', 'ann', 0, NULL)")
    with Journal(path) as journal:
        lot = journal.lot("L")
        assert lot is not None and lot.sealed_summary is None and not lot.closed


def test_the_operator_is_the_login_name_unless_given() -> None:
    assert operator_name(None) == getpass.getuser() != "operator"
    assert operator_name(" ann ") == "ann"
    with pytest.raises(LotPreparationError, match="operator name is empty"):
        operator_name("  ")


def test_units_and_the_workbook_record_the_firmware_files_sha256_and_its_product_version(sim: SimulatedLine) -> None:
    import hashlib

    import openpyxl

    from station.records.spreadsheet_paths import lot_workbook_path

    assert sim.profile.firmware.file is not None
    data = Path(sim.profile.firmware.file).read_bytes()
    line = make_line(sim)
    try:
        assert line.scan(sim.devices[0].label).result(60).state is UnitState.PASS
        module = line.module
        lot = line.lot
    finally:
        line.close()
    with Journal(sim.profile.log_folder / JOURNAL_NAME) as journal:
        (unit,) = journal.units()
    assert unit.firmware_sha256 == hashlib.sha256(data).hexdigest() != module.sha256  # as `sha256sum` prints it
    assert unit.firmware_version == module.product_version == 7 != module.version
    sheet = openpyxl.load_workbook(lot_workbook_path(sim.profile.log_folder, lot))["Units"]
    row = dict(zip([c.value for c in sheet[1]], [c.value for c in sheet[2]], strict=True))
    assert (row["Firmware file SHA-256"], row["Product firmware version"]) == (unit.firmware_sha256, 7)
