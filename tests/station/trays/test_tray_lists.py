"""Reading tray lists: every line is an entry or a problem with its line number; nothing raises mid-file."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from hardware.platforms import by_name
from station.trays.lists import EntryKind, ProblemKind, TrayError, read_tray

TRAYS = Path(__file__).parents[3] / "fixtures" / "trays"
BORON = by_name("boron")


def test_plain_text_tray_ignores_blanks_and_comments_and_normalises_case() -> None:
    tray = read_tray(TRAYS / "boron-tray.txt", platform=BORON)
    assert [e.line for e in tray.entries] == [2, 3, 5, 6, 7]
    assert tray.entries[2].value == "e00fce68a1b2c3d4e5f60003"
    assert tray.problems == ()


def test_csv_with_both_columns_reads_the_device_id_column() -> None:
    tray = read_tray(TRAYS / "boron-tray-messy.csv", platform=BORON)
    assert tray.column == "Device ID"
    assert all(e.kind is EntryKind.DEVICE_ID for e in tray.entries)


def test_messy_csv_gives_the_exact_problem_report() -> None:
    tray = read_tray(TRAYS / "boron-tray-messy.csv", platform=BORON, accept=frozenset({EntryKind.DEVICE_ID}))
    assert [(e.line, e.value) for e in tray.entries] == [
        (2, "e00fce68a1b2c3d4e5f60011"),
        (4, "e00fce68a1b2c3d4e5f60013"),
        (8, "e00fce68a1b2c3d4e5f60017"),
    ]
    problems = {(p.line, p.kind) for p in tray.problems}
    assert problems == {
        (3, ProblemKind.INVALID),
        (5, ProblemKind.DUPLICATE),
        (6, ProblemKind.OTHER_PLATFORM),
        (7, ProblemKind.INVALID),
    }
    by_line = {p.line: p.reason for p in tray.problems}
    assert by_line[3] == "has 23 hex characters; a device id has 24"
    assert by_line[5] == "duplicate of line 2"
    assert by_line[6].endswith(" is a Tracker M / P2 / M-SoM device id, not a Boron one")  # platforms, not chips


def test_headerless_csv_finds_the_id_column_by_content() -> None:
    tray = read_tray(TRAYS / "serials-no-header.csv", platform=BORON)
    assert tray.column == "column 1"
    assert [(e.line, e.kind, e.value) for e in tray.entries] == [
        (1, EntryKind.SERIAL, "B40KAA000000101"),
        (2, EntryKind.SERIAL, "B40KAA000000102"),
        (3, EntryKind.SERIAL, "B40KAA000000103"),
    ]


def test_xlsx_tray_uses_row_numbers(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Device ID"])
    sheet.append(["e00fce68a1b2c3d4e5f60021"])
    sheet.append([None])
    sheet.append(["not-an-id"])
    sheet.append(["e00fce68a1b2c3d4e5f60024"])
    path = tmp_path / "tray.xlsx"
    workbook.save(path)
    tray = read_tray(path, platform=BORON)
    assert [e.line for e in tray.entries] == [2, 5]
    assert [(p.line, p.kind) for p in tray.problems] == [(4, ProblemKind.INVALID)]


def test_sim_list_accepts_iccids_and_warns_on_luhn() -> None:
    tray = read_tray(TRAYS / "sims-50pack.txt", accept=frozenset({EntryKind.ICCID}))
    assert [e.value for e in tray.entries] == ["89014103211118510720", "89014103211118510739"]
    assert [(p.line, p.kind) for p in tray.problems] == [(3, ProblemKind.INVALID), (4, ProblemKind.DUPLICATE)]
    assert tray.warnings == ("line 2: ICCID 89014103211118510739 fails its Luhn check digit",)


def test_a_serial_in_a_device_id_only_import_is_the_wrong_kind(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("B40KAA000000101\ne00fce68a1b2c3d4e5f60021\n")
    tray = read_tray(path, accept=frozenset({EntryKind.DEVICE_ID}))
    assert [(p.line, p.kind, p.reason) for p in tray.problems] == [
        (1, ProblemKind.WRONG_KIND, "is a serial number, not a device id")
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.txt", None, "does not exist"),
        ("empty.txt", b"\n\n# nothing\n", "holds no identifiers"),
        ("binary.txt", b"\x00\x01\x02" * 100, "is binary"),
        ("broken.xlsx", b"PK\x03\x04garbage", "is a damaged zip or Excel file"),
    ],
)
def test_unreadable_tray_files_give_a_clear_error(
    tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(TrayError, match=message):
        read_tray(path)
