"""The test stage on a simulated line: test firmware flashed over pyusb, tests over request 10, the emulated cloud
over sockets. A unit that fails a test gets no cloud call at all."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.config.profile_loader import load_profile
from station.demo.simulated_line import SimulatedLine, build_simulated_line
from station.records.measurement_table import MeasurementOutcome
from station.records.reason_code import ReasonCode
from station.records.step_table import StepStatus
from station.records.unit_table import UnitState
from station.workflow.events import EventKind, UnitEvent
from station.workflow.line import LineError
from station.workflow.test_prompts import FixedAnswers

from .conftest import make_line

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "firmware"

TESTS = """
[tests]
firmware = {{ file = "boron-test.bin", sha256 = "{sha}" }}
on_failure = "{on_failure}"

[[tests.test]]
name = "ready"
request = {{ op = "is_ready" }}
timeout_s = 2

[[tests.test]]
name = "battery"
request = {{ op = "battery" }}
timeout_s = {timeout}
retries = {retries}

[[tests.test.measurement]]
name = "battery_voltage"
read = "voltage"
units = "V"
lower = 3.6
upper = 4.3
marginal_upper = 4.1

[[tests.test]]
name = "serial"
request = {{ op = "read_serial" }}
timeout_s = 2

[[tests.test.measurement]]
name = "serial_number"
read = "serial_number"
equals_known = "label_serial"

[[tests.test]]
name = "loopback"
request = {{ op = "gpio_loopback" }}
timeout_s = 2

