"""What a slot panel shows, derived from the line's events (pure; no Qt)."""

from __future__ import annotations

from station.ui.slot_state import Phase, SlotState, phase_words, time_left_words
from station.workflow.events import EventKind, UnitEvent

KEY = "B40TAAAAAAAAAAA"


def _event(kind: EventKind, **fields: object) -> UnitEvent:
    return UnitEvent(kind, slot=0, unit_key=fields.pop("unit_key", KEY), **fields)  # type: ignore[arg-type]


def _running() -> SlotState:
    return SlotState(0).apply(_event(EventKind.UNIT_STARTED, data={"new": True}))


def test_idle_slot_asks_for_a_scan() -> None:
    assert SlotState(0).step_text == "Ready: scan a label"


def test_flash_progress_shows_the_phase_percent_and_time_left_in_plain_words() -> None:
    state = _running().apply(_event(EventKind.STEP_STARTED, step="flash"))
    state = state.apply(_event(EventKind.STEP_PROGRESS, step="flash", message="write", done=30, total=120,
                               eta_seconds=6.4))
    assert state.step_text == "Flashing the product firmware (writing)"
    assert state.percent == 25 and state.time_left_text == "about 6 s left"


def test_cloud_steps_get_their_own_line_and_never_replace_the_device_step() -> None:
    state = _running().apply(_event(EventKind.STEP_STARTED, step="flash"))
    state = state.apply(_event(EventKind.STEP_STARTED, step="pre_add"))
    state = state.apply(_event(EventKind.STEP_ENDED, step="pre_add", status="passed"))
    state = state.apply(_event(EventKind.STEP_STARTED, step="claim"))
    assert state.step == "flash"
    assert state.cloud_text.replace("\u00a0", " ") == "Cloud: add to product ✓   claim …"


def test_fail_shows_the_reason_and_the_next_action() -> None:
    state = _running().apply(_event(EventKind.UNIT_FINISHED, status="FAIL", message="Label and device do not match.",
                                    action="Find the right label."))
    assert state.phase is Phase.FAIL and state.verdict == "FAIL"
    assert (state.reason, state.action) == ("Label and device do not match.", "Find the right label.")
    assert state.percent is None


def test_cloud_pending_unit_is_a_pass_that_turns_plain_pass_when_the_outbox_finishes() -> None:
    pending = _running().apply(_event(EventKind.UNIT_FINISHED, status="cloud pending", message="waiting",
                                      data={"device_id": "e00fce68aaaaaaaaaaaaaaaa"}))
    assert pending.phase is Phase.CLOUD_PENDING and pending.verdict == "PASS"
    done = pending.apply(UnitEvent(EventKind.UNIT_UPDATED, slot=None, unit_key=KEY, status="PASS", message="done"))
    assert done.phase is Phase.PASS and done.device_id == "e00fce68aaaaaaaaaaaaaaaa"


def test_events_of_another_unit_leave_the_panel_alone() -> None:
    state = _running()
    assert state.apply(_event(EventKind.STEP_STARTED, step="flash", unit_key="B40TOTHER000000")) == state


def test_unknown_flash_phase_and_long_waits_still_read_well() -> None:
    assert phase_words("enter DFU") == "switching to DFU mode"
    assert time_left_words(None) == "estimating time left…"
    assert time_left_words(150) == "about 2 min left"


def test_an_interrupted_unit_shows_no_pass_verdict() -> None:
    # Ctrl-C or shutdown while the unit ran: no outcome (outside yield), so the panel must not say PASS.
    state = _running().apply(_event(EventKind.UNIT_FINISHED, status="interrupted",
                                    message="The station stopped while this unit ran.", action="Scan it again."))
    assert state.phase is Phase.INTERRUPTED and state.verdict == "INTERRUPTED"
