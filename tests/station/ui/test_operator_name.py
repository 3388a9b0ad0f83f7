"""The operator's name: asked by the window when the profile says ``[operator] ask_name`` (unless ``--operator``
gave it), changed with F4, and recorded on every unit scanned from then on."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from station.config.profile import OperatorLock
from station.demo.simulated_line import SimulatedLine
from station.ui.main_window import OperatorWindow
from station.ui.operator_dialog import NAME_FIRST
from station.ui.slot_state import Phase
from station.ui.sounds import ResultSounds
from station.workflow.line import Line
from station.workflow.lot import prepare_lot


@pytest.fixture
def asking_window(qtbot: QtBot, sim: SimulatedLine, tmp_path: Path) -> Iterator[OperatorWindow]:
    profile = dataclasses.replace(sim.profile, operator=OperatorLock(ask_name=True))
    line = Line(prepare_lot(profile, sim.cloud(max_retries=1)), link=sim.link(), operator="login-name",
                find_timeout=1.0, outbox_poll=0.05, outbox_base_delay=0.05).start()
    window = OperatorWindow(line, sounds=ResultSounds(tmp_path / "sounds"), cameras=[], ask_operator=True)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    try:
        yield window
    finally:
        window.close()
        line.close()


def test_the_window_asks_the_name_first_and_records_it_on_the_unit(
        qtbot: QtBot, asking_window: OperatorWindow, sim: SimulatedLine) -> None:
    window = asking_window
    qtbot.waitUntil(lambda: window.operator_dialog is not None and window.operator_dialog.isVisible())
    assert not window.submit_scan(sim.devices[0].label)  # no scan before the name
    assert NAME_FIRST in window.scan_message.text() and window.line.journal.units(window.line.lot) == []
    dialog = window.operator_dialog
    assert dialog is not None
    qtbot.keyClicks(dialog.name, "Maria Lopez")
    qtbot.keyClick(dialog.name, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert "Operator Maria Lopez" in window.scan_message.text()
    lot = window.line.journal.lot_table.get(window.line.lot)
    assert lot is not None and lot.operator == "Maria Lopez"  # the workbook's header names her, not the login
    assert window.submit_scan(sim.devices[0].label)
    qtbot.waitUntil(lambda: window.panels[0].state.phase is Phase.PASS, timeout=30_000)
    (unit,) = window.line.journal.units(window.line.lot)
    assert unit.operator == "Maria Lopez"
    qtbot.waitUntil(lambda: window.lot_bar.snapshot is not None and window.lot_bar.snapshot.operator == "Maria Lopez")


def test_a_blank_name_is_refused_in_the_dialog_which_stays_open(
        qtbot: QtBot, asking_window: OperatorWindow) -> None:
    window = asking_window
    qtbot.waitUntil(lambda: window.operator_dialog is not None and window.operator_dialog.isVisible())
    dialog = window.operator_dialog
    assert dialog is not None
    qtbot.keyClicks(dialog.name, "   ")
    qtbot.keyClick(dialog.name, Qt.Key.Key_Return)
    assert "give a name" in dialog.message.text() and dialog.isVisible()
    assert window.operator_needed and window.line.operator == "login-name"


def test_f4_changes_the_operator_for_the_units_scanned_next(
        qtbot: QtBot, window: OperatorWindow, sim: SimulatedLine) -> None:
    assert window.operator_dialog is None  # the profile does not ask: the login name (here "ann") is used
    qtbot.keyClick(window.scan_field, Qt.Key.Key_F4)
    qtbot.waitUntil(lambda: window.operator_dialog is not None and window.operator_dialog.isVisible())
    dialog = window.operator_dialog
    assert dialog is not None
    qtbot.keyClicks(dialog.name, "Bo")
    qtbot.keyClick(dialog.name, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert window.submit_scan(sim.devices[1].label)
    qtbot.waitUntil(lambda: window.panels[0].state.phase is Phase.PASS, timeout=30_000)
    (unit,) = window.line.journal.units(window.line.lot)
    assert unit.operator == "Bo"
