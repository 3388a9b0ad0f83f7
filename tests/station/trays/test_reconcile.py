"""Tray lists tied to a lot, and the lot reconciled against them, as a library, a workbook sheet and a command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from hardware.platforms import parse_platform
from station.cli import main
from station.records.cells import SheetData, write_sheet
from station.records.journal import Journal
from station.records.spreadsheet import write_workbook
from station.records.unit_table import UnitState
from station.trays.lists import EntryKind, read_tray
from station.trays.reconcile import (
    ListStatus,
    ReconcileError,
    attach_tray,
    reconcile,
    reconciliation_rows,
    reconciliation_sheet,
    reconciliation_sheets,
)

BORON = parse_platform("boron")
LOT = "12345-20260309-001"
OLD_LOT = "12345-20260302-001"


def dev(n: int) -> str:
    return f"e00fce68000000000000{n:04x}"


def serial(n: int) -> str:
    return f"B40KAA{n:09d}"


ICCID = "89014103211118510720"


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal(tmp_path / "data" / "journal.sqlite3") as db:
        for lot in (OLD_LOT, LOT):
            db.open_lot(lot, station="s1", product_id=12345, profile="p.toml", operator="ann")
        yield db


def unit(journal: Journal, key: str, device: str | None, state: UnitState, *, lot: str = LOT,
         iccid: str | None = None) -> None:
    record, _ = journal.unit_table.begin(lot, key, serial=key, device_id=device, iccid=iccid)
    journal.unit_table.update(record.id, state=state)


def tray_file(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def messy_lot(tmp_path: Path, journal: Journal) -> Journal:
    """Seven listed identifiers; units provisioned, failed, missing, extra and duplicated."""
    ids = tray_file(tmp_path, "tray-ids.txt", [dev(1), dev(2), dev(3), dev(4), dev(5)])
    serials = tray_file(tmp_path, "tray-serials.csv", ["serial", serial(6), serial(7)])
    attach_tray(journal, LOT, read_tray(ids, platform=BORON))
    attach_tray(journal, LOT, read_tray(serials, platform=BORON))
    unit(journal, serial(1), dev(1), UnitState.PASS)
    unit(journal, serial(2), dev(2), UnitState.CLOUD_PENDING)
    unit(journal, serial(3), dev(3), UnitState.FAIL)
    unit(journal, serial(6), dev(6), UnitState.PASS)
    unit(journal, serial(8), dev(8), UnitState.PASS)  # on no list
    unit(journal, serial(9), dev(1), UnitState.PASS)  # device 1 again, under another label
    unit(journal, serial(2), dev(99), UnitState.PASS, lot=OLD_LOT)  # label 2 was on another device before
    return journal


def test_messy_lot_gives_exact_counts(messy_lot: Journal) -> None:
    assert reconcile(messy_lot, LOT).counts() == {
        "listed": 7,
        "provisioned": 3,
        "seen_but_failed": 1,
        "in_progress": 0,
        "not_seen": 3,
        "not_on_list": 1,
        "duplicate_devices": 1,
        "duplicate_labels": 1,
    }


def test_messy_lot_names_each_finding(messy_lot: Journal) -> None:
    rec = reconcile(messy_lot, LOT)
    assert [e.value for e in rec.with_status(ListStatus.PROVISIONED)] == [dev(1), dev(2), serial(6)]
    assert [e.value for e in rec.with_status(ListStatus.FAILED)] == [dev(3)]
    assert [e.value for e in rec.with_status(ListStatus.NOT_SEEN)] == [dev(4), dev(5), serial(7)]
    assert [u.unit_key for u in rec.not_on_list] == [serial(8)]
    assert [(d.device_id, d.unit_keys) for d in rec.duplicate_devices] == [(dev(1), (serial(1), serial(9)))]
    assert [(d.serial, d.device_ids, d.lots) for d in rec.duplicate_labels] == [
        (serial(2), (dev(2), dev(99)), (OLD_LOT, LOT))
    ]


def test_entry_says_where_it_is_listed(messy_lot: Journal) -> None:
    rec = reconcile(messy_lot, LOT)
    assert next(e for e in rec.entries if e.value == serial(7)).places == ("tray-serials.csv:3",)


def test_unit_still_running_is_in_progress_not_missing(tmp_path: Path, journal: Journal) -> None:
    attach_tray(journal, LOT, read_tray(tray_file(tmp_path, "t.txt", [dev(1)])))
    journal.unit_table.begin(LOT, serial(1), serial=serial(1), device_id=dev(1))
    assert reconcile(journal, LOT).counts()["in_progress"] == 1


def test_iccid_list_matches_the_unit_with_that_sim(tmp_path: Path, journal: Journal) -> None:
    attach_tray(journal, LOT, read_tray(tray_file(tmp_path, "sims.txt", [ICCID]), accept=frozenset(EntryKind)))
    unit(journal, serial(1), dev(1), UnitState.PASS, iccid=ICCID)
    rec = reconcile(journal, LOT)
    assert (rec.counts()["provisioned"], rec.complete) == (1, True)


def test_attaching_the_same_file_again_replaces_its_entries(tmp_path: Path, journal: Journal) -> None:
    path = tray_file(tmp_path, "t.txt", [dev(1), dev(2)])
    attach_tray(journal, LOT, read_tray(path))
    path.write_text(dev(3) + "\n", encoding="utf-8")
    attached = attach_tray(journal, LOT, read_tray(path))
    assert attached.entries == 1
    assert [e.value for e in reconcile(journal, LOT).entries] == [dev(3)]


def test_attaching_to_a_lot_that_does_not_exist_is_refused(tmp_path: Path, journal: Journal) -> None:
    with pytest.raises(ReconcileError, match="lot 'nope' is not in the journal"):
        attach_tray(journal, "nope", read_tray(tray_file(tmp_path, "t.txt", [dev(1)])))


def test_reconciliation_sheet_round_trips_through_openpyxl(tmp_path: Path, messy_lot: Journal) -> None:
    rec = reconcile(messy_lot, LOT)
    workbook = openpyxl.Workbook(write_only=True)
    write_sheet(workbook, reconciliation_sheet(rec))
    workbook.save(tmp_path / "lot.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "lot.xlsx")["Reconciliation"]
    rows = [[c if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]
    expected = [[*row, *[""] * (len(rows[i]) - len(row))] for i, row in enumerate(reconciliation_rows(rec))]
    assert rows == expected
    assert rows[8][:2] == ["On a list, not seen yet", 3]


def test_a_lot_workbook_gets_the_reconciliation_sheet_from_the_trays_side(tmp_path: Path, messy_lot: Journal) -> None:
    out = tmp_path / "lot.xlsx"
    write_workbook(messy_lot, out, lot=LOT, lot_sheets=reconciliation_sheets)
    workbook = openpyxl.load_workbook(out)
    assert workbook.sheetnames == ["Units", "Summary", "Reconciliation"]
    assert workbook["Reconciliation"]["B1"].value == LOT
    write_workbook(messy_lot, out, lot=LOT)
    assert openpyxl.load_workbook(out).sheetnames == ["Units", "Summary"]


def test_a_lot_without_tray_lists_gets_no_reconciliation_sheet(journal: Journal) -> None:
    assert reconciliation_sheets(journal, LOT) == []


def test_formula_like_text_in_the_reconciliation_sheet_stays_text(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook(write_only=True)
    write_sheet(workbook, SheetData("Reconciliation", [["Lot", "=1+1"], ["Count", 3]]))
    workbook.save(tmp_path / "lot.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "lot.xlsx")["Reconciliation"]
    assert (sheet["B1"].value, sheet["B1"].data_type, sheet["B1"].quotePrefix) == ("=1+1", "s", True)
    assert sheet["B2"].value == 3


# --- the commands ----------------------------------------------------------------------------------------------------


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    path = tmp_path / "station.toml"
    path.write_text(
        '[station]\nname = "Line 1"\nlog_folder = "data"\n\n[product]\nid = 12345\nplatform = "boron"\n\n'
        '[firmware]\nproduct_version = 7\n\n[cloud]\ncredentials = "env:PARTICLE_TEST"\n',
        encoding="utf-8",
    )
    return path


def test_attach_command_creates_the_lot_and_ties_the_list(tmp_path: Path, profile: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tray_file(tmp_path, "tray.txt", [dev(1), serial(2), "junk"])
    code = main(["tray", "attach", str(path), "--lot", "L-new", "--profile", str(profile), "--operator", "bob"])
    out = capsys.readouterr().out
    assert code == 1  # one line of the file is not an identifier
    assert "Attached 2 identifiers (1 device id, 1 serial)" in out and "line 3" in out
    with Journal(tmp_path / "data" / "journal.sqlite3") as db:
        assert [(k, v) for _, _, k, v in db.lot_lists("L-new")] == [("device_id", dev(1)), ("serial", serial(2))]
        lot = db.lot("L-new")
        assert lot is not None and lot.operator == "bob"


def test_reconcile_command_prints_the_exact_json(tmp_path: Path, profile: Path, messy_lot: Journal,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["tray", "reconcile", "--lot", LOT, "--profile", str(profile), "--json"])
    printed = json.loads(capsys.readouterr().out)
    assert code == 1  # differences: exit 1, as the README's exit codes say
    assert printed == reconcile(messy_lot, LOT).to_json()
    assert printed["counts"]["not_seen"] == 3
    assert printed["duplicates"]["same_device"] == [{"device_id": dev(1), "unit_keys": [serial(1), serial(9)]}]


def test_reconcile_command_prints_a_table_of_counts_and_findings(profile: Path, messy_lot: Journal,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    main(["tray", "reconcile", "--lot", LOT, "--profile", str(profile)])
    out = capsys.readouterr().out
    assert "On a list, not seen yet          3" in out
    assert f"on a list, not seen            serial     {serial(7)}" in out
    assert "Lot and lists differ (exit code 1)." in out


def test_reconcile_command_for_an_unknown_lot_is_one_error_line(profile: Path, messy_lot: Journal,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tray", "reconcile", "--lot", "nope", "--profile", str(profile)]) == 1
    assert "lot 'nope' is not in the journal" in capsys.readouterr().err