[[tests.test.measurement]]
name = "failed_pins"
equals = []
{extra}"""

LED = """
[[tests.test]]
name = "led"
prompt = { question = "Is the LED green?", kind = "yes_no", timeout_s = 5 }
"""


def with_tests(sim: SimulatedLine, *, on_failure: str = "stop", timeout: float = 2, retries: int = 0,
               extra: str = "") -> None:
    firmware = (FIXTURES / "boron-test.bin").read_bytes()
    shutil.copy(FIXTURES / "boron-test.bin", sim.workdir / "boron-test.bin")
    path = sim.workdir / "station.toml"
    path.write_text(path.read_text() + TESTS.format(sha=hashlib.sha256(firmware).hexdigest(), on_failure=on_failure,
                                                      timeout=timeout, retries=retries, extra=extra))
    sim.profile = load_profile(path)


@pytest.fixture
def tsim(tmp_path: Path) -> Iterator[SimulatedLine]:
    line = build_simulated_line(tmp_path / "sim", platform="boron", devices=1)
    try:
        yield line
    finally:
        line.close()


def cloud_calls_about(sim: SimulatedLine, *values: str) -> list[object]:
    return [entry for entry in sim.emulator.request_log if any(v in str(entry) for v in values)]


def test_all_tests_pass_then_the_product_firmware_and_the_cloud_steps_follow(
        tsim: SimulatedLine, events: list[UnitEvent]) -> None:
    with_tests(tsim)
    device = tsim.devices[0]
    with make_line(tsim, events) as line:
        tsim.emulator.clear_request_log()
        result = line.scan(device.label).result(timeout=60)
        assert result.state is UnitState.PASS, result.reason
        assert cloud_calls_about(tsim, device.device_id.value)  # what the failing units' checks look for
        unit = line.journal.unit_table.by_key(line.lot, device.serial.value)  # type: ignore[union-attr]
        assert unit is not None
        steps = [s.step for s in line.journal.step_table.of_unit(unit.id)]
        taken = line.journal.measurement_table.of_unit(unit.id)
    assert steps.index("check_label") < steps.index("test_firmware") < steps.index("tests") < steps.index("flash")
    assert steps.index("tests") < steps.index("pre_add")
    assert unit.tests_hash == tsim.profile.tests.version  # type: ignore[union-attr]
    assert [m.name for m in taken] == ["ready", "battery_voltage", "serial_number", "failed_pins"]
    assert all(m.outcome is MeasurementOutcome.PASS and m.attempt == 1 for m in taken)
    assert device.test_firmware is None  # the product firmware runs now
    assert device.running_user_part is not None and device.running_user_part.version == 6
    [cloud_device] = [d for d in tsim.emulator.snapshot()["devices"] if d["id"] == device.device_id.value]
    assert cloud_device["product_id"] == tsim.profile.product_id
    started = [e for e in events if e.kind is EventKind.TEST_STARTED]
    assert [(e.done, e.total, e.message) for e in started] == [(1, 4, "ready"), (2, 4, "battery"), (3, 4, "serial"),
                                                                (4, 4, "loopback")]
    assert len([e for e in events if e.kind is EventKind.MEASUREMENT]) == 4
    assert len([e for e in events if e.kind is EventKind.TEST_FINISHED]) == 4


def test_an_out_of_range_measurement_fails_the_unit_with_no_cloud_call_for_it(tsim: SimulatedLine) -> None:
    with_tests(tsim)
    device = tsim.devices[0]
    device.test_faults = {"battery": "out_of_range"}
    with make_line(tsim) as line:
        tsim.emulator.clear_request_log()
        result = line.scan(device.label).result(timeout=60)
        unit = line.journal.unit_table.by_key(line.lot, device.serial.value)  # type: ignore[union-attr]
        assert unit is not None
        steps = {s.step: s.status for s in line.journal.step_table.of_unit(unit.id)}
    assert result.state is UnitState.FAIL and result.reason_code == ReasonCode.TEST_FAILED.value
    assert "battery" in result.reason and "battery_voltage = 3.2 V" in result.reason
    assert "limit 3.6 to 4.3 V (marginal: 4.1 or above)" in result.reason
    assert steps["tests"] is StepStatus.FAILED and "flash" not in steps and "pre_add" not in steps
    assert not cloud_calls_about(tsim, device.device_id.value, device.iccid.value)  # type: ignore[union-attr]
    [cloud_device] = [d for d in tsim.emulator.snapshot()["devices"] if d["id"] == device.device_id.value]
    assert cloud_device.get("product_id") != tsim.profile.product_id or cloud_device.get("owner") is None


def test_a_marginal_pass_is_marked(tsim: SimulatedLine, events: list[UnitEvent]) -> None:
    with_tests(tsim)
    device = tsim.devices[0]
    device.test_faults = {"battery": "marginal"}
    with make_line(tsim, events) as line:
        result = line.scan(device.label).result(timeout=60)
        [voltage] = [m for m in line.journal.measurement_table.of_lot(line.lot) if m.name == "battery_voltage"]
    assert result.state is UnitState.PASS, result.reason
    assert voltage.outcome is MeasurementOutcome.PASS and voltage.marginal
    [shown] = [e for e in events if e.kind is EventKind.MEASUREMENT and e.data["measurement"] == "battery_voltage"]
    assert shown.data["marginal"] and "marginal" in shown.message


@pytest.mark.parametrize("fault", ["reset", "no_reply"])
def test_a_unit_that_resets_or_stays_silent_fails_that_test_within_its_timeout(tsim: SimulatedLine,
                                                                                fault: str) -> None:
    with_tests(tsim, timeout=1.5)
    device = tsim.devices[0]
    device.test_faults = {"battery": fault}
    with make_line(tsim) as line:
        tsim.emulator.clear_request_log()
        result = line.scan(device.label).result(timeout=60)
        [voltage] = [m for m in line.journal.measurement_table.of_lot(line.lot) if m.name == "battery_voltage"]
    assert result.state is UnitState.FAIL and result.reason_code == ReasonCode.TEST_NO_REPLY.value, result.reason
    assert "Test battery: no answer from the unit" in result.reason
    assert voltage.outcome is MeasurementOutcome.UNSET and voltage.value is None
    assert not cloud_calls_about(tsim, device.device_id.value)


def test_a_garbled_reply_fails_the_test_after_its_retries(tsim: SimulatedLine, events: list[UnitEvent]) -> None:
    with_tests(tsim, retries=1)
    device = tsim.devices[0]
    device.test_faults = {"battery": "garbled"}
    with make_line(tsim, events) as line:
        result = line.scan(device.label).result(timeout=60)
    assert result.state is UnitState.FAIL and "not a JSON object" in result.reason
    tries = [e.data["attempt"] for e in events if e.kind is EventKind.TEST_STARTED and e.message == "battery"]
    assert tries == [1, 2]


def test_a_number_prompt_is_judged_against_its_limit(tsim: SimulatedLine) -> None:
    with_tests(tsim, extra="""
[[tests.test]]
name = "current"
prompt = { question = "Supply current (mA)?", kind = "number", timeout_s = 5 }

