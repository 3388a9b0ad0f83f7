"""The operator screen driven like an operator: keys into the scan field, a real line underneath."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from station.demo.simulated_line import SimulatedLine
from station.ui.main_window import OperatorWindow
from station.ui.slot_state import Phase

WRONG_LABEL = "B40TZZ000000001 ABCDEFGHJKLMNPQ"


def test_scanned_label_runs_the_unit_to_a_green_pass_panel(qtbot: QtBot, window: OperatorWindow,
                                                          sim: SimulatedLine) -> None:
    device = sim.devices[0]
    qtbot.keyClicks(window.scan_field, device.label)
    qtbot.keyClick(window.scan_field, Qt.Key.Key_Return)
    panel = window.panels[0]
    qtbot.waitUntil(lambda: panel.state.phase is Phase.PASS, timeout=30_000)
    qtbot.waitUntil(lambda: device.device_id.value in panel.text())
    shown = panel.text()
    assert device.serial is not None and device.serial.value in shown
    assert "PASS" in shown and "Put the unit in the PASS tray." in shown
    assert window.sounds.last_played == "pass"


def test_label_of_no_unit_on_the_bench_is_a_refused_scan_saying_what_to_do(
        qtbot: QtBot, window: OperatorWindow) -> None:
    qtbot.keyClicks(window.scan_field, WRONG_LABEL)
    qtbot.keyClick(window.scan_field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Scan refused" in window.scan_message.text(), timeout=30_000)
    shown = window.scan_message.text()
    assert "B40TZZ000000001" in shown and "scan the label of the unit that is plugged in" in shown
    assert all(panel.state.phase is Phase.IDLE for panel in window.panels.values())
    assert window.sounds.last_played == "fail"
    assert window.line.journal.units(window.line.lot) == []


def test_bad_scan_shows_the_line_error_in_plain_words_and_starts_nothing(qtbot: QtBot,
                                                                          window: OperatorWindow) -> None:
    qtbot.keyClicks(window.scan_field, "hello")
    qtbot.keyClick(window.scan_field, Qt.Key.Key_Return)
    message = window.scan_message.text()
    assert message.startswith("✗ Scan not accepted:") and "Traceback" not in message
    assert all(panel.state.phase is Phase.IDLE for panel in window.panels.values())
    assert window.scan_field.text() == ""


def test_bad_scan_message_never_shows_the_mobile_secret(qtbot: QtBot, window: OperatorWindow) -> None:
    qtbot.keyClicks(window.scan_field, "B40T1P1X6IBWKLT M4PZBQB9C5D5DFE extra")
    qtbot.keyClick(window.scan_field, Qt.Key.Key_Return)
    assert "Scan not accepted" in window.scan_message.text()
    assert "M4PZBQB9C5D5DFE" not in window.scan_message.text()
    assert "M4PZBQB9C5D5DFE" not in window.statusBar().currentMessage()


def test_scanner_burst_without_terminator_starts_the_unit_by_itself(qtbot: QtBot, window: OperatorWindow,
                                                                    sim: SimulatedLine) -> None:
    qtbot.keyClicks(window.scan_field, sim.devices[1].label)
    panel = window.panels[0]
    qtbot.waitUntil(lambda: panel.state.phase is not Phase.IDLE, timeout=5_000)
    assert panel.state.unit_key == sim.devices[1].serial.value  # type: ignore[union-attr]


def test_scan_field_takes_the_focus_back_after_a_dialog_closes(qtbot: QtBot, window: OperatorWindow) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.show_help()
    assert window.help_box is not None
    qtbot.waitUntil(window.help_box.isVisible)
    window.help_box.done(0)
    qtbot.waitUntil(window.scan_field.hasFocus)


def test_clicking_a_button_in_a_slot_panel_leaves_the_focus_in_the_scan_field(qtbot: QtBot,
                                                                              window: OperatorWindow) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.scan_field.hasFocus)
    button = window.panels[0].stop_button
    button.show()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(window.scan_field.hasFocus)


def test_two_units_fill_the_lot_bar_with_counts_yield_and_chart_points(qtbot: QtBot, window: OperatorWindow,
                                                                       sim: SimulatedLine) -> None:
    window.submit_scan(sim.devices[0].label)
    qtbot.waitUntil(lambda: window.panels[0].state.phase is Phase.PASS, timeout=30_000)
    window.line.journal.unit_table.begin(window.line.lot, "B40TZZ000000001")  # scanned before: a unit that FAILs
    window.submit_scan(WRONG_LABEL)
    qtbot.waitUntil(lambda: window.panels[0].state.phase is Phase.FAIL, timeout=30_000)
    bar = window.lot_bar
    qtbot.waitUntil(lambda: bar.snapshot is not None and bar.snapshot.counts.finished == 2, timeout=10_000)
    assert bar.values["passed"].text() == "1" and bar.values["failed"].text() == "1"
    assert bar.values["yield"].text() == "50.0 %"
    assert bar.chart.yield_series.count() == 2
    assert "nothing pending" in bar.pending.text()


def test_engineer_shortcut_opens_engineer_mode_when_the_profile_sets_no_pin(qtbot: QtBot,
                                                                           window: OperatorWindow) -> None:
    qtbot.keyClick(window.scan_field, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.engineer_dialog is not None and window.engineer_dialog.isVisible())
    assert window.pin_dialog is None


def test_camera_action_is_disabled_and_the_view_says_no_camera_found(window: OperatorWindow) -> None:
    assert not window.camera_action.isEnabled()
    assert window.camera.message.text() == "No camera found"
