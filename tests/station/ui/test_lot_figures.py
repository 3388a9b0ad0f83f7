"""One lot, four places, the same figures: the lot bar, its chart, the workbook's Summary sheet and
``particle-station lot summary --json`` (all from station.records.lot_summary)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from pytestqt.qtbot import QtBot

from station.cli import main
from station.demo.simulated_line import SimulatedLine
from station.records.journal import Journal
from station.records.spreadsheet import write_workbook
from station.records.unit_state import UnitSettlement
from station.ui.lot_bar import LotBar
from station.ui.lot_stats import take_snapshot
from station.workflow.line import Line
from station.workflow.lot import prepare_lot


@pytest.fixture
def idle_line(sim: SimulatedLine) -> Iterator[Line]:
    """A line whose lot is recorded but whose outbox worker never runs (the queued items stay as written)."""
    line = Line(prepare_lot(sim.profile, sim.cloud(max_retries=1)), link=sim.link(), operator="ann")
    try:
        yield line
    finally:
        line.close()


def record_lot(journal: Journal, lot: str) -> None:
    """3 PASS (one on its second attempt, one whose cloud work finished later), 1 FAIL, 1 not confirmed, 1 cloud
    pending, 2 refused scans."""
    units, outbox, settle = journal.unit_table, journal.outbox_table, UnitSettlement(journal.db)

    def unit(key: str, cycle: float, *, failure: tuple[str, str, str] | None = None,
             items: tuple[str, ...] = ()) -> list[int]:
        record, _ = units.begin(lot, key, serial=key)
        queued = [outbox.enqueue(f"{key}:{op}:{record.attempts}", op, {"timeout_s": 30}, unit_id=record.id)
                  for op in items]
        settle.device_finished(record.id, failure=failure, ended_at=1000.0 + cycle, cycle_seconds=cycle)
        return queued

    unit("P1", 40.0)
    unit("P2", 90.0, failure=("Label and device do not match", "set aside", "label_mismatch"))
    unit("P2", 45.0)
    (done,) = unit("P3", 50.0, items=("claim",))
    outbox.done(done)
    unit("F1", 60.0, failure=("verify failed at 0x80400", "rescan", "flash_verify"))
    (late,) = unit("N1", 42.0, items=("confirm_online",))
    outbox.not_confirmed(late, "The cloud did not see the unit online within 30 s.")
    unit("C1", 41.0, items=("update_device",))
    journal.refused_scan_table.record(lot, "P046X", "wrong_platform", "This label names a P2; this line makes Borons.")
    journal.refused_scan_table.record(lot, "P046Y", "device_not_found", "No device appeared for this label.")


def test_the_lot_bar_chart_workbook_and_cli_show_the_same_figures(
        qtbot: QtBot, idle_line: Line, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = idle_line
    record_lot(line.journal, line.lot)
    expected = {"units": 6, "passed": 3, "failed": 1, "waiting_on_cloud": 1, "not_confirmed": 1, "tested": 5,
                "refused_scans": 2, "yield_rate": 3 / 5, "first_pass_yield": 2 / 5}

    # the lot bar and its chart
    bar = LotBar()
    qtbot.addWidget(bar)
    bar.show_snapshot(take_snapshot(line))
    shown = {key: bar.values[key].text() for key in ("total", "passed", "failed", "not_confirmed", "yield",
                                                      "first_pass")}
    assert shown == {"total": "6", "passed": "3", "failed": "1", "not_confirmed": "1", "yield": "60.0 %",
                     "first_pass": "40.0 %"}
    assert "1 unit waiting on the cloud" in bar.pending.text() and "2 refused scans" in bar.who.text()
    series = bar.chart.yield_series
    assert series.count() == expected["tested"]
    assert series.at(series.count() - 1).y() == pytest.approx(100 * expected["yield_rate"])

    # the workbook's Summary sheet
    path = tmp_path / "lot.xlsx"
    write_workbook(line.journal, path, lot=line.lot)
    rows = list(openpyxl.load_workbook(path)["Summary"].iter_rows(values_only=True))
    sheet = {row[0]: row[1] for row in rows if row and row[0]}
    assert sheet["Units"] == expected["units"]
    assert (sheet["PASS"], sheet["FAIL"], sheet["cloud pending"], sheet["not confirmed"]) == (3, 1, 1, 1)
    assert sheet["Units tested (PASS, FAIL, not confirmed)"] == expected["tested"]
    assert sheet["Waiting on the cloud (cloud pending)"] == 1
    assert sheet["Refused scans (not units)"] == expected["refused_scans"]
    assert sheet["Yield (latest attempt PASS / tested)"] == pytest.approx(expected["yield_rate"])
    assert sheet["First-pass yield (first attempt PASS / tested)"] == pytest.approx(expected["first_pass_yield"])
    assert sheet["Median cycle time (s)"] == pytest.approx(43.5)
    pareto_at = rows.index(("Failures by reason code", "Units")) + 1
    assert rows[pareto_at:] == [("flash_verify", 1), ("not_online_in_time", 1)]

    # particle-station lot summary --json
    capsys.readouterr()
    assert main(["lot", "summary", "--lot", line.lot, "--journal", str(line.journal.path), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert {key: figures[key] for key in expected} == pytest.approx(expected)
    assert figures["median_cycle_seconds"] == pytest.approx(43.5)
    assert figures["failures_by_code"] == [{"code": "flash_verify", "units": 1},
                                           {"code": "not_online_in_time", "units": 1}]
    assert main(["lot", "summary", "--lot", line.lot, "--journal", str(line.journal.path)]) == 0
    text = capsys.readouterr().out
    assert "yield 60.0 %, first-pass yield 40.0 %" in text and "2 refused scans" in text


def test_lot_summary_of_an_unknown_lot_is_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Journal(tmp_path / "journal.sqlite3") as journal:
        journal.open_lot("L1", station="S", product_id=1, profile="p.toml", operator="ann")
    assert main(["lot", "summary", "--lot", "L9", "--journal", str(tmp_path / "journal.sqlite3")]) != 0
    err = capsys.readouterr().err
    assert "lot 'L9' is not in the journal" in err and "L1" in err and "Traceback" not in err
