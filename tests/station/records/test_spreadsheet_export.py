"""``particle-station export``: a lot's workbook from the journal named directly or through a station profile."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from station.cli import main
from station.records.journal import Journal
from station.records.unit_table import UnitState

LOT = "12345-20260101-001"
OTHER_LOT = "12345-20260102-001"
START = 1_767_261_600.0  # 2026-01-01 10:00:00 UTC

PROFILE = """
[station]
name = "Line 1 Station A"
log_folder = "station-data"

[product]
id = 12345
platform = "boron"

[firmware]
product_version = 7

[cloud]
credentials = "env:PARTICLE"
"""


def fill(journal: Journal) -> None:
    for lot in (LOT, OTHER_LOT):
        journal.open_lot(lot, station="Line 1 Station A", product_id=12345, profile="boron.toml", operator="op-7")
    for key, state in (("unit-1", UnitState.PASS), ("unit-2", UnitState.FAIL)):
        unit, _ = journal.unit_table.begin(LOT, key, iccid="89014103211118510720")
        journal.unit_table.update(unit.id, state=state, first_result=state.value, ended_at=START + 40,
                                  cycle_seconds=40.0)


@pytest.fixture
def journal_path(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "data" / "journal.sqlite3"
    with Journal(path, clock=lambda: START) as journal:
        fill(journal)
    yield path


def unit_keys(path: Path) -> list[str]:
    rows = list(openpyxl.load_workbook(path)["Units"].iter_rows(values_only=True))
    column = rows[0].index("Unit key")
    return [row[column] for row in rows[1:]]


def test_export_writes_the_lot_workbook_from_the_journal(
    journal_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "exports" / "lot.xlsx"

    code = main(["export", "--lot", LOT, "--out", str(out), "--journal", str(journal_path)])

    assert code == 0
    assert unit_keys(out) == ["unit-1", "unit-2"]
    assert capsys.readouterr().out.strip() == f"wrote 2 units of lot {LOT} to {out}"


def test_export_of_an_unknown_lot_is_an_error_listing_the_known_lots(
    journal_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "lot.xlsx"

    code = main(["export", "--lot", "12345-19990101-001", "--out", str(out), "--journal", str(journal_path)])

    assert code == 1
    error = capsys.readouterr().err
    assert "lot '12345-19990101-001' is not in the journal" in error
    assert f"known lots: {LOT}, {OTHER_LOT}" in error
    assert not out.exists()


def test_export_finds_the_journal_in_the_profiles_log_folder(tmp_path: Path) -> None:
    profile = tmp_path / "line.toml"
    profile.write_text(PROFILE, encoding="utf-8")
    with Journal(tmp_path / "station-data" / "journal.sqlite3", clock=lambda: START) as journal:
        fill(journal)
    out = tmp_path / "lot.xlsx"

    code = main(["export", "--lot", LOT, "--out", str(out), "--profile", str(profile)])

    assert code == 0
    assert unit_keys(out) == ["unit-1", "unit-2"]


def test_export_with_a_missing_journal_is_an_error_and_creates_no_journal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere" / "journal.sqlite3"

    code = main(["export", "--lot", LOT, "--out", str(tmp_path / "lot.xlsx"), "--journal", str(missing)])

    assert code == 1
    assert f"journal {missing} does not exist" in capsys.readouterr().err
    assert not missing.parent.exists()


def test_export_refuses_an_output_that_is_not_xlsx(
    journal_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["export", "--lot", LOT, "--out", str(tmp_path / "lot.csv"), "--journal", str(journal_path)])

    assert code == 1
    assert "name a .xlsx file" in capsys.readouterr().err


def test_export_of_a_day_holds_the_units_started_that_day(journal_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "day.xlsx"

    code = main(["export", "--day", "2026-01-01", "--out", str(out), "--journal", str(journal_path)])

    assert code == 0
    assert unit_keys(out) == ["unit-1", "unit-2"]


def test_export_needs_a_lot_or_a_day(journal_path: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["export", "--out", str(tmp_path / "lot.xlsx"), "--journal", str(journal_path)])

    assert caught.value.code == 2
