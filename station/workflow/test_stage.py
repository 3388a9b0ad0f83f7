"""The test stage of a unit: flash the test firmware, run the profile's tests over USB control request 10 (or ask
the operator), judge and journal every measurement, and fail the unit naming the test, value and limits.

Particle's manufacturing guide: test firmware is separate from the field firmware and runs without the cloud; flash
it, run the tests, record the results, then flash the production firmware and verify it. The fixture protocol
(docs/fixture-protocol.md) is modelled on Particle's mfg-test firmware (device-os
``user/applications/mfg-test/``): a JSON object with an ``"op"`` in, ``{"pass": bool, ...fields}`` out, and on
failure ``"errors": [{"field", "message", "code"}]``. A test retries as the profile says (OpenHTF ``repeat_limit``);
a unit that resets, vanishes or stays silent fails that test within its time-out (the link raises, never hangs).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from hardware.errors import HardwareError
from hardware.firmware import FirmwareModule, load_module, validate_for
from hardware.progress import ProgressEvent
from station.config.limits import KnownValue
from station.config.tests import Measurement, OnFailure, PromptKind, TestPlan, TestSpec
from station.errors import StationError
from station.records.measurement_table import MeasurementOutcome, MeasurementRow, MeasurementTable
from station.records.reason_code import ReasonCode
from station.records.unit_table import UnitTable
from station.workflow.device import DeviceFacts, DeviceLink, UserPart
from station.workflow.events import EventKind
from station.workflow.outcome import UnitFailure
from station.workflow.test_prompts import Prompter
from station.workflow.unit_steps import StepRecorder, UnitContext

__all__ = ["Prompter", "TestPlanError", "TestStage", "test_firmware_manifest"]

TEST_FIRMWARE_MARKER = b"PSTEST-FW1"
"""Test firmware carries this ASCII marker followed by a JSON manifest (docs/fixture-protocol.md)."""


class TestPlanError(StationError):
    """The profile's test firmware cannot be used (missing, not pinned, not test firmware)."""

    __test__ = False


def test_firmware_manifest(module: FirmwareModule) -> dict[str, Any] | None:
    """The JSON manifest after the test-firmware marker, or None when the module is not test firmware."""
    data = module.data
    at = data.find(TEST_FIRMWARE_MARKER)
    while at >= 0:
        tail = data[at + len(TEST_FIRMWARE_MARKER): at + len(TEST_FIRMWARE_MARKER) + 1024].decode("latin-1")
        try:
            value, _ = json.JSONDecoder().raw_decode(tail)
        except ValueError:
            value = None
        if isinstance(value, dict) and isinstance(value.get("name"), str) and isinstance(value.get("version"), int):
            return value
        at = data.find(TEST_FIRMWARE_MARKER, at + 1)
    return None


def load_test_firmware(plan: TestPlan) -> FirmwareModule:
    """The plan's test firmware, once its SHA-256 is the pinned one and it carries the test-firmware manifest."""
    try:
        module = load_module(plan.firmware)
    except HardwareError as exc:
        raise TestPlanError(f"the test firmware cannot be read: {exc}") from None
    if module.file_sha256 != plan.firmware_sha256:
        raise TestPlanError(f"the test firmware {plan.firmware} has SHA-256 {module.file_sha256}, but the profile "
                            f"pins {plan.firmware_sha256}; fix [tests] firmware.sha256 or the file")
    if test_firmware_manifest(module) is None:
        raise TestPlanError(f"{plan.firmware} is not test firmware (it carries no PSTEST-FW1 manifest); name the "
                            "test firmware in [tests] firmware.file")
    return module


class _Journalling:
    """One unit's measurements on their way to the journal: one test's rows written while the next test runs, in
    order, at most one write in flight; ``wait`` returns once every write is durable (or raises its JournalError)."""

    def __init__(self, pool: ThreadPoolExecutor, table: MeasurementTable, unit_id: int, attempt: int) -> None:
        self._pool, self._table, self._unit_id, self._attempt = pool, table, unit_id, attempt
        self._pending: Future[None] | None = None

    def write(self, rows: list[MeasurementRow]) -> None:
        self.wait()
        self._pending = self._pool.submit(self._table.record, self._unit_id, self._attempt, rows)

    def wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()


