"""The tray import dialog against the emulated cloud: preview with highlighted problems, import, results, export."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from pytestqt.qtbot import QtBot

from station.demo.simulated_line import SimulatedLine
from station.trays.device_import import LineResult
from station.ui.tasks import BackgroundTasks
from station.ui.tray_dialog import DUPLICATE_COLOUR, IN_PRODUCT_COLOUR, INVALID_COLOUR, RESULT_COLOURS, TrayImportDialog
from station.workflow.line import Line

from .conftest import FIXTURES


@pytest.fixture
def dialog(qtbot: QtBot, line: Line) -> Iterator[TrayImportDialog]:
    tasks = BackgroundTasks()
    shown = TrayImportDialog(line.profile, line.cloud, tasks)
    qtbot.addWidget(shown)
    shown.show()
    yield shown
    tasks.shutdown()


@pytest.fixture
def tray_file(tmp_path: Path, sim: SimulatedLine) -> Path:
    first, second = (device.device_id.value for device in sim.devices)
    path = tmp_path / "tray.txt"
    path.write_text(f"# two units, a short id, a duplicate\n{first}\n{second}\n{first[:-1]}\n{second}\n")
    return path


def _row_colours(dialog: TrayImportDialog) -> dict[int, str | None]:
    colours: dict[int, str | None] = {}
    for row in range(dialog.preview.rowCount()):
        item = dialog.preview.item(row, 0)
        brush = item.background()
        colours[int(item.text())] = brush.color().name() if brush.style() != Qt.BrushStyle.NoBrush else None
    return colours


def test_preview_highlights_invalid_and_duplicate_lines(qtbot: QtBot, dialog: TrayImportDialog) -> None:
    dialog.load_file(FIXTURES / "trays" / "boron-tray-messy.csv")
    qtbot.waitUntil(lambda: dialog.tray is not None)
    colours = _row_colours(dialog)
    assert colours[2] is None and colours[4] is None
    assert colours[3] == INVALID_COLOUR  # one character short
    assert colours[5] == DUPLICATE_COLOUR  # same device as line 2
    assert dialog.tray is not None
    assert f"{len(dialog.tray.entries)} to import, {len(dialog.tray.problems)} lines will be skipped" in (
        dialog.summary.text())
    assert dialog.import_button.isEnabled()


def test_import_runs_in_the_background_and_fills_the_result_table(qtbot: QtBot, dialog: TrayImportDialog,
                                                                  tray_file: Path, sim: SimulatedLine) -> None:
    dialog.load_file(tray_file)
    qtbot.waitUntil(dialog.import_button.isEnabled)
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=30_000)
    results = {int(dialog.results.item(row, 0).text()): dialog.results.item(row, 4).text()
               for row in range(dialog.results.rowCount())}
    assert results == {2: "added", 3: "added", 4: "invalid", 5: "duplicate"}
    assert dialog.results.isVisible() and not dialog.preview.isVisible()
    product = {d["id"]: d["product_id"] for d in sim.emulator.snapshot()["devices"]}
    assert all(product[device.device_id.value] == sim.profile.product_id for device in sim.devices)


def test_dropping_a_tray_file_on_the_dialog_previews_it(qtbot: QtBot, dialog: TrayImportDialog,
                                                        tray_file: Path) -> None:
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(tray_file))])
    drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    dialog.dropEvent(drop)
    qtbot.waitUntil(lambda: dialog.tray is not None)
    assert dialog.tray is not None and dialog.tray.source == tray_file
    assert dialog.preview.rowCount() == 4


def test_unreadable_tray_file_says_why_and_imports_nothing(qtbot: QtBot, dialog: TrayImportDialog,
                                                           tmp_path: Path) -> None:
    dialog.load_file(tmp_path / "nope.csv")
    qtbot.waitUntil(lambda: dialog.summary.text().startswith("✗"))
    assert "nope.csv" in dialog.summary.text() and "does not exist" in dialog.summary.text()
    assert not dialog.import_button.isEnabled()


def test_import_report_exports_to_a_workbook(qtbot: QtBot, dialog: TrayImportDialog, tray_file: Path,
                                             tmp_path: Path) -> None:
    dialog.load_file(tray_file)
    qtbot.waitUntil(dialog.import_button.isEnabled)
    dialog.start_import()
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=30_000)
    target = tmp_path / "out" / "report"
    dialog.export_report(target)
    qtbot.waitUntil(lambda: dialog.summary.text().startswith("Report saved"), timeout=10_000)
    workbook = openpyxl.load_workbook(target.with_suffix(".xlsx"))
    rows = list(workbook["Import"].iter_rows(values_only=True))
    assert rows[0][:5] == ("Line", "Input", "Kind", "Device ID", "Result") and len(rows) == 5


def _result_colours(dialog: TrayImportDialog) -> dict[int, tuple[str, str | None]]:
    shown: dict[int, tuple[str, str | None]] = {}
    for row in range(dialog.results.rowCount()):
        brush = dialog.results.item(row, 4).background()
        colour = brush.color().name() if brush.style() != Qt.BrushStyle.NoBrush else None
        shown[int(dialog.results.item(row, 0).text())] = (dialog.results.item(row, 4).text(), colour)
    return shown


def test_every_import_result_has_a_colour() -> None:
    assert set(RESULT_COLOURS) == set(LineResult)


def test_rounded_and_reply_lost_results_are_coloured_like_the_others(
        qtbot: QtBot, dialog: TrayImportDialog, tmp_path: Path, sim: SimulatedLine) -> None:
    first, second = (device.device_id.value for device in sim.devices)
    tray = tmp_path / "order.txt"
    tray.write_text(f"{first}\n{second}\n8.90123456789012E+19\n")
    dialog.load_file(tray)
    qtbot.waitUntil(dialog.import_button.isEnabled)
    sim.emulator.set_faults(lost_reply_rate=1.0)  # the import is carried out, its replies are lost
    dialog.start_import()
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=30_000)
    assert dialog.report is not None and not dialog.report.complete
    sim.emulator.set_faults()
    dialog.report = None
    dialog.start_import()
    qtbot.waitUntil(lambda: dialog.report is not None and dialog.report.complete, timeout=30_000)
    shown = _result_colours(dialog)
    assert shown[1] == shown[2] == ("in the product (reply lost)", IN_PRODUCT_COLOUR)
    assert shown[3] == ("rounded by Excel", INVALID_COLOUR)
