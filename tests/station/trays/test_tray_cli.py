"""``particle-station tray ...`` end to end against the emulator: report names and places, a report that cannot be
written after the import ran, lost replies, progress, and exits that always say why."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from cloud_client.emulator import EmulatorServer
from station.cli import main

PRODUCT = 4242
TOKEN = "a" * 40
IDS = [f"e00fce68a1b2c3d4e5f6000{n}" for n in (1, 2, 3)]
LOST_REPLY_SEED = 2
"""With this seed and lost_reply_rate=0.5 the emulator carries out the first import request and loses its reply, then
answers the retry (asserted in the test through the request log)."""


def make_emulator(seed: int = 0) -> EmulatorServer:
    server = EmulatorServer(seed=seed)
    server.add_owned_product(PRODUCT, "boron", "owner@example.com", access_token=TOKEN)
    for device_id in IDS:
        server.add_device(device_id, "boron")
    return server


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with make_emulator() as server:
        yield server


def profile_for(tmp_path: Path, server: EmulatorServer, monkeypatch: pytest.MonkeyPatch,
                log_folder: str = "records") -> Path:
    profile = tmp_path / "p.toml"
    profile.write_text(
        f'[station]\nname = "s"\nlog_folder = "{log_folder}"\n[product]\nid = {PRODUCT}\nplatform = "boron"\n'
        f'[firmware]\nfile = "fw.bin"\nsha256 = "{"0" * 64}"\n'
        f'[cloud]\nbase_url = "{server.base_url}"\ncredentials = "env:TRAYCLI"\n'
    )
    monkeypatch.setenv("TRAYCLI_ACCESS_TOKEN", TOKEN)
    return profile


def tray(folder: Path, name: str = "tray.txt", lines: list[str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join(IDS if lines is None else lines) + "\n")
    return path


def imports(server: EmulatorServer) -> list[tuple[str, str, int]]:
    return [r for r in server.request_log if r[0] == "POST" and r[1].endswith("/devices")]


def test_a_json_report_name_gets_json(tmp_path: Path, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    profile = profile_for(tmp_path, emulator, monkeypatch)
    out = tmp_path / "out" / "report.json"
    assert main(["tray", "import", str(tray(tmp_path / "in")), "--profile", str(profile), "--report", str(out)]) == 0
    written = json.loads(out.read_text())
    assert written["summary"] == {"added": 3}
    assert [line["result"] for line in written["lines"]] == ["added"] * 3
    assert "Report: " + str(out) in capsys.readouterr().out


@pytest.mark.parametrize("name", ["report.csv", "report.xls", "report"])
def test_a_report_name_the_station_cannot_write_is_refused_before_the_import(
    tmp_path: Path, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    name: str,
) -> None:
    profile = profile_for(tmp_path, emulator, monkeypatch)
    code = main(["tray", "import", str(tray(tmp_path / "in")), "--profile", str(profile),
                 "--report", str(tmp_path / name)])
    err = capsys.readouterr().err
    assert code == 1
    assert "name it .xlsx (a workbook) or .json" in err and "Traceback" not in err
    assert imports(emulator) == []
    assert not (tmp_path / name).exists()


def test_the_report_goes_to_the_log_folder_never_beside_the_input(
    tmp_path: Path, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = profile_for(tmp_path, emulator, monkeypatch)
    source = tray(tmp_path / "orders")
    assert main(["tray", "import", str(source), "--profile", str(profile), "--json"]) == 0
    report = Path(json.loads(capsys.readouterr().out)["report"])
    assert report.parent == tmp_path / "records" / "tray-reports"
    assert report.suffix == ".xlsx" and report.exists()
    assert sorted(p.name for p in (tmp_path / "orders").iterdir()) == ["tray.txt"]


@pytest.mark.parametrize("as_json", [True, False])
def test_a_report_that_cannot_be_written_after_the_import_loses_nothing(
    tmp_path: Path, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    as_json: bool,
) -> None:
    profile = profile_for(tmp_path, emulator, monkeypatch)
    (tmp_path / "not-a-folder").write_text("a file")
    wanted = tmp_path / "not-a-folder" / "report.xlsx"
    argv = ["tray", "import", str(tray(tmp_path / "in")), "--profile", str(profile), "--report", str(wanted)]
    code = main([*argv, "--json"] if as_json else argv)
    captured = capsys.readouterr()
    assert code == 1
    assert f"the report could not be written to {wanted}" in captured.err
    assert "Traceback" not in captured.err
    fallback = next((tmp_path / "records" / "tray-reports").glob("tray-import-*.xlsx"))
    assert f"it was written to {fallback} instead" in captured.err
    rows = list(openpyxl.load_workbook(fallback)["Import"].values)
    assert [row[4] for row in rows[1:]] == ["added"] * 3
    if as_json:
        result = json.loads(captured.out)
        assert result["summary"] == {"added": 3} and result["report"] == str(fallback)
    else:
        assert "added                            3" in captured.out


def test_a_tray_file_named_like_a_formula_stays_text_in_the_summary(
    tmp_path: Path, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = profile_for(tmp_path, emulator, monkeypatch)
    monkeypatch.chdir(tmp_path)
    for number, name in enumerate(["=1+1", '=HYPERLINK("#A1","x")']):
        tray(tmp_path, name, [IDS[number]])
        assert main(["tray", "import", name, "--profile", str(profile), "--json"]) == 0
        report = Path(json.loads(capsys.readouterr().out)["report"])
        cell = openpyxl.load_workbook(report)["Summary"]["B1"]
        assert (cell.value, cell.data_type) == (name, "s")


def test_a_lost_reply_is_not_reported_as_already_in_the_product(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with make_emulator(seed=LOST_REPLY_SEED) as server:
        profile = profile_for(tmp_path, server, monkeypatch)
        server.set_faults(lost_reply_rate=0.5)
        code = main(["tray", "import", str(tray(tmp_path / "in")), "--profile", str(profile), "--json"])
        assert [status for _, _, status in imports(server)] == [0, 200]  # carried out, reply lost; retried
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["summary"] == {"in the product (reply lost)": 3}
    assert all("added by this import, or there before it" in line["reason"] for line in result["lines"])


def test_a_tray_where_no_line_can_be_imported_exits_1_and_says_so(
    tmp_path: Path, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = profile_for(tmp_path, emulator, monkeypatch)
    source = tray(tmp_path / "in", "rounded.csv", ["Device ID", "1.23457E+23", "1.23457E+23"])
    code = main(["tray", "import", str(source), "--profile", str(profile), "--json"])
    err = capsys.readouterr().err
    assert code == 1  # README: 1 = refused or done with failures; never a code a factory script does not expect
    assert "no line of" in err and "format the id column as Text" in err


def test_the_report_keeps_every_column_of_the_input_tray(
    tmp_path: Path, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = profile_for(tmp_path, emulator, monkeypatch)
    source = tray(tmp_path / "in", "tray.csv", ["Device ID,Serial Number,Note", f"{IDS[0]},P046AB1234ABCDE,box 1",
                                                f"{IDS[1]},P046AB1234ABCDF,"])
    assert main(["tray", "import", str(source), "--profile", str(profile), "--json"]) == 0
    report = Path(json.loads(capsys.readouterr().out)["report"])
    rows = list(openpyxl.load_workbook(report)["Import"].values)
    assert rows[0][6:] == ("Tray: Device ID", "Serial Number", "Note")
    assert [row[6:] for row in rows[1:]] == [(IDS[0], "P046AB1234ABCDE", "box 1"), (IDS[1], "P046AB1234ABCDF", None)]


def test_an_import_with_some_refused_lines_exits_1_and_says_how_many(
    tmp_path: Path, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = profile_for(tmp_path, emulator, monkeypatch)
    source = tray(tmp_path / "in", lines=[IDS[0], "not-an-id", "1234", "e00fce68", "also bad"])
    code = main(["tray", "import", str(source), "--profile", str(profile)])
    captured = capsys.readouterr()
    assert code == 1  # not a clean success: a factory script must see it
    assert f"4 of 5 lines of {source} were not imported" in captured.err
    assert "added                            1" in captured.out


def test_a_large_import_shows_progress_on_stderr(
    tmp_path: Path, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    devices = emulator.add_factory_devices(1200, ["boron"])
    profile = profile_for(tmp_path, emulator, monkeypatch)
    source = tray(tmp_path / "in", lines=[d.id for d in devices])
    assert main(["tray", "import", str(source), "--profile", str(profile), "--json"]) == 0
    err = capsys.readouterr().err
    assert "importing 1200/1200" in err
    assert err.count("importing ") <= 11


def test_tray_attach_with_a_bad_log_folder_says_so(
    tmp_path: Path, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "blocker").write_text("a file where the log folder should be")
    profile = profile_for(tmp_path, emulator, monkeypatch, log_folder="blocker/records")
    code = main(["tray", "attach", str(tray(tmp_path / "in")), "--lot", "L1", "--profile", str(profile)])
    err = capsys.readouterr().err
    assert code == 1
    assert "check station.log_folder" in err and "Traceback" not in err


def test_tray_import_with_a_bad_log_folder_says_so_before_the_import(
    tmp_path: Path, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "blocker").write_text("a file where the log folder should be")
    profile = profile_for(tmp_path, emulator, monkeypatch, log_folder="blocker/records")
    code = main(["tray", "import", str(tray(tmp_path / "in")), "--profile", str(profile)])
    assert code == 1
    assert "check station.log_folder" in capsys.readouterr().err
    assert imports(emulator) == []


def test_attach_with_problem_lines_exits_1_with_a_sentence(
    tmp_path: Path, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = profile_for(tmp_path, emulator, monkeypatch)
    source = tray(tmp_path / "in", lines=[IDS[0], "not-an-id"])
    assert main(["tray", "attach", str(source), "--lot", "L1", "--profile", str(profile)]) == 1
    assert "1 lines of" in capsys.readouterr().err


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00\x01\x02" * 50, b"PK\x03\x04broken", "e00fce68a1b2c3d4e5f60001\n".encode("utf-16-le")],
)
@pytest.mark.parametrize("command", ["import", "attach", "import-sims"])
def test_malformed_tray_files_never_end_in_a_traceback(
    tmp_path: Path, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    content: bytes, command: str,
) -> None:
    profile = profile_for(tmp_path, emulator, monkeypatch)
    path = tmp_path / "tray.csv"
    path.write_bytes(content)
    extra = ["--lot", "L1"] if command == "attach" else []
    code = main(["tray", command, str(path), "--profile", str(profile), *extra])
    err = capsys.readouterr().err
    assert code != 0 or content.startswith(b"e\x00")
    if code != 0:
        assert err.strip() and "Traceback" not in err