@dataclass
class _TestRun:
    """How one test of one attempt went."""

    spec: TestSpec
    rows: list[MeasurementRow] = field(default_factory=list)
    failure: str | None = None
    no_reply: bool = False
    tries: int = 0
    seconds: float = 0.0
    """The test's time on the device, every try."""


class TestStage:
    """Shared by every slot (no per-unit state): ``flash`` the test firmware, ``run`` the tests."""

    __test__ = False

    def __init__(self, plan: TestPlan, *, link: DeviceLink, units: UnitTable, measurements: MeasurementTable,
                 recorder: StepRecorder, prompter: Prompter, clock: Callable[[], float] = time.monotonic) -> None:
        self.plan = plan
        self.module = load_test_firmware(plan)
        self.manifest = test_firmware_manifest(self.module) or {}
        self.link = link
        self.units = units
        self.measurements = measurements
        self.recorder = recorder
        self.prompter = prompter
        self.clock = clock
        self._journal_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="test-journal")

    def flash(self, ctx: UnitContext, facts: DeviceFacts) -> dict[str, Any]:
        """Validate the test firmware for this unit, as the product firmware is, and flash it."""
        problems = validate_for(self.module, facts.platform, device_os_version=facts.system_module_version,
                                require_user_part=True)
        if problems:
            raise UnitFailure(
                "The test firmware cannot go on this unit: " + "; ".join(p.message for p in problems),
                "Call engineering: the profile's test firmware does not fit this unit.",
                code=ReasonCode.FIRMWARE_INVALID,
            )
        self.units.update(ctx.unit.id, tests_hash=self.plan.version)
        part = facts.user_part
        if part is not None and part.valid and part.sha256 == self.module.sha256:
            return {"note": "already runs the test firmware", "test_firmware": self.manifest.get("name")}
        started = self.clock()

        def progress(event: ProgressEvent) -> None:
            elapsed = self.clock() - started
            eta = elapsed / event.fraction - elapsed if event.fraction > 0.02 else None
            self.recorder.emit(ctx, EventKind.STEP_PROGRESS, step="test_firmware", message=event.phase,
                               done=event.done, total=event.total, eta_seconds=eta)

        report = self.link.flash_user_part(facts.device_id, self.module, progress, ctx.cancel)
        # flash_user_part confirmed the unit runs it: what the product firmware's flash step compares with, so
        # it never takes the unit for one already running the product firmware.
        ctx.facts = dataclasses.replace(facts, user_part=UserPart(
            version=self.module.version, sha256=self.module.sha256, size=self.module.file_size, valid=True))
        return {"bytes": report.bytes_written, "seconds": round(report.seconds, 3),
                "test_firmware": self.manifest.get("name"), "version": self.manifest.get("version")}

    def run(self, ctx: UnitContext, facts: DeviceFacts) -> dict[str, Any]:
        """Every test in order (stopping at the first failure when the profile says so); UnitFailure naming the
        failed tests when any failed. Each test's measurements are journalled while the next test runs on the device
        (the device's time hides the disk's), and all of them are durable before the stage ends, however it ends."""
        known = {KnownValue.LABEL_SERIAL: ctx.label.serial.value, KnownValue.DEVICE_ID: facts.device_id.value,
                 KnownValue.ICCID: facts.iccid.value if facts.iccid else None}
        attempt = ctx.unit.attempts
        total = len(self.plan.tests)
        failed: list[_TestRun] = []
        passed: list[str] = []
        journal = _Journalling(self._journal_pool, self.measurements, ctx.unit.id, attempt)
        try:
            for number, spec in enumerate(self.plan.tests, start=1):
                ctx.cancel.raise_if_cancelled("testing")
                run = self._test(ctx, facts, spec, known, number, total)
                journal.write(run.rows)
                for row in run.rows:
                    self._announce(ctx, row)
                self.recorder.emit(ctx, EventKind.TEST_FINISHED, step="tests",
                                   status="fail" if run.failure else "pass", message=run.failure or "", done=number,
                                   total=total, data={"test": spec.name, "tries": run.tries,
                                                      "seconds": round(run.seconds, 3)})
                if run.failure is None:
                    passed.append(spec.name)
                    continue
                failed.append(run)
                if self.plan.on_failure is OnFailure.STOP:
                    break
        finally:
            journal.wait()
        if failed:
            first = failed[0]
            more = f" ({len(failed) - 1} more test{'s' if len(failed) > 2 else ''} failed)" if len(failed) > 1 else ""
            raise UnitFailure(
                f"{first.failure}{more}",
                "Set the unit aside for repair; scan its label again to retest it after repair.",
                code=ReasonCode.TEST_NO_REPLY if first.no_reply else ReasonCode.TEST_FAILED,
            )
        return {"passed": passed, "tests_hash": self.plan.version, "attempt": attempt}

    def _test(self, ctx: UnitContext, facts: DeviceFacts, spec: TestSpec, known: dict[KnownValue, str | None],
              number: int, total: int) -> _TestRun:
        run = _TestRun(spec)
        started = self.clock()
        for tried in range(1, spec.retries + 2):
            self.recorder.emit(ctx, EventKind.TEST_STARTED, step="tests", message=spec.name, done=number,
                               total=total, data={"test": spec.name, "attempt": tried})
            run = _TestRun(spec, tries=tried)
            if spec.prompt is not None:
                self._ask(ctx, facts, run, known)
            else:
                self._request(ctx, facts, run, known)
            if run.failure is None:
                break
            ctx.cancel.raise_if_cancelled("testing")
        run.seconds = self.clock() - started
        return run

    def _request(self, ctx: UnitContext, facts: DeviceFacts, run: _TestRun,
                 known: dict[KnownValue, str | None]) -> None:
        spec = run.spec
        wall, started = time.time(), self.clock()
        try:
            if spec.console is not None:
                payload = self.link.console_line(facts.device_id, spec.console, timeout=spec.timeout_s)
            else:
                assert spec.request is not None
                payload = self.link.app_request(facts.device_id, json.dumps(spec.request).encode("utf-8"),
                                                timeout=spec.timeout_s)
        except HardwareError as exc:
            run.no_reply = _lost(exc)
            said = "no answer from the unit" if run.no_reply else "the unit refused the request"
            self._unset(run, wall, self.clock() - started, f"Test {spec.name}: {said} ({exc}).")
            return
        duration = self.clock() - started
        try:
            reply = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            reply = None
        if not isinstance(reply, dict):
            self._unset(run, wall, duration, f"Test {spec.name}: the unit's reply is not a JSON object "
                        f"({payload[:60]!r}).")
            return
        if reply.get("pass") is False:  # the device's own verdict, with its reasons, comes first
            run.failure = f"Test {spec.name}: the unit reported the test failed{_errors(reply)}."
        for measurement in spec.measurements:
            if measurement.read not in reply:
                run.rows.append(self._row(spec, measurement, None, MeasurementOutcome.UNSET, False, wall, duration))
                run.failure = run.failure or (f"Test {spec.name}: the unit's reply has no {measurement.read!r} for "
                                              f"{measurement.name}{_errors(reply)}.")
                continue
            self._judge(run, measurement, reply[measurement.read], known, wall, duration)

    def _ask(self, ctx: UnitContext, facts: DeviceFacts, run: _TestRun, known: dict[KnownValue, str | None]) -> None:
        prompt = run.spec.prompt
        assert prompt is not None
        self._signal(facts, True)
        self.recorder.emit(ctx, EventKind.PROMPT_ASKED, step="tests", message=prompt.question,
                           data={"test": run.spec.name, "kind": prompt.kind.value,
                                 "image": str(prompt.image) if prompt.image else None, "timeout_s": prompt.timeout_s})
        wall, started = time.time(), self.clock()
        try:
            answer: bool | float | None
            if prompt.kind is PromptKind.YES_NO:
                answer = self.prompter.ask_yes_no(ctx.slot, prompt.question, prompt.image, prompt.timeout_s,
                                                  ctx.cancel)
            else:
                answer = self.prompter.ask_number(ctx.slot, prompt.question, prompt.image, prompt.timeout_s,
                                                  ctx.cancel)
        finally:
            self._signal(facts, False)
        ctx.cancel.raise_if_cancelled("testing")  # stopped while the question waited: not the operator's "no"
        duration = self.clock() - started
        [measurement] = run.spec.measurements
        if answer is None:
            self._unset(run, wall, duration, f"Test {run.spec.name}: no answer from the operator within "
                        f"{prompt.timeout_s:.0f} s to {prompt.question!r}.")
            return
        self._judge(run, measurement, answer, known, wall, duration)
        if run.failure is not None and prompt.kind is PromptKind.YES_NO:
            run.failure = f"Test {run.spec.name}: the operator answered No to {prompt.question!r}."

    def _signal(self, facts: DeviceFacts, on: bool) -> None:
        # Signalling only helps the operator find the slot; a unit that cannot signal (a HardwareError, e.g. a link
        # without the request: LinkNotSupportedError) is still tested.
        with contextlib.suppress(HardwareError):
            self.link.signal(facts.device_id, on)

    def _judge(self, run: _TestRun, measurement: Measurement, value: Any, known: dict[KnownValue, str | None],
               wall: float, duration: float) -> None:
        verdict = measurement.limit.judge(value, known)
        outcome = MeasurementOutcome.PASS if verdict.passed else MeasurementOutcome.FAIL
        run.rows.append(self._row(run.spec, measurement, value, outcome, verdict.marginal, wall, duration))
        if not verdict.passed and run.failure is None:
            units = f" {measurement.units}" if measurement.units and not isinstance(value, str) else ""
            run.failure = (f"Test {run.spec.name}: {measurement.name} = {_shown(value)}{units}, limit "
                           f"{measurement.limit.wording(measurement.units)}"
                           + (f" ({verdict.why})" if _adds(verdict.why) else "") + ".")

    def _unset(self, run: _TestRun, wall: float, duration: float, failure: str) -> None:
        run.failure = failure
        for measurement in run.spec.measurements:
            run.rows.append(self._row(run.spec, measurement, None, MeasurementOutcome.UNSET, False, wall, duration))

    @staticmethod
    def _row(spec: TestSpec, measurement: Measurement, value: Any, outcome: MeasurementOutcome, marginal: bool,
             wall: float, duration: float) -> MeasurementRow:
        columns = measurement.limit.as_columns()
        return MeasurementRow(test=spec.name, name=measurement.name, value=value, units=measurement.units,
                              outcome=outcome, marginal=marginal, started_at=wall, duration_s=duration, **columns)

    def _announce(self, ctx: UnitContext, row: MeasurementRow) -> None:
        passed = row.outcome is MeasurementOutcome.PASS
        units = f" {row.units}" if row.units else ""
        text = f"{row.name} = {_shown(row.value)}{units}" + ("" if passed else f" (limit {row.validator})")
        self.recorder.emit(ctx, EventKind.MEASUREMENT, step="tests", status="pass" if passed else "fail",
                           message=text + (" — marginal" if row.marginal else ""),
                           data={"test": row.test, "measurement": row.name, "value": row.value, "units": row.units,
                                 "limits": row.validator, "marginal": row.marginal, "outcome": row.outcome.value})


def _lost(exc: BaseException) -> bool:
    """A unit that did not answer (silent past the time-out, reset or unplugged) rather than one that refused.
    Matched by class name (hardware.usb.errors) so this module does not import the USB stack."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"AppRequestTimeout", "AppRequestLost", "RequestTimeoutError", "DeviceNotFoundError",
                         "SerialTimeoutError", "SerialPortError"})


def _shown(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str):
        return repr(value[:80])
    return json.dumps(value)[:80] if not isinstance(value, int | float) else f"{value:g}"


def _errors(reply: dict[str, Any]) -> str:
    errors = reply.get("errors")
    if not isinstance(errors, list) or not errors:
        return ""
    parts = []
    for error in errors[:3]:
        if isinstance(error, dict):
            parts.append(f"{error.get('field', '?')}: {error.get('message', '?')} (code {error.get('code', '?')})")
    return (": " + "; ".join(parts)) if parts else ""


def _adds(why: str | None) -> bool:
    """Whether a judgement's reason says more than "value, limit" already does (a value that is not a number, an
    unknown expected value) rather than repeating them ("3.2 is outside ...", "got [3], must be empty")."""
    return why is not None and why != "" and "outside" not in why and not why.startswith("got ")
