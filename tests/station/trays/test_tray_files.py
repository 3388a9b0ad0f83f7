"""Tray files as they come from an order, and malformed ones: read right, or refused with one sentence (TrayError).

Every file here is written to disk and read through ``read_tray``; corrupt workbooks are real .xlsx files damaged the
way downloads and crashed saves damage them.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import openpyxl
import pytest

from hardware.platforms import by_name
from station.trays.lists import EntryKind, ProblemKind, TrayError, read_tray

BORON = by_name("boron")
ICCID = "89014103211118510720"  # Luhn-valid
ICCIDS = frozenset({EntryKind.ICCID})


def workbook_bytes(*sheets: tuple[str, list[list[object]]]) -> bytes:
    workbook = openpyxl.Workbook()
    first = workbook.active
    assert first is not None
    workbook.remove(first)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


GOOD = workbook_bytes(("Devices", [["Device ID"], ["e00fce68a1b2c3d4e5f60021"], ["e00fce68a1b2c3d4e5f60022"]]))


def rezip(data: bytes, change: dict[str, bytes | None]) -> bytes:
    """``data`` (a zip) with members replaced (bytes) or left out (None)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = change.get(info.filename, source.read(info.filename))
            if content is not None:
                target.writestr(info, content)
    return out.getvalue()


