"""Engineer mode's Quarantine tab (approve and deny against the emulator) and Reconcile tab (counts after a tray list
is attached to the lot)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from station.demo.simulated_line import SimulatedLine
from station.ui.engineer import EngineerDialog
from station.ui.main_window import OperatorWindow
from station.ui.quarantine_panel import QuarantinePanel
from station.ui.slot_state import Phase
from station.ui.tasks import BackgroundTasks
from station.workflow.line import Line


def _engineer(qtbot: QtBot, window: OperatorWindow) -> EngineerDialog:
    window.open_engineer_mode()
    qtbot.waitUntil(lambda: window.engineer_dialog is not None and window.engineer_dialog.isVisible())
    assert window.engineer_dialog is not None
    return window.engineer_dialog


def _quarantine_first_device(sim: SimulatedLine) -> str:
    device_id = sim.devices[0].device_id.value
    sim.emulator.device_connects(device_id, sim.profile.product_id, 7, "6.2.0")  # product firmware, unknown device
    sim.emulator.device_disconnects(device_id)
    return device_id


def _stored(sim: SimulatedLine, device_id: str) -> dict[str, Any] | None:
    return next((d for d in sim.emulator.snapshot()["devices"] if d["id"] == device_id), None)


def test_quarantine_tab_approves_the_chosen_device_into_the_product(qtbot: QtBot, window: OperatorWindow,
                                                                   sim: SimulatedLine) -> None:
    device_id = _quarantine_first_device(sim)
    engineer = _engineer(qtbot, window)
    panel = engineer.quarantine
    engineer.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1)
    assert panel.table.item(0, 0).text() == device_id
    panel.table.selectRow(0)
    assert panel.approve_button.isEnabled()
    qtbot.mouseClick(panel.approve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "approved into product" in panel.status.text() and "0 devices" in panel.status.text())
    assert panel.table.rowCount() == 0
    stored = _stored(sim, device_id)
    assert stored is not None
    assert stored["product_id"] == sim.profile.product_id and stored["quarantined"] is False


def test_quarantine_panel_denies_the_chosen_device_after_the_engineer_confirms(qtbot: QtBot, line: Line,
                                                                              sim: SimulatedLine) -> None:
    device_id = _quarantine_first_device(sim)
    tasks = BackgroundTasks()
    questions: list[str] = []
    panel = QuarantinePanel(line.cloud, sim.profile.product_id, tasks,
                            confirm=lambda question: questions.append(question) is None)
    qtbot.addWidget(panel)
    try:
        panel.refresh()
        qtbot.waitUntil(lambda: panel.table.rowCount() == 1)
        panel.table.selectRow(0)
        panel.deny_selected()
        qtbot.waitUntil(lambda: "denied" in panel.status.text() and "0 devices" in panel.status.text())
        assert device_id in questions[0]
        stored = _stored(sim, device_id)
        assert stored is None or stored["product_id"] != sim.profile.product_id
    finally:
        tasks.shutdown()


def test_quarantine_panel_shows_a_refused_approval_as_one_line(qtbot: QtBot, line: Line,
                                                              sim: SimulatedLine) -> None:
    _quarantine_first_device(sim)
    tasks = BackgroundTasks()
    panel = QuarantinePanel(line.cloud, sim.profile.product_id + 1, tasks)  # a product this account lacks
    qtbot.addWidget(panel)
    try:
        panel.refresh()
        qtbot.waitUntil(lambda: panel.status.text().startswith("✗"))
        assert "list the quarantine" in panel.status.text() and "\n" not in panel.status.text()
        assert panel.refresh_button.isEnabled()
    finally:
        tasks.shutdown()


def test_reconcile_tab_counts_a_provisioned_unit_and_an_unknown_id_of_an_attached_list(
        qtbot: QtBot, window: OperatorWindow, sim: SimulatedLine, tmp_path: Path) -> None:
    device = sim.devices[0]
    window.submit_scan(device.label)
    qtbot.waitUntil(lambda: window.panels[0].state.phase is Phase.PASS, timeout=30_000)
    unknown = device.device_id.value[:8] + "abcdef0123456789"
    tray = tmp_path / "tray-7.txt"
    tray.write_text(f"{device.device_id.value}\n{unknown}\n", encoding="utf-8")
    engineer = _engineer(qtbot, window)
    panel = engineer.reconcile
    engineer.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: "No tray list is attached" in panel.summary.text())
    panel.attach_file(tray)
    qtbot.waitUntil(lambda: "tray-7.txt" in panel.summary.text())
    shown = {key: label.text() for key, label in panel.values.items()}
    assert shown["provisioned"] == "1" and shown["not_seen"] == "1"
    assert shown["not_on_list"] == "0" and shown["duplicates"] == "0"
    assert "not complete" in panel.summary.text()
    assert "Attached tray-7.txt" in panel.status.text() and "2 identifiers" in panel.status.text()
