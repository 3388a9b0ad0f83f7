"""What the operator sees of the test stage: each slot shows the running test "n of m: name", the failed measurement
with its value and limits, marginal passes; the lot bar shows failures by test; and on a simulated line a prompt
answered No from the keyboard fails the unit, and engineer mode's Tests tab counts it."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from station.config.profile_loader import load_profile
from station.demo.simulated_line import SimulatedLine
from station.ui.lot_stats import LotSnapshot
from station.ui.main_window import OperatorWindow
from station.ui.slot_panel import SlotPanel
from station.ui.slot_state import Phase, SlotState
from station.workflow.events import EventKind, UnitEvent
from station.workflow.line import Line

from .conftest import FIXTURES, start_line

KEY = "P046AAA12345678"


def event(kind: EventKind, **fields: object) -> UnitEvent:
    return UnitEvent(kind, 0, KEY, step="tests", **fields)  # type: ignore[arg-type]


def running() -> SlotState:
    return SlotState(0).apply(UnitEvent(EventKind.UNIT_STARTED, 0, KEY)).apply(
        UnitEvent(EventKind.STEP_STARTED, 0, KEY, step="tests"))


def battery_failed(state: SlotState) -> SlotState:
    return state.apply(event(EventKind.MEASUREMENT, status="fail", message="battery_voltage = 3.2 V",
                             data={"test": "battery", "measurement": "battery_voltage", "value": 3.2, "units": "V",
                                   "limits": "3.6 <= x <= 4.3", "marginal": False}))


def test_the_slot_shows_which_test_runs_n_of_m() -> None:
    state = running().apply(event(EventKind.TEST_STARTED, message="battery", done=2, total=5,
                                  data={"test": "battery", "attempt": 1}))
    assert state.step_text == "Test 2 of 5: battery"


def test_a_prompt_says_the_slot_waits_for_the_operator() -> None:
    state = running().apply(event(EventKind.TEST_STARTED, message="led", done=3, total=3, data={"test": "led"}))
    state = state.apply(event(EventKind.PROMPT_ASKED, message="Is the LED green?", data={"test": "led"}))
    assert state.step_text == "Test 3 of 3: led (waiting for your answer)"
    answered = state.apply(event(EventKind.MEASUREMENT, status="pass", data={"test": "led"}))
    assert answered.step_text == "Test 3 of 3: led"


def test_the_test_firmware_flash_is_named() -> None:
    state = running().apply(UnitEvent(EventKind.STEP_STARTED, 0, KEY, step="test_firmware"))
    assert state.step_text == "Flashing the test firmware"


def test_a_failed_measurement_is_shown_with_its_value_and_limits_after_the_verdict() -> None:
    state = battery_failed(running())
    state = state.apply(UnitEvent(EventKind.UNIT_FINISHED, 0, KEY, status="FAIL", message="test battery failed"))
    assert state.phase is Phase.FAIL
    assert state.test_text == "✗ battery battery_voltage: 3.2 V (limits 3.6 <= x <= 4.3)"


def test_a_retry_that_passes_clears_the_failed_measurement() -> None:
    state = battery_failed(running()).apply(event(EventKind.TEST_FINISHED, status="pass", data={"test": "battery"}))
    assert state.test_text == ""


def test_marginal_passes_are_listed() -> None:
    state = running().apply(event(EventKind.MEASUREMENT, status="pass", data={
        "test": "vin", "measurement": "vin_voltage", "value": 5.25, "units": "V", "limits": "", "marginal": True}))
    assert state.test_text == "Marginal: vin vin_voltage"


def test_the_panel_draws_the_test_line(qtbot: QtBot) -> None:
    panel = SlotPanel(0)
    qtbot.addWidget(panel)
    panel.show()
    state = running().apply(event(EventKind.TEST_STARTED, message="battery", done=2, total=5, data={}))
    panel.show_state(battery_failed(state))
    text = panel.text()
    assert "Test 2 of 5: battery" in text and "3.2 V (limits 3.6 <= x <= 4.3)" in text


def test_the_lot_snapshot_words_failures_by_test() -> None:
    fields = {name: None for name in ("lot", "operator", "station", "figures")}
    snapshot = LotSnapshot(**fields, cloud_pending_operations=0, yield_points=(), cycle_points=(),  # type: ignore[arg-type]
                           test_failures=(("battery", 3), ("led", 1)))
    assert snapshot.test_failures_text == "Test failures: battery 3  ·  led 1"


# --- on a simulated line -------------------------------------------------------------------------------------------

PROFILE_TESTS = """
[tests]
firmware = {{ file = "boron-test.bin", sha256 = "{sha}" }}

[[tests.test]]
name = "ready"
request = {{ op = "is_ready" }}
timeout_s = 5

[[tests.test]]
name = "led"
prompt = {{ question = "Is the LED green?", kind = "yes_no", timeout_s = 30 }}
"""


def with_led_test(sim: SimulatedLine) -> None:
    firmware = FIXTURES / "firmware" / "boron-test.bin"
    shutil.copy(firmware, sim.workdir / "boron-test.bin")
    path = sim.workdir / "station.toml"
    path.write_text(path.read_text() + PROFILE_TESTS.format(sha=hashlib.sha256(firmware.read_bytes()).hexdigest()))
    sim.profile = load_profile(path)


def test_a_prompt_answered_no_with_the_keyboard_fails_the_unit_and_the_lot_bar_counts_it(
        qtbot: QtBot, sim: SimulatedLine, make_window: Callable[[Line], OperatorWindow]) -> None:
    with_led_test(sim)
    line = start_line(sim)
    try:
        window = make_window(line)
        device = sim.devices[0]
        assert window.submit_scan(device.label)
        qtbot.waitUntil(lambda: 0 in window.prompter.dialogs, timeout=30000)
        dialog = window.prompter.dialogs[0]
        assert dialog.question.text() == "Is the LED green?"
        assert window.panels[0].state.step_text == "Test 2 of 2: led (waiting for your answer)"
        assert device.signalling  # the unit blinks while the operator is asked
        qtbot.keyClick(dialog, Qt.Key.Key_N)
        qtbot.waitUntil(lambda: window.panels[0].state.phase is Phase.FAIL, timeout=30000)
        assert "led" in window.panels[0].text()
        qtbot.waitUntil(lambda: window.lot_bar.test_failures.isVisible(), timeout=15000)
        assert window.lot_bar.test_failures.text() == "Test failures: led 1"
        window.open_engineer_mode()  # no PIN in this profile
        qtbot.waitUntil(lambda: window.engineer_dialog is not None and window.engineer_dialog.isVisible())
        assert window.engineer_dialog is not None
        tests = window.engineer_dialog.tests
        window.engineer_dialog.tabs.setCurrentWidget(tests)
        qtbot.waitUntil(lambda: tests.table.rowCount() > 0, timeout=15000)
        assert tests.failures.text() == "Failures by test: led 1"
        rows = {tests.table.item(r, 0).text(): tests.table.item(r, 3).text() for r in range(tests.table.rowCount())}
        assert rows["led"] == "1" and rows["ready"] == "0"
    finally:
        line.close()