[[tests.test.measurement]]
name = "supply_current"
units = "mA"
lower = 10
upper = 40
""")
    device = tsim.devices[0]
    with make_line(tsim, prompter=FixedAnswers(number=55.0)) as line:
        result = line.scan(device.label).result(timeout=60)
        [current] = [m for m in line.journal.measurement_table.of_lot(line.lot) if m.name == "supply_current"]
    assert result.state is UnitState.FAIL and "supply_current = 55 mA, limit 10 to 40 mA" in result.reason
    assert current.value == 55.0 and current.outcome is MeasurementOutcome.FAIL


def test_a_prompt_nobody_answers_fails_the_test(tsim: SimulatedLine) -> None:
    with_tests(tsim, extra=LED)
    device = tsim.devices[0]
    with make_line(tsim) as line:  # no prompter given: the station has no one to ask
        result = line.scan(device.label).result(timeout=60)
    assert result.state is UnitState.FAIL and "no answer from the operator" in result.reason


def test_a_prompt_answered_no_fails_the_unit_and_the_unit_signals_while_asked(tsim: SimulatedLine,
                                                                               events: list[UnitEvent]) -> None:
    with_tests(tsim, extra=LED)
    device = tsim.devices[0]
    signalled: list[bool] = []

    def answer(slot: int, question: str) -> bool:
        signalled.append(device.signalling)
        return False

    with make_line(tsim, events, prompter=FixedAnswers(answer=answer)) as line:
        tsim.emulator.clear_request_log()
        result = line.scan(device.label).result(timeout=60)
    assert result.state is UnitState.FAIL and result.reason_code == ReasonCode.TEST_FAILED.value
    assert "the operator answered No to 'Is the LED green?'" in result.reason
    assert signalled == [True] and not device.signalling
    assert [e.message for e in events if e.kind is EventKind.PROMPT_ASKED] == ["Is the LED green?"]
    assert not cloud_calls_about(tsim, device.device_id.value)


def test_a_unit_stopped_while_its_question_waits_is_cancelled_not_failed_for_no_answer(
        tsim: SimulatedLine, events: list[UnitEvent]) -> None:
    from station.workflow.input_lines import InputLines
    from station.workflow.test_prompts import TerminalPrompter

    with_tests(tsim, extra=LED.replace("timeout_s = 5", "timeout_s = 600"))
    device = tsim.devices[0]
    read, write = os.pipe()
    lines = InputLines(os.fdopen(read), labels=False)
    try:
        with make_line(tsim, events, prompter=TerminalPrompter(lines=lines, write=io.StringIO())) as line:
            done = line.scan(device.label)
            deadline = time.monotonic() + 60
            while not any(e.kind is EventKind.PROMPT_ASKED for e in events) and time.monotonic() < deadline:
                time.sleep(0.01)
            line.cancel(0)
            result = done.result(timeout=60)  # not the prompt's 600 s
            rows = line.journal.measurement_table.of_lot(line.lot)
    finally:
        os.close(write)
    assert result.state is UnitState.FAIL and result.reason_code == ReasonCode.CANCELLED.value, result.reason
    assert "no answer" not in result.reason
    assert [r.name for r in rows if r.name == "led"] == []  # no answer was recorded for the withdrawn question
    assert not device.signalling


def test_continue_runs_every_test_then_fails_naming_the_first(tsim: SimulatedLine) -> None:
    with_tests(tsim, on_failure="continue")
    device = tsim.devices[0]
    device.test_faults = {"battery": "out_of_range", "gpio_loopback": "out_of_range"}
    with make_line(tsim) as line:
        result = line.scan(device.label).result(timeout=60)
        taken = line.journal.measurement_table.of_lot(line.lot)
    assert [m.name for m in taken] == ["ready", "battery_voltage", "serial_number", "failed_pins"]
    assert result.state is UnitState.FAIL and "Test battery" in result.reason and "1 more test failed" in result.reason


def test_a_retest_passes_and_first_pass_yield_counts_the_fail_then_the_pass(tsim: SimulatedLine) -> None:
    from station.records.lot_summary import lot_figures

    with_tests(tsim)
    device = tsim.devices[0]
    device.test_faults = {"battery": "out_of_range"}
    with make_line(tsim) as line:
        first = line.scan(device.label).result(timeout=60)
        device.test_faults = {}
        second = line.scan(device.label).result(timeout=60)
        units = line.journal.units(line.lot)
        taken = line.journal.measurement_table.of_lot(line.lot)
    assert (first.state, second.state) == (UnitState.FAIL, UnitState.PASS), second.reason
    figures = lot_figures(units)
    assert figures.first_pass_yield == 0.0 and figures.yield_rate == 1.0
    assert [(m.attempt, m.outcome) for m in taken if m.name == "battery_voltage"] == [
        (1, MeasurementOutcome.FAIL), (2, MeasurementOutcome.PASS)]


def test_a_serial_read_back_unlike_the_label_is_caught(tsim: SimulatedLine) -> None:
    with_tests(tsim)
    device = tsim.devices[0]
    device.test_faults = {"read_serial": "out_of_range"}
    with make_line(tsim) as line:
        result = line.scan(device.label).result(timeout=60)
    assert result.state is UnitState.FAIL and result.reason_code == ReasonCode.TEST_FAILED.value
    assert "serial_number" in result.reason and device.serial.value in result.reason  # type: ignore[union-attr]


def test_a_test_the_unit_itself_fails_names_the_units_reason(tsim: SimulatedLine) -> None:
    with_tests(tsim, on_failure="continue")
    device = tsim.devices[0]
    device.test_faults = {"gpio_loopback": "out_of_range"}
    with make_line(tsim) as line:
        result = line.scan(device.label).result(timeout=60)
        [pins] = [m for m in line.journal.measurement_table.of_lot(line.lot) if m.name == "failed_pins"]
    assert result.state is UnitState.FAIL and result.reason_code == ReasonCode.TEST_FAILED.value
    assert "Test loopback: the unit reported the test failed: failed_pins: pins 3, 7" in result.reason
    assert pins.value == [3, 7] and pins.outcome is MeasurementOutcome.FAIL


def test_on_two_slots_only_the_unit_that_passed_its_tests_reaches_the_cloud(tmp_path: Path) -> None:
    sim = build_simulated_line(tmp_path / "two", platform="boron", devices=2)
    try:
        with_tests(sim)
        bad, good = sim.devices
        bad.test_faults = {"battery": "out_of_range"}
        with make_line(sim) as line:
            sim.emulator.clear_request_log()
            futures = [line.scan(bad.label, slot=0), line.scan(good.label, slot=1)]
            results = [f.result(timeout=90) for f in futures]
        assert [r.state for r in results] == [UnitState.FAIL, UnitState.PASS], [r.reason for r in results]
        assert not cloud_calls_about(sim, bad.device_id.value, bad.iccid.value)  # type: ignore[union-attr]
        assert cloud_calls_about(sim, good.device_id.value)
    finally:
        sim.close()


def test_a_unit_that_reset_mid_test_is_retested_on_a_rescan_and_passes(tsim: SimulatedLine) -> None:
    with_tests(tsim, timeout=1.5)
    device = tsim.devices[0]
    device.test_faults = {"temperature": "reset", "battery": "reset"}
    with make_line(tsim) as line:
        first = line.scan(device.label).result(timeout=60)
        device.test_faults = {}
        second = line.scan(device.label).result(timeout=60)
        unit = line.journal.unit_table.by_key(line.lot, device.serial.value)  # type: ignore[union-attr]
    assert first.state is UnitState.FAIL and first.reason_code == ReasonCode.TEST_NO_REPLY.value
    assert second.state is UnitState.PASS, second.reason
    assert unit is not None and unit.attempts == 2 and unit.first_result == "FAIL"


def test_a_line_whose_test_firmware_does_not_match_its_pin_does_not_start(tsim: SimulatedLine) -> None:
    from station.workflow.test_stage import TestPlanError

    with_tests(tsim)
    (tsim.workdir / "boron-test.bin").write_bytes((FIXTURES / "boron-user.bin").read_bytes())
    with pytest.raises(TestPlanError, match="has SHA-256 .* but the profile pins"):
        make_line(tsim)


def test_closing_the_lot_while_a_unit_runs_says_so_before_anything_else(tsim: SimulatedLine) -> None:
    # Even on a profile whose lot naming could not name a next lot: the running unit is what the operator must hear.
    with_tests(tsim, extra=LED)
    path = tsim.workdir / "station.toml"
    path.write_text(path.read_text().replace("[station]\n", '[station]\nlot_naming = "{product}-{date}"\n', 1))
    tsim.profile = load_profile(path)
    asked, release = threading.Event(), threading.Event()

    def answer(slot: int, question: str) -> bool:
        asked.set()
        release.wait(60)
        return True

    with make_line(tsim, prompter=FixedAnswers(answer=answer)) as line:
        running = line.scan(tsim.devices[0].label)
        assert asked.wait(60)
        try:
            with pytest.raises(LineError, match=r"Units are still running in slot\(s\) 1"):
                line.close_lot()
        finally:
            release.set()
        running.result(timeout=60)
        with pytest.raises(LineError, match=r"has no \{seq\}"):
            line.close_lot()
