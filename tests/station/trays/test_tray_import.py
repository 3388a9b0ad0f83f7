"""Tray import against the emulator over real sockets: the exact per-line report, resumable, re-run is a no-op."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from cloud_client.client import ParticleCloud
from cloud_client.credentials import Credentials
from cloud_client.emulator import EmulatorServer
from hardware.platforms import by_name
from station.cli import main
from station.trays.device_import import LineResult, import_tray, write_report_xlsx
from station.trays.lists import read_tray

PRODUCT = 4242
OWNER = "owner@example.com"
TOKEN = "a" * 40


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    server = EmulatorServer()
    server.add_owned_product(PRODUCT, "boron", OWNER, access_token=TOKEN)
    server.add_user("other@example.com", "pw")
    for n in (1, 2, 3, 4):
        server.add_device(f"e00fce68a1b2c3d4e5f6000{n}", "boron", serial=f"B40KAA00000000{n}")
    server.add_device("e00fce68a1b2c3d4e5f60005", "boron", owner="other@example.com")
    with server:
        yield server


@pytest.fixture
def cloud(emulator: EmulatorServer) -> Iterator[ParticleCloud]:
    assert emulator.base_url is not None
    with ParticleCloud(emulator.base_url, Credentials.token(TOKEN), max_retries=2) as client:
        yield client


def tray_file(tmp_path: Path) -> Path:
    path = tmp_path / "tray.csv"
    path.write_text(
        "Device ID,Note\n"
        "e00fce68a1b2c3d4e5f60001,ok\n"
        "E00FCE68A1B2C3D4E5F60002,upper case\n"
        "e00fce68a1b2c3d4e5f6000,short\n"
        "e00fce68a1b2c3d4e5f60001,duplicate\n"
        "0a10aced202100aabbccddee,a P2\n"
        "e00fce68a1b2c3d4e5f60005,owned by another account\n"
        "e00fce68ffffffffffffffff,unknown to the cloud\n"
        "B40KAA000000003,a serial number\n"
    )
    return path


def test_report_gives_the_exact_outcome_of_every_line(tmp_path: Path, cloud: ParticleCloud) -> None:
    tray = read_tray(tray_file(tmp_path), platform=by_name("boron"))
    report = import_tray(tray, cloud, PRODUCT, batch_size=2)
    assert report.complete
    assert [(line.line, line.result) for line in report.lines] == [
        (2, LineResult.ADDED),
        (3, LineResult.ADDED),
        (4, LineResult.INVALID),
        (5, LineResult.DUPLICATE),
        (6, LineResult.OTHER_PLATFORM),
        (7, LineResult.OWNED_ELSEWHERE),
        (8, LineResult.INVALID),
        (9, LineResult.ADDED),
    ]
    by_line = {line.line: line for line in report.lines}
    assert by_line[9].device_id == "e00fce68a1b2c3d4e5f60003"
    assert by_line[5].reason == "duplicate of line 2"
    assert report.requests == 3


def test_running_the_import_again_reports_every_id_as_existing(tmp_path: Path, cloud: ParticleCloud) -> None:
    tray = read_tray(tray_file(tmp_path), platform=by_name("boron"))
    import_tray(tray, cloud, PRODUCT)
    again = import_tray(tray, cloud, PRODUCT)
    assert again.count(LineResult.EXISTING) == 3
    assert again.count(LineResult.ADDED) == 0


def test_an_interrupted_import_resumes_from_its_progress_file(
    tmp_path: Path, emulator: EmulatorServer, cloud: ParticleCloud
) -> None:
    tray = read_tray(tray_file(tmp_path), platform=by_name("boron"))
    state = tmp_path / "progress.json"
    calls = 0

    def stop_after_first_batch(done: int, total: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            emulator.set_faults(error_rate=1.0)

    first = import_tray(tray, cloud, PRODUCT, batch_size=2, state_path=state, progress=stop_after_first_batch)
    assert not first.complete
    assert first.count(LineResult.NOT_ATTEMPTED) == 3
    assert state.exists()
    emulator.set_faults(error_rate=0.0)
    emulator.clear_request_log()
    second = import_tray(tray, cloud, PRODUCT, batch_size=2, state_path=state)
    assert second.complete and not state.exists()
    assert second.count(LineResult.ADDED) == 3
    imports = [r for r in emulator.request_log if r[0] == "POST" and r[1].endswith("/devices")]
    assert len(imports) == 2  # only the 3 identifiers not done before, in batches of 2


def test_report_workbook_keeps_hostile_text_as_text(tmp_path: Path, cloud: ParticleCloud) -> None:
    path = tmp_path / "t.txt"
    path.write_text("=HYPERLINK(\"http://x\")\ne00fce68a1b2c3d4e5f60001\n")
    report = import_tray(read_tray(path, platform=by_name("boron")), cloud, PRODUCT)
    out = write_report_xlsx(report, tmp_path / "report.xlsx")
    sheet = openpyxl.load_workbook(out)["Import"]
    assert sheet["B2"].value == '=HYPERLINK("http://x")'
    assert sheet["B2"].data_type == "s"
    assert sheet["E3"].value == "added"


def test_cli_tray_import_prints_json_and_writes_the_report(
    tmp_path: Path, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(
        f'[station]\nname = "s"\n[product]\nid = {PRODUCT}\nplatform = "boron"\n'
        f'[firmware]\nfile = "fw.bin"\nsha256 = "{"0" * 64}"\n'
        f'[cloud]\nbase_url = "{emulator.base_url}"\ncredentials = "env:TRAYTEST"\n'
    )
    monkeypatch.setenv("TRAYTEST_ACCESS_TOKEN", TOKEN)
    code = main(["tray", "import", str(tray_file(tmp_path)), "--profile", str(profile), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1  # 5 of 8 lines were not imported: a factory script must see it
    assert out["summary"] == {"added": 3, "invalid": 2, "owned elsewhere": 1, "other platform": 1, "duplicate": 1}
    assert Path(out["report"]).exists()
    assert TOKEN not in json.dumps(out)


def test_ids_an_interrupted_run_sent_without_an_answer_are_not_called_already_in_the_product(
    tmp_path: Path, emulator: EmulatorServer
) -> None:
    assert emulator.base_url is not None
    tray = read_tray(tray_file(tmp_path), platform=by_name("boron"))
    state = tmp_path / "progress.json"
    emulator.set_faults(lost_reply_rate=1.0)  # carried out, reply lost, every time
    with ParticleCloud(emulator.base_url, Credentials.token(TOKEN), max_retries=0) as impatient:
        first = import_tray(tray, impatient, PRODUCT, batch_size=2, state_path=state)
    assert not first.complete
    emulator.set_faults()
    with ParticleCloud(emulator.base_url, Credentials.token(TOKEN), max_retries=0) as cloud:
        second = import_tray(tray, cloud, PRODUCT, batch_size=2, state_path=state)
    assert second.complete and not state.exists()
    by_line = {line.line: line.result for line in second.lines}
    assert by_line[2] is by_line[3] is LineResult.REPLY_LOST  # the first batch: added by the interrupted run
    assert by_line[9] is LineResult.ADDED
    assert second.count(LineResult.EXISTING) == 0
