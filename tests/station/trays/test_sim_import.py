"""SIM list import against the emulator over real sockets: checks before calls, HEAD before import, per-line report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from cloud_client.client import ParticleCloud
from cloud_client.credentials import Credentials
from cloud_client.emulator import EmulatorServer
from station.cli import main
from station.trays.sim_import import (
    SimLineResult,
    import_sim_list,
    read_sim_list,
    scanned_sim_list,
    write_sim_report_xlsx,
)

PRODUCT = 4242
SISTER_PRODUCT = 4343
OWNER = "owner@example.com"
OTHER = "other@example.com"
TOKEN = "b" * 40


def luhn_iccid(body: str) -> str:
    """``body`` (18 digits from 89) plus its Luhn check digit: a 19-digit ICCID as printed on SIM cards."""
    digits = [int(d) for d in body]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 0:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    return body + str((10 - total % 10) % 10)


FRESH = [luhn_iccid(f"89014103211118510{n}") for n in (10, 11, 12)]
ACTIVE_HERE = luhn_iccid("890141032111185200")
OTHER_ACCOUNT = luhn_iccid("890141032111185300")
SISTER = luhn_iccid("890141032111185400")
UNKNOWN = luhn_iccid("890141032111185500")


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    server = EmulatorServer()
    server.add_owned_product(PRODUCT, "boron", OWNER, access_token=TOKEN)
    server.add_product(SISTER_PRODUCT, "boron", owner=OWNER)
    server.add_user(OTHER, "pw")
    for iccid in FRESH:
        server.add_sim(iccid)
    server.add_sim(ACTIVE_HERE, product_id=PRODUCT, status="active")
    server.add_sim(OTHER_ACCOUNT, owner=OTHER, status="active")
    server.add_sim(SISTER, product_id=SISTER_PRODUCT, status="active")
    with server:
        yield server


@pytest.fixture
def cloud(emulator: EmulatorServer) -> Iterator[ParticleCloud]:
    assert emulator.base_url is not None
    with ParticleCloud(emulator.base_url, Credentials.token(TOKEN), max_retries=1, sleep=lambda _: None) as client:
        yield client


def sim_pack(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "sim-pack.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def results(tmp_path: Path, cloud: ParticleCloud, *lines: str) -> dict[int, SimLineResult]:
    report = import_sim_list(read_sim_list(sim_pack(tmp_path, *lines)), cloud, PRODUCT)
    return {line.line: line.result for line in report.lines}


def sim_record(emulator: EmulatorServer, iccid: str) -> dict[str, object]:
    return next(s for s in emulator.snapshot()["sims"] if s["iccid"] == iccid)


def test_fresh_sims_are_imported_into_the_product_and_reported_pending(
    tmp_path: Path, emulator: EmulatorServer, cloud: ParticleCloud
) -> None:
    assert results(tmp_path, cloud, *FRESH) == {1: SimLineResult.PENDING, 2: SimLineResult.PENDING,
                                                3: SimLineResult.PENDING}
    assert all(sim_record(emulator, iccid)["product_id"] == PRODUCT for iccid in FRESH)


def test_sims_whose_activation_finished_are_reported_activated(
    tmp_path: Path, emulator: EmulatorServer, cloud: ParticleCloud
) -> None:
    emulator.set_timings(sim_activation_s=0)
    assert results(tmp_path, cloud, FRESH[0]) == {1: SimLineResult.ACTIVATED}


def test_sims_are_imported_in_batches_without_a_check_per_sim(
    tmp_path: Path, emulator: EmulatorServer, cloud: ParticleCloud
) -> None:
    many = [luhn_iccid(f"8901410321111860{n:02d}") for n in range(7)]
    for iccid in many:
        emulator.add_sim(iccid)
    report = import_sim_list(read_sim_list(sim_pack(tmp_path, *many)), cloud, PRODUCT, batch_size=3)
    assert report.count(SimLineResult.PENDING) == 7
    calls = [(method, path) for method, path, _ in emulator.request_log]
    assert not [c for c in calls if c[0] == "HEAD"]
    assert calls.count(("POST", f"/v1/products/{PRODUCT}/sims")) == 3
    assert calls.count(("GET", f"/v1/products/{PRODUCT}/sims")) == 2  # before and after, one page each
    assert report.requests == len(calls)


def lose_post_replies(emulator: EmulatorServer) -> None:
    """Every import the emulator receives is carried out, then its reply is lost (reads are answered)."""
    emulator.set_faults(lost_reply_rate=1.0, methods=("POST",))


def imports_of(emulator: EmulatorServer, iccid: str) -> list[str]:
    """What each import the emulator carried out made of ``iccid`` ("activating" = imported now)."""
    return [r["outcome"] for r in emulator.snapshot()["sim_import_results"] if r["iccid"] == iccid]


def test_a_batch_whose_reply_is_lost_is_read_back_from_the_sim_list_not_sent_again(
    tmp_path: Path, emulator: EmulatorServer, cloud: ParticleCloud
) -> None:
    pack = read_sim_list(sim_pack(tmp_path, *FRESH, ACTIVE_HERE, OTHER_ACCOUNT))
    lose_post_replies(emulator)
    report = import_sim_list(pack, cloud, PRODUCT, batch_size=2)
    by_line = {line.line: (line.result, line.reason) for line in report.lines}
    assert [by_line[n][0] for n in (1, 2, 3)] == [SimLineResult.REPLY_LOST] * 3
    assert "reply" in by_line[1][1] and "not sent again" in by_line[1][1]
    assert by_line[4][0] is SimLineResult.ALREADY_ACTIVE
    assert by_line[5][0] is SimLineResult.OWNED_ELSEWHERE
    assert report.complete
    for iccid in FRESH:
        assert imports_of(emulator, iccid) == ["activating"]  # imported once, never again
        assert sim_record(emulator, iccid)["product_id"] == PRODUCT
    assert imports_of(emulator, ACTIVE_HERE) == []
    assert sim_record(emulator, OTHER_ACCOUNT)["owner"] == OTHER


def test_cli_reports_sims_whose_reply_was_lost_as_in_the_product(
    tmp_path: Path, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SIMTEST_ACCESS_TOKEN", TOKEN)
    lose_post_replies(emulator)
    code = main(["tray", "import-sims", str(sim_pack(tmp_path, *FRESH)), "--profile",
                 str(write_profile(tmp_path, emulator)), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["summary"] == {"in the product (reply lost)": 3}
    assert all(imports_of(emulator, iccid) == ["activating"] for iccid in FRESH)


def test_invalid_iccids_are_reported_with_their_line_before_any_call(
    tmp_path: Path, emulator: EmulatorServer, cloud: ParticleCloud
) -> None:
    report = import_sim_list(read_sim_list(sim_pack(tmp_path, "8901410321111851", "e00fce68a1b2c3d4e5f60001")),
                             cloud, PRODUCT)
    assert [(line.line, line.result) for line in report.lines] == [(1, SimLineResult.INVALID),
                                                                   (2, SimLineResult.INVALID)]
    assert "16 digits" in report.lines[0].reason
    assert report.lines[1].reason.startswith("is a device id")
    assert emulator.request_log == []


def test_a_repeated_iccid_is_a_duplicate_of_its_first_line(tmp_path: Path, cloud: ParticleCloud) -> None:
    report = import_sim_list(read_sim_list(sim_pack(tmp_path, FRESH[0], FRESH[1], FRESH[0])), cloud, PRODUCT)
    assert (report.lines[2].result, report.lines[2].reason) == (SimLineResult.DUPLICATE, "duplicate of line 1")


def test_a_sim_already_active_in_this_product_is_not_imported_again(
    tmp_path: Path, emulator: EmulatorServer, cloud: ParticleCloud
) -> None:
    assert results(tmp_path, cloud, ACTIVE_HERE) == {1: SimLineResult.ALREADY_ACTIVE}
    assert not [r for r in emulator.request_log if r[0] == "POST"]


def test_a_sim_of_another_account_is_owned_elsewhere_and_stays_there(
    tmp_path: Path, emulator: EmulatorServer, cloud: ParticleCloud
) -> None:
    report = import_sim_list(read_sim_list(sim_pack(tmp_path, OTHER_ACCOUNT)), cloud, PRODUCT)
    assert report.lines[0].result is SimLineResult.OWNED_ELSEWHERE
    assert "another Particle account" in report.lines[0].reason
    assert imports_of(emulator, OTHER_ACCOUNT) == ["owned by another account"]  # sent in its batch, refused there
    assert sim_record(emulator, OTHER_ACCOUNT)["owner"] == OTHER


def test_a_sim_active_in_another_product_of_the_account_is_owned_elsewhere(
    tmp_path: Path, emulator: EmulatorServer, cloud: ParticleCloud
) -> None:
    report = import_sim_list(read_sim_list(sim_pack(tmp_path, SISTER)), cloud, PRODUCT)
    assert report.lines[0].result is SimLineResult.OWNED_ELSEWHERE
    assert f"not in product {PRODUCT}" in report.lines[0].reason
    assert sim_record(emulator, SISTER)["product_id"] == SISTER_PRODUCT


def test_an_iccid_particle_does_not_know_is_unknown(
    tmp_path: Path, emulator: EmulatorServer, cloud: ParticleCloud
) -> None:
    assert results(tmp_path, cloud, UNKNOWN) == {1: SimLineResult.UNKNOWN}
    assert imports_of(emulator, UNKNOWN) == ["unknown ICCID"]


def test_an_unknown_iccid_with_a_wrong_check_digit_says_so_not_unknown(
    tmp_path: Path, emulator: EmulatorServer, cloud: ParticleCloud
) -> None:
    typo = UNKNOWN[:-1] + str((int(UNKNOWN[-1]) + 1) % 10)
    report = import_sim_list(read_sim_list(sim_pack(tmp_path, typo)), cloud, PRODUCT)
    assert report.lines[0].result is SimLineResult.BAD_CHECK_DIGIT
    assert report.lines[0].result.value == "invalid (check digit)"
    assert "check digit" in report.lines[0].reason


def test_running_the_import_again_imports_nothing_new(
    tmp_path: Path, emulator: EmulatorServer, cloud: ParticleCloud
) -> None:
    emulator.set_timings(sim_activation_s=0)
    results(tmp_path, cloud, *FRESH)
    emulator.clear_request_log()
    again = results(tmp_path, cloud, *FRESH)
    assert set(again.values()) == {SimLineResult.ALREADY_ACTIVE}
    assert not [r for r in emulator.request_log if r[0] == "POST"]


def test_a_cloud_outage_leaves_the_rest_not_attempted_and_a_rerun_finishes(
    tmp_path: Path, emulator: EmulatorServer, cloud: ParticleCloud
) -> None:
    sims = read_sim_list(sim_pack(tmp_path, *FRESH))
    emulator.set_faults(error_rate=1.0)
    first = import_sim_list(sims, cloud, PRODUCT)
    assert not first.complete
    assert first.count(SimLineResult.NOT_ATTEMPTED) == 3
    emulator.set_faults(error_rate=0.0)
    second = import_sim_list(sims, cloud, PRODUCT)
    assert second.complete and second.count(SimLineResult.PENDING) == 3


def test_scanned_iccids_are_numbered_in_scan_order(cloud: ParticleCloud) -> None:
    sims = scanned_sim_list([FRESH[0], "12345", FRESH[0], ACTIVE_HERE])
    report = import_sim_list(sims, cloud, PRODUCT)
    assert [(line.line, line.result) for line in report.lines] == [
        (1, SimLineResult.PENDING),
        (2, SimLineResult.INVALID),
        (3, SimLineResult.DUPLICATE),
        (4, SimLineResult.ALREADY_ACTIVE),
    ]
    assert report.lines[2].reason == "duplicate of scan 1"


def test_report_workbook_has_one_row_per_line(tmp_path: Path, cloud: ParticleCloud) -> None:
    report = import_sim_list(read_sim_list(sim_pack(tmp_path, FRESH[0], "not-an-iccid", OTHER_ACCOUNT)), cloud,
                             PRODUCT)
    sheet = openpyxl.load_workbook(write_sim_report_xlsx(report, tmp_path / "sims.xlsx"))["Import"]
    rows = [row[:5] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert rows == [
        (1, FRESH[0], "ICCID", None, "activation pending"),
        (2, "not-an-iccid", None, None, "invalid"),
        (3, OTHER_ACCOUNT, "ICCID", None, "owned elsewhere"),
    ]


def write_profile(tmp_path: Path, emulator: EmulatorServer, platform: str = "boron") -> Path:
    profile = tmp_path / "p.toml"
    profile.write_text(
        f'[station]\nname = "s"\n[product]\nid = {PRODUCT}\nplatform = "{platform}"\n'
        f'[firmware]\nfile = "fw.bin"\nsha256 = "{"0" * 64}"\n'
        f'[cloud]\nbase_url = "{emulator.base_url}"\ncredentials = "env:SIMTEST"\n'
    )
    return profile


def test_cli_import_sims_prints_json_and_writes_the_report(
    tmp_path: Path, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SIMTEST_ACCESS_TOKEN", TOKEN)
    pack = sim_pack(tmp_path, *FRESH, OTHER_ACCOUNT, "8901")
    code = main(["tray", "import-sims", str(pack), "--profile", str(write_profile(tmp_path, emulator)), "--json"])
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert code == 1  # two lines were not imported: not a clean success
    assert f"2 of 5 lines of {pack} were not imported" in captured.err
    assert out["summary"] == {"activation pending": 3, "owned elsewhere": 1, "invalid": 1}
    assert Path(out["report"]).exists()
    assert TOKEN not in json.dumps(out)


def test_cli_refuses_a_sim_list_for_a_wifi_only_product(
    tmp_path: Path, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SIMTEST_ACCESS_TOKEN", TOKEN)
    profile = write_profile(tmp_path, emulator, platform="argon")
    code = main(["tray", "import-sims", str(sim_pack(tmp_path, *FRESH)), "--profile", str(profile)])
    assert code == 1
    assert "no cellular modem" in capsys.readouterr().err
    assert emulator.request_log == []


def test_with_some_replies_lost_every_sim_is_imported_once_and_reported_right(
    tmp_path: Path, emulator: EmulatorServer, cloud: ParticleCloud
) -> None:
    many = [luhn_iccid(f"8901410321111870{n:02d}") for n in range(12)]
    for iccid in many:
        emulator.add_sim(iccid)
    emulator.set_faults(lost_reply_rate=0.5, methods=("POST",))
    report = import_sim_list(read_sim_list(sim_pack(tmp_path, *many, OTHER_ACCOUNT)), cloud, PRODUCT, batch_size=3)
    results = {line.text: line.result for line in report.lines}
    assert report.complete
    assert results[OTHER_ACCOUNT] is SimLineResult.OWNED_ELSEWHERE
    assert {results[iccid] for iccid in many} <= {SimLineResult.PENDING, SimLineResult.REPLY_LOST}
    assert SimLineResult.REPLY_LOST in results.values()
    for iccid in many:
        assert imports_of(emulator, iccid) == ["activating"]
        assert sim_record(emulator, iccid)["product_id"] == PRODUCT