def corrupt_deflate(data: bytes, member: str) -> bytes:
    """``data`` with the compressed bytes of ``member`` damaged (inflating it fails: zlib.error)."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(member)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    damaged = bytearray(data)
    for offset in range(start, start + min(info.compress_size, 40)):
        damaged[offset] ^= 0x5A
    return bytes(damaged)


def short_member(data: bytes, member: str) -> bytes:
    """``data`` whose central directory says ``member`` is half as long as it is (its inflating ends early)."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(member)
    record = data.index(b"PK\x01\x02")
    while data[record + 46 : record + 46 + len(member)] != member.encode():
        record = data.index(b"PK\x01\x02", record + 4)
    damaged = bytearray(data)
    damaged[record + 20 : record + 24] = (info.compress_size // 2).to_bytes(4, "little")
    return bytes(damaged)


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


# --- the real kind, judged by content ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tray.csv", "tray.txt", "tray", "tray.xls"])
def test_an_xlsx_under_another_name_is_read_as_the_workbook_it_is(tmp_path: Path, name: str) -> None:
    tray = read_tray(write(tmp_path, name, GOOD), platform=BORON)
    assert [(e.line, e.value) for e in tray.entries] == [(2, "e00fce68a1b2c3d4e5f60021"),
                                                        (3, "e00fce68a1b2c3d4e5f60022")]
    assert tray.sheet == "Devices"


def test_a_workbook_missing_only_its_content_types_part_still_gives_its_ids(tmp_path: Path) -> None:
    tray = read_tray(write(tmp_path, "t.xlsx", rezip(GOOD, {"[Content_Types].xml": None})), platform=BORON)
    assert len(tray.entries) == 2


def test_a_csv_under_an_xlsx_name_is_read_as_text(tmp_path: Path) -> None:
    tray = read_tray(write(tmp_path, "tray.xlsx", "Device ID\ne00fce68a1b2c3d4e5f60021\n"), platform=BORON)
    assert [e.value for e in tray.entries] == ["e00fce68a1b2c3d4e5f60021"]


@pytest.mark.parametrize("text", ["garbage\n", "garbage, more garbage\nand; more\n"])
def test_text_without_ids_under_an_xlsx_name_is_refused_as_not_a_workbook(tmp_path: Path, text: str) -> None:
    with pytest.raises(TrayError) as caught:
        read_tray(write(tmp_path, "TRAY.xlsx", text), platform=BORON)
    assert str(caught.value) == ("TRAY.xlsx is not an Excel workbook (it looks like text); save it as .xlsx from "
                                 "Excel or rename it .csv/.txt")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("cut.xlsx", GOOD[: len(GOOD) // 2], "is a damaged zip or Excel file"),
        ("cut.csv", GOOD[: len(GOOD) // 2], "is a damaged zip or Excel file"),
        ("badxml.xlsx", rezip(GOOD, {"xl/worksheets/sheet1.xml": b"<worksheet><sheetData><row"}), "is damaged"),
        ("badxml.txt", rezip(GOOD, {"xl/workbook.xml": b"<workbook"}), "is damaged"),
        ("zlib.xlsx", corrupt_deflate(GOOD, "xl/worksheets/sheet1.xml"), "is damaged"),
        ("eof.xlsx", short_member(GOOD, "xl/worksheets/sheet1.xml"), "is damaged"),
        ("nosheetxml.xlsx", rezip(GOOD, {"xl/worksheets/sheet1.xml": None}), "has no sheets|is damaged"),
        ("noworkbook.xlsx", rezip(GOOD, {"xl/workbook.xml": None}), "not an Excel workbook"),
        ("empty-zip.xlsx", b"PK\x05\x06" + b"\x00" * 18, "not an Excel workbook"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, r"Excel 97-2003 \(.xls\)"),
        ("only-empty-sheets.xlsx", workbook_bytes(("A", []), ("B", [[None, None]])), "every sheet is empty"),
        ("empty.txt", b"", "is empty"),
        ("blank.csv", b"  \n\n", "is empty"),
        ("binary.txt", bytes(range(256)) * 20, "is binary"),
    ],
)
def test_malformed_files_are_refused_in_one_sentence(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    with pytest.raises(TrayError, match=message) as caught:
        read_tray(write(tmp_path, name, data))
    assert "\n" not in str(caught.value)


def test_a_folder_a_missing_file_and_a_path_under_a_file_are_refused(tmp_path: Path) -> None:
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(TrayError, match="is a folder"):
        read_tray(tmp_path / "folder.csv")
    with pytest.raises(TrayError, match="does not exist"):
        read_tray(tmp_path / "missing.csv")
    write(tmp_path, "file", "x")
    with pytest.raises(TrayError, match="cannot read tray file"):
        read_tray(tmp_path / "file" / "tray.csv")


def test_a_pipe_and_a_device_are_refused_not_read_forever(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.csv")
    with pytest.raises(TrayError, match="is not a file"):
        read_tray(tmp_path / "pipe.csv")
    with pytest.raises(TrayError, match="is not a file"):
        read_tray("/dev/zero")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "tray.csv", "e00fce68a1b2c3d4e5f60021\n")
    path.chmod(0)
    with pytest.raises(TrayError, match="cannot read tray file"):
        read_tray(path)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_text_with_or_without_a_byte_order_mark_is_read(tmp_path: Path, encoding: str) -> None:
    text = "Device ID;Note\r\ne00fce68a1b2c3d4e5f60021;ok\r\ne00fce68a1b2c3d4e5f60022;ok\r\n"
    tray = read_tray(write(tmp_path, "tray.csv", text.encode(encoding)), platform=BORON)
    assert [e.value for e in tray.entries] == ["e00fce68a1b2c3d4e5f60021", "e00fce68a1b2c3d4e5f60022"]


def test_a_huge_line_is_one_problem_with_its_text_cut_short(tmp_path: Path) -> None:
    tray = read_tray(write(tmp_path, "tray.txt", "e00fce68a1b2c3d4e5f60021\n" + "x" * 5_000_000 + "\n"))
    assert [e.line for e in tray.entries] == [1]
    (problem,) = tray.problems
    assert problem.line == 2 and len(problem.text) <= 80 and problem.text.endswith("…")


# --- as they come from the order ---------------------------------------------------------------------------------


def test_title_rows_above_the_header_are_skipped_and_columns_may_come_in_any_order(tmp_path: Path) -> None:
    data = workbook_bytes(("Order", [
        ["Order 4711 - ACME Corp"],
        ["Shipped 2026-01-05", None, None],
        [],
        ["Notes", "Qty", "Serial Number", "Device ID"],
        ["ok", 1, "B40KAA000000001", "e00fce68a1b2c3d4e5f60021"],
        ["ok", 1, "B40KAA000000002", "e00fce68a1b2c3d4e5f60022"],
    ]))
    tray = read_tray(write(tmp_path, "order.xlsx", data), platform=BORON)
    assert tray.column == "Device ID"
    assert [(e.line, e.value) for e in tray.entries] == [(5, "e00fce68a1b2c3d4e5f60021"),
                                                        (6, "e00fce68a1b2c3d4e5f60022")]
    assert tray.problems == ()


def test_title_lines_of_a_headerless_csv_are_skipped(tmp_path: Path) -> None:
    text = "Tray 2 of order 4711,,\nPacked by: J. Doe,,\n3,B40KAA000000101,tray 2\n4,B40KAA000000102,tray 2\n"
    tray = read_tray(write(tmp_path, "tray.csv", text), platform=BORON)
    assert tray.column == "column 2"
    assert [(e.line, e.value) for e in tray.entries] == [(3, "B40KAA000000101"), (4, "B40KAA000000102")]
    assert tray.problems == ()


def test_the_ids_are_found_on_whichever_sheet_holds_them(tmp_path: Path) -> None:
    data = workbook_bytes(
        ("Cover", [["Order 4711"], ["Customer", "ACME"], ["Units", 2]]),
        ("Devices", [["Pos", "ICCID", "Device ID"], [1, ICCID, "e00fce68a1b2c3d4e5f60021"],
                     [2, "89014103211118510738", "e00fce68a1b2c3d4e5f60022"]]),
    )
    path = write(tmp_path, "order.xlsx", data)
    devices = read_tray(path, platform=BORON)
    assert (devices.sheet, devices.column) == ("Devices", "Device ID")
    assert [e.line for e in devices.entries] == [2, 3]
    sims = read_tray(path, accept=ICCIDS)
    assert (sims.sheet, sims.column) == ("Devices", "ICCID")
    assert [e.value for e in sims.entries] == [ICCID, "89014103211118510738"]


# --- numbers Excel already rounded -------------------------------------------------------------------------------


def test_iccids_stored_as_numbers_are_refused_with_how_to_fix_the_file(tmp_path: Path) -> None:
    data = workbook_bytes(("SIMs", [["ICCID"], [float(ICCID)], [ICCID], [float("89014103211118510738")]]))
    tray = read_tray(write(tmp_path, "sims.xlsx", data), accept=ICCIDS)
    assert [e.line for e in tray.entries] == [3]
    assert [(p.line, p.kind) for p in tray.problems] == [(2, ProblemKind.ROUNDED), (4, ProblemKind.ROUNDED)]
    assert "format the id column as Text and paste the ids again" in tray.problems[0].reason
    assert any("rounded" in warning for warning in tray.warnings)


@pytest.mark.parametrize(
    "cell",
    [
        "8.90141E+19",  # Excel's CSV of a General-format number
        "8,90141032111185E+19",  # a decimal-comma locale
        "89014103211118500000",  # a Number-format column: digits after the 15th are zeros (Luhn fails)
        "1.23457E+23",  # a 24-digit device id Excel took for a number
    ],
)
def test_rounded_ids_in_a_csv_are_refused_never_imported(tmp_path: Path, cell: str) -> None:
    tray = read_tray(write(tmp_path, "sims.csv", f'ICCID;note\n"{cell}";x\n{ICCID};ok\n'),
                     accept=frozenset(EntryKind))
    assert [(p.line, p.kind) for p in tray.problems] == [(2, ProblemKind.ROUNDED)]
    assert [e.value for e in tray.entries] == [ICCID]


def test_in_a_column_excel_rounded_even_a_luhn_valid_run_of_zeros_is_refused(tmp_path: Path) -> None:
    luhn_valid_zeros = "89014103211110500000"  # a real ICCID may end so: its check digit is right
    tray = read_tray(write(tmp_path, "sims.txt", f"8.90141E+19\n{luhn_valid_zeros}\n{ICCID}\n"), accept=ICCIDS)
    assert [(p.line, p.kind) for p in tray.problems] == [(1, ProblemKind.ROUNDED), (2, ProblemKind.ROUNDED)]
    alone = read_tray(write(tmp_path, "one.txt", f"{luhn_valid_zeros}\n"), accept=ICCIDS)
    assert alone.problems == ()
    assert [e.value for e in alone.entries] == [luhn_valid_zeros]


def test_long_integers_stored_exactly_in_a_workbook_are_kept(tmp_path: Path) -> None:
    data = workbook_bytes(("IMEIs", [["IMEI"], [352656100000002]]))
    tray = read_tray(write(tmp_path, "imeis.xlsx", data), accept=frozenset({EntryKind.IMEI}))
    assert [e.value for e in tray.entries] == ["352656100000002"]


@pytest.mark.parametrize("name", ["order.csv", "order.txt"])
def test_title_lines_without_separators_above_a_csv_table(tmp_path: Path, name: str) -> None:
    text = ("Order 4711\nTray 2\nPos;Note;Device ID\n" + "".join(f"{n};ok;e00fce68a1b2c3d4e5f6002{n}\n"
                                                            for n in range(1, 6)))
    tray = read_tray(write(tmp_path, name, text), platform=BORON)
    assert tray.column == "Device ID"
    assert [e.line for e in tray.entries] == [4, 5, 6, 7, 8]
    assert tray.problems == ()


def test_a_device_id_of_digits_around_one_e_is_a_device_id_not_scientific_notation(tmp_path: Path) -> None:
    tray = read_tray(write(tmp_path, "ids.txt", "3400350009e7343432313031\n"))
    assert [e.value for e in tray.entries] == ["3400350009e7343432313031"] and tray.problems == ()


def test_workbook_cells_read_as_openpyxl_reads_them(tmp_path: Path) -> None:
    """Shared and inline strings, numbers, booleans, gaps and a sheet after a chart-free cover sheet."""
    workbook = openpyxl.Workbook()
    cover = workbook.active
    assert cover is not None
    cover.title = "Cover"
    cover.append(["Order", 4711])
    sheet = workbook.create_sheet("Devices")
    sheet.append(["Device ID", "Count", "OK", None, "Note"])
    sheet.append(["e00fce68a1b2c3d4e5f60021", 1, True, None, "  spaced  "])
    sheet["A4"] = "e00fce68a1b2c3d4e5f60022"
    sheet["E4"] = 2.5
    path = tmp_path / "t.xlsx"
    workbook.save(path)
    tray = read_tray(path, platform=BORON)
    assert (tray.sheet, tray.column) == ("Devices", "Device ID")
    assert [(e.line, e.value) for e in tray.entries] == [(2, "e00fce68a1b2c3d4e5f60021"),
                                                        (4, "e00fce68a1b2c3d4e5f60022")]
    from station.trays.tray_files import read_tables

    tables = {t.sheet: t.rows for t in read_tables(path)}
    assert tables["Cover"] == [(1, ["Order", "4711"])]
    assert tables["Devices"][1] == (2, ["e00fce68a1b2c3d4e5f60021", "1", "True", "", "  spaced  "])
    assert tables["Devices"][2] == (4, ["e00fce68a1b2c3d4e5f60022", "", "", "", "2.5"])
