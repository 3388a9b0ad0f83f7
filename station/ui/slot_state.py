"""What one slot panel shows, derived from the line's events by a pure function (no Qt, easy to test)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from station.workflow.events import EventKind, UnitEvent

DEVICE_STEPS = {
    "find": "Finding the unit on USB",
    "identify": "Reading the unit's identity",
    "check_label": "Checking the label against the unit",
    "test_firmware": "Flashing the test firmware",
    "tests": "Testing the unit",
    "validate_firmware": "Checking the firmware fits this unit",
    "flash": "Flashing the product firmware",
    "claim_code": "Writing the claim code",
    "final_check": "Final check: is the new firmware running?",
}
"""Steps that run on the device, in order; the panel's main line shows the current one."""

CLOUD_STEPS = {
    "pre_add": "add to product",
    "activate_sim": "activate SIM",
    "claim": "claim",
    "update_device": "name and groups",
}
"""Cloud steps run beside the device steps; the panel shows them on a line of their own."""

_PHASES = (
    ("dfu", "switching to DFU mode"),
    ("erase", "erasing"),
    ("write", "writing"),
    ("verify", "verifying"),
    ("reset", "restarting the unit"),
    ("transfer", "sending"),
)

_CLOUD_MARKS = {"started": "…", "passed": "✓", "skipped": "–", "pending": "⏳", "failed": "✗"}


class Phase(enum.Enum):
    IDLE = "idle"
    RUNNING = "running"
    PASS = "PASS"
    FAIL = "FAIL"
    CLOUD_PENDING = "cloud pending"
    INTERRUPTED = "interrupted"
    """The station stopped while the unit ran: no verdict; the unit is scanned again."""


def step_words(step: str | None) -> str:
    """A step name in plain words for an operator."""
    if not step:
        return ""
    if step in DEVICE_STEPS:
        return DEVICE_STEPS[step]
    if step in CLOUD_STEPS:
        return "Cloud: " + CLOUD_STEPS[step]
    return step.replace("_", " ").capitalize()


def phase_words(phase: str) -> str:
    """A flash phase (``erase``, ``write``, ``enter dfu`` …) in plain words."""
    lowered = phase.lower()
    for key, words in _PHASES:
        if key in lowered:
            return words
    return lowered


def time_left_words(seconds: float | None) -> str:
    if seconds is None:
        return "estimating time left…"
    if seconds < 1.5:
        return "about 1 s left"
    if seconds < 90:
        return f"about {round(seconds)} s left"
    return f"about {round(seconds / 60)} min left"


