"""Engineer mode behind the PIN: the lock, the profile and firmware view, unit history, cloud retry, the workbook."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from station.demo.simulated_line import SimulatedLine
from station.ui.engineer import EngineerDialog
from station.ui.main_window import OperatorWindow
from station.ui.pin_dialog import WRONG_PIN
from station.ui.slot_state import Phase
from station.workflow.line import Line

from .conftest import ENGINEER_PIN, FIXTURES


def _enter_pin(qtbot: QtBot, window: OperatorWindow, pin: str) -> None:
    window.open_engineer_mode()
    dialog = window.pin_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    qtbot.keyClicks(dialog.pin, pin)
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)


def _engineer(qtbot: QtBot, window: OperatorWindow) -> EngineerDialog:
    window.open_engineer_mode()
    qtbot.waitUntil(lambda: window.engineer_dialog is not None and window.engineer_dialog.isVisible())
    assert window.engineer_dialog is not None
    return window.engineer_dialog


def test_wrong_pin_is_refused_and_engineer_mode_stays_closed(
        qtbot: QtBot, make_window: Callable[[Line], OperatorWindow], locked_line: Line) -> None:
    window = make_window(locked_line)
    _enter_pin(qtbot, window, "1111")
    dialog = window.pin_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.message.text() == WRONG_PIN)
    assert dialog.isVisible() and dialog.attempts == 1
    assert window.engineer_dialog is None


def test_right_pin_opens_engineer_mode(qtbot: QtBot, make_window: Callable[[Line], OperatorWindow],
                                      locked_line: Line) -> None:
    window = make_window(locked_line)
    _enter_pin(qtbot, window, ENGINEER_PIN)
    qtbot.waitUntil(lambda: window.engineer_dialog is not None and window.engineer_dialog.isVisible())
    assert window.pin_dialog is not None and not window.pin_dialog.isVisible()


def test_unit_history_finds_a_unit_by_serial_and_shows_its_steps(qtbot: QtBot, window: OperatorWindow,
                                                                 sim: SimulatedLine) -> None:
    device = sim.devices[0]
    assert device.serial is not None
    window.submit_scan(device.label)
    qtbot.waitUntil(lambda: window.panels[0].state.phase is Phase.PASS, timeout=30_000)
    history = _engineer(qtbot, window).history
    history.search(device.serial.value[-6:].lower())
    qtbot.waitUntil(lambda: history.unit_table.rowCount() == 1)
    assert history.unit_table.item(0, 1).text() == device.device_id.value
    history.unit_table.selectRow(0)
    qtbot.waitUntil(lambda: history.step_table.rowCount() >= 6)
    steps = [history.step_table.item(row, 0).text() for row in range(history.step_table.rowCount())]
    assert "Flashing the product firmware" in steps


def test_unit_history_finds_a_unit_by_device_id(qtbot: QtBot, window: OperatorWindow, sim: SimulatedLine) -> None:
    device = sim.devices[1]
    window.submit_scan(device.label)
    qtbot.waitUntil(lambda: window.panels[0].state.phase is Phase.PASS, timeout=30_000)
    history = _engineer(qtbot, window).history
    history.search(device.device_id.value)
    qtbot.waitUntil(lambda: history.unit_table.rowCount() == 1)
    assert history.unit_table.item(0, 0).text() == device.serial.value  # type: ignore[union-attr]


def test_profile_and_its_firmware_are_shown_and_fit(qtbot: QtBot, window: OperatorWindow, line: Line) -> None:
    panel = _engineer(qtbot, window).firmware
    assert "Fits the profile" in panel.warnings.text()
    shown = [panel.firmware_form.itemAt(row, panel.firmware_form.ItemRole.FieldRole).widget().text()
             for row in range(panel.firmware_form.rowCount())]
    assert line.module.file_sha256 in shown and "12345" in shown


def test_firmware_of_another_platform_is_flagged_against_the_profile(qtbot: QtBot, window: OperatorWindow) -> None:
    panel = _engineer(qtbot, window).firmware
    panel.inspect_firmware(FIXTURES / "firmware" / "p2-user.bin")
    qtbot.waitUntil(lambda: "Does not fit the profile" in panel.warnings.text())
    assert "P2" in panel.warnings.text() and "SHA-256" in panel.warnings.text()


def test_unreadable_firmware_file_says_what_went_wrong(qtbot: QtBot, window: OperatorWindow, tmp_path: Path) -> None:
    panel = _engineer(qtbot, window).firmware
    panel.inspect_firmware(tmp_path / "missing.bin")
    qtbot.waitUntil(lambda: panel.status.text().startswith("✗"))
    assert "missing.bin" in panel.status.text()


def test_retry_puts_given_up_cloud_work_back_and_says_how_much(qtbot: QtBot, window: OperatorWindow, line: Line,
                                                               sim: SimulatedLine) -> None:
    item = line.journal.outbox_table.enqueue("test:pre_add", "pre_add",
                                             {"device_id": sim.devices[0].device_id.value}, unit_id=None)
    line.journal.outbox_table.failed(item, "cloud said no", retry_at=None)
    engineer = _engineer(qtbot, window)
    qtbot.mouseClick(engineer.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "1 given-up cloud operation put back" in engineer.records_status.text())
    qtbot.waitUntil(lambda: line.journal.count_pending() == 0, timeout=10_000)


def test_open_spreadsheet_writes_the_lot_workbook_and_opens_it(qtbot: QtBot, window: OperatorWindow,
                                                               opened_urls: list[QUrl]) -> None:
    engineer = _engineer(qtbot, window)
    qtbot.mouseClick(engineer.spreadsheet_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(opened_urls) == 1, timeout=30_000)
    opened = Path(opened_urls[0].toLocalFile())
    assert opened.suffix == ".xlsx" and opened.exists() and window.line.lot in opened.name


def test_close_lot_asks_twice_then_seals_the_lot_and_opens_the_next(qtbot: QtBot, window: OperatorWindow,
                                                                     line: Line) -> None:
    first = line.lot
    engineer = _engineer(qtbot, window)
    qtbot.mouseClick(engineer.close_lot_button, Qt.MouseButton.LeftButton)
    assert "Click again" in engineer.close_lot_button.text()
    record = line.journal.lot_table.get(first)
    assert record is not None and not record.closed  # one click closes nothing
    qtbot.mouseClick(engineer.close_lot_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "is open" in engineer.records_status.text(), timeout=30_000)
    record = line.journal.lot_table.get(first)
    assert record is not None and record.closed and record.sealed_summary is not None
    assert line.lot != first and line.lot in engineer.records_status.text()


def test_rework_unit_asks_the_label_and_a_confirmation_then_reruns_the_passed_unit(
        qtbot: QtBot, window: OperatorWindow, line: Line, sim: SimulatedLine) -> None:
    device = sim.devices[0]
    assert device.serial is not None
    window.submit_scan(device.label)
    qtbot.waitUntil(lambda: window.panels[0].state.phase is Phase.PASS, timeout=30_000)
    engineer = _engineer(qtbot, window)
    qtbot.mouseClick(engineer.rework_button, Qt.MouseButton.LeftButton)
    asked = engineer.rework.label_dialog
    assert asked is not None and asked.isVisible()
    asked.setTextValue(device.label)
    asked.accept()
    qtbot.waitUntil(lambda: engineer.rework.confirm_box is not None and engineer.rework.confirm_box.isVisible())
    box = engineer.rework.confirm_box
    assert box is not None and device.serial.value in box.text()
    unit = line.journal.unit_table.by_key(line.lot, device.serial.value)
    assert unit is not None and unit.attempts == 1  # asking changes nothing
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "being reworked" in engineer.records_status.text())

    def reworked() -> bool:
        again = line.journal.unit_table.by_key(line.lot, device.serial.value)  # type: ignore[union-attr]
        return (again is not None and again.attempts == 2 and not line.busy_slots()
                and "rework" in [s.step for s in line.journal.step_table.of_unit(again.id)])

    qtbot.waitUntil(reworked, timeout=30_000)
    qtbot.waitUntil(lambda: window.panels[0].state.phase is Phase.PASS, timeout=10_000)
    final = line.journal.unit_table.by_key(line.lot, device.serial.value)
    assert final is not None and final.state.value == "PASS", final


def test_rework_of_a_unit_that_never_passed_is_refused_without_asking_to_confirm(
        qtbot: QtBot, window: OperatorWindow, sim: SimulatedLine) -> None:
    engineer = _engineer(qtbot, window)
    engineer.rework.ask()
    asked = engineer.rework.label_dialog
    assert asked is not None
    asked.setTextValue(sim.devices[1].label)
    asked.accept()
    qtbot.waitUntil(lambda: "nothing to rework" in engineer.records_status.text())
    assert engineer.rework.confirm_box is None and window.line.journal.units(window.line.lot) == []