@dataclass(frozen=True)
class SlotState:
    """Everything a slot panel draws; ``apply`` returns the next state for an event of this slot."""

    slot: int
    phase: Phase = Phase.IDLE
    unit_key: str | None = None
    device_id: str | None = None
    step: str | None = None
    detail: str = ""
    """The current step's sub-phase in plain words (e.g. ``writing``)."""
    done: int = 0
    total: int = 0
    eta_seconds: float | None = None
    cloud: tuple[tuple[str, str], ...] = ()
    """(cloud step, status) in the order they started."""
    reason: str = ""
    action: str = ""
    cycle_seconds: float | None = None
    resumed: bool = False
    test: str = ""
    """The test running now (the ``tests`` step), with its number and the plan's count."""
    test_number: int = 0
    test_count: int = 0
    failed_measurement: str = ""
    """The last measurement that failed, with its value and limits (kept after the verdict; cleared when a retry
    of its test passes)."""
    failed_test: str = ""
    marginal: tuple[str, ...] = ()
    """Measurements that passed close to a limit."""

    @property
    def title(self) -> str:
        return f"Slot {self.slot + 1}"

    @property
    def step_text(self) -> str:
        if self.phase is Phase.IDLE:
            return "Ready: scan a label"
        if self.phase is not Phase.RUNNING:
            return ""
        if self.step == "tests" and self.test:
            running = f"Test {self.test_number} of {self.test_count}: {self.test}"
            return f"{running} ({self.detail})" if self.detail else running
        words = step_words(self.step) or "Starting…"
        return f"{words} ({self.detail})" if self.detail else words

    @property
    def test_text(self) -> str:
        """The failed measurement (value and limits) and the marginal passes, for the panel's test line."""
        lines = [f"✗ {self.failed_measurement}"] if self.failed_measurement else []
        if self.marginal:
            lines.append("Marginal: " + ", ".join(self.marginal))
        return "\n".join(lines)

    @property
    def percent(self) -> int | None:
        """Progress of the current step in percent, or None when the step reports no progress."""
        if self.phase is not Phase.RUNNING or self.total <= 0:
            return None
        return max(0, min(100, round(100 * self.done / self.total)))

    @property
    def time_left_text(self) -> str:
        if self.percent is None:
            return ""
        return time_left_words(self.eta_seconds)

    @property
    def cloud_text(self) -> str:
        if not self.cloud:
            return ""
        # No-break spaces keep each step and its mark together when the line wraps.
        items = (f"{CLOUD_STEPS.get(s, s.replace('_', ' '))} {_CLOUD_MARKS.get(st, st)}".replace(" ", "\u00a0")
                 for s, st in self.cloud)
        return "Cloud: " + "   ".join(items)

    @property
    def verdict(self) -> str:
        """PASS / FAIL in big letters (cloud pending is a pass: the unit goes in the PASS tray)."""
        if self.phase in (Phase.PASS, Phase.CLOUD_PENDING):
            return "PASS"
        if self.phase is Phase.FAIL:
            return "FAIL"
        if self.phase is Phase.INTERRUPTED:
            return "INTERRUPTED"
        return ""

    def apply(self, event: UnitEvent) -> SlotState:
        kind = event.kind
        if kind is EventKind.UNIT_STARTED:
            return SlotState(self.slot, Phase.RUNNING, unit_key=event.unit_key,
                             resumed=not bool(event.data.get("new", True)))
        if event.unit_key is not None and event.unit_key != self.unit_key:
            return self
        if kind is EventKind.STEP_STARTED and event.step:
            if event.step in CLOUD_STEPS:
                return replace(self, cloud=_with_cloud(self.cloud, event.step, "started"))
            return replace(self, step=event.step, detail="", done=0, total=0, eta_seconds=None)
        if kind is EventKind.STEP_PROGRESS:
            if event.step is not None and event.step != self.step:
                return self
            return replace(self, detail=phase_words(event.message), done=event.done, total=event.total,
                           eta_seconds=event.eta_seconds)
        if kind is EventKind.TEST_STARTED:
            return replace(self, test=event.message or str(event.data.get("test", "")), test_number=event.done,
                           test_count=event.total, detail="", done=0, total=0, eta_seconds=None)
        if kind is EventKind.PROMPT_ASKED:
            return replace(self, detail="waiting for your answer")
        if kind is EventKind.MEASUREMENT:
            return self._measured(event)
        if kind is EventKind.TEST_FINISHED and event.status == "pass" and event.data.get("test") == self.failed_test:
            return replace(self, failed_measurement="", failed_test="")
        if kind is EventKind.STEP_ENDED and event.step in CLOUD_STEPS:
            return replace(self, cloud=_with_cloud(self.cloud, event.step, event.status or "passed"))
        if kind is EventKind.UNIT_FINISHED:
            return self.finished(event.status or "", event.message, event.action,
                                 device_id=event.data.get("device_id"), cycle=event.data.get("cycle_seconds"))
        if kind is EventKind.UNIT_UPDATED:
            if self.phase is Phase.RUNNING or not event.status:
                return self
            return self.finished(event.status, event.message or self.reason, event.action or self.action)
        if kind is EventKind.NOTICE and self.phase is Phase.RUNNING and event.slot == self.slot:
            return replace(self, phase=Phase.FAIL, reason=event.message, action=event.action)
        return self

    def _measured(self, event: UnitEvent) -> SlotState:
        if self.detail:  # an answered prompt: the slot no longer waits
            return replace(self, detail="")._measured(event)
        data = event.data
        name = " ".join(str(part) for part in (data.get("test"), data.get("measurement")) if part)
        if event.status == "fail":
            value = f"{data.get('value')}{(' ' + str(data['units'])) if data.get('units') else ''}"
            limits = f" (limits {data['limits']})" if data.get("limits") else ""
            text = f"{name}: {value}{limits}" if name else event.message
            return replace(self, failed_measurement=text, failed_test=str(data.get("test", "")))
        if data.get("marginal") and name not in self.marginal:
            return replace(self, marginal=(*self.marginal, name))
        return self

    def finished(self, status: str, reason: str, action: str, *, device_id: object = None,
                 cycle: object = None) -> SlotState:
        phase = {"PASS": Phase.PASS, "FAIL": Phase.FAIL, "cloud pending": Phase.CLOUD_PENDING,
                 "interrupted": Phase.INTERRUPTED}.get(status, Phase.PASS)
        if status not in ("PASS", "FAIL", "cloud pending", "interrupted"):
            reason = f"{status}: {reason}" if reason else status
        return replace(
            self, phase=phase, reason=reason, action=action, detail="", done=0, total=0, eta_seconds=None,
            device_id=device_id if isinstance(device_id, str) else self.device_id,
            cycle_seconds=float(cycle) if isinstance(cycle, int | float) else self.cycle_seconds,
        )


def _with_cloud(cloud: tuple[tuple[str, str], ...], step: str, status: str) -> tuple[tuple[str, str], ...]:
    if any(s == step for s, _ in cloud):
        return tuple((s, status if s == step else st) for s, st in cloud)
    return (*cloud, (step, status))
