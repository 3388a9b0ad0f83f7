"""A unit's state is derived from the journal by whichever side finishes last: runner or outbox, in any order.

A stateful property test drives the runner's finish, the outbox's item outcomes, an engineer's retry and a rescan in
random orders against a real journal file, and checks the journal's state against a model of the facts after every
step; a threaded test races the two sides for real.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from station.records.journal import Journal
from station.records.unit_state import UnitSettlement
from station.records.unit_table import UnitState

OPERATIONS = ("pre_add", "update_device", "activate_sim", "claim", "confirm_online")


def model_state(runner: str | None, items: dict[int, str]) -> UnitState:
    """What the facts say, written independently of the code under test."""
    if runner is None:
        return UnitState.IN_PROGRESS
    if runner == "failed" or "failed" in items.values():
        return UnitState.FAIL
    if "pending" in items.values():
        return UnitState.CLOUD_PENDING
    if "not_confirmed" in items.values():
        return UnitState.NOT_CONFIRMED
    return UnitState.PASS


class RunnerAndOutbox(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        self.journal = Journal(Path(self.folder.name) / "journal.sqlite3")
        self.journal.open_lot("L1", station="S", product_id=1, profile="p.toml", operator="ann")
        self.settlement = UnitSettlement(self.journal.db)
        unit, _ = self.journal.unit_table.begin("L1", "U1", serial="U1")
        self.unit_id = unit.id
        self.runner: str | None = None
        self.items: dict[int, str] = {}  # this attempt's outbox items and their state in the model
        self.attempt = 1
        self.first: UnitState | None = None  # the first outcome of the first attempt, as the model sees it

    def teardown(self) -> None:
        self.journal.close()
        self.folder.cleanup()

    def _open(self) -> list[int]:
        return [i for i, s in self.items.items() if s == "pending"]

    @precondition(lambda self: self.runner is None and len(self.items) < 5)
    @rule(operation=st.sampled_from(OPERATIONS))
    def queue_cloud_work(self, operation: str) -> None:
        """The runner hands cloud work to the outbox while the device still works."""
        item = self.journal.outbox_table.enqueue(f"u1:{operation}:{self.attempt}:{len(self.items)}", operation,
                                                 {"timeout_s": 30}, unit_id=self.unit_id)
        self.items[item] = "pending"

    @precondition(lambda self: self.runner is None)
    @rule(failed=st.booleans())
    def runner_finishes(self, failed: bool) -> None:
        settled = self.settlement.device_finished(
            self.unit_id, failure=("flash failed", "set aside", "flash_failed") if failed else None, ended_at=1.0,
            cycle_seconds=1.0)
        self.runner = "failed" if failed else "done"
        assert settled.state is model_state(self.runner, self.items)

    @precondition(lambda self: bool(self._open()))
    @rule(data=st.data(), outcome=st.sampled_from(["done", "retry", "failed", "not_confirmed"]))
    def outbox_item_ends(self, data: st.DataObject, outcome: str) -> None:
        item = data.draw(st.sampled_from(self._open()))
        table = self.journal.outbox_table
        if outcome == "done":
            table.done(item)
        elif outcome == "retry":
            table.failed(item, "cloud unavailable", retry_at=0.0)
        elif outcome == "failed":
            table.failed(item, "The cloud refused this unit.", retry_at=None)
        else:
            table.not_confirmed(item, "The cloud did not see the unit online within 30 s.")
        self.items[item] = "pending" if outcome == "retry" else outcome

    @rule()
    def engineer_retries_cloud_work(self) -> None:
        self.journal.outbox_table.retry_failed()
        self.items = {i: "pending" if s == "failed" else s for i, s in self.items.items()}

    @precondition(lambda self: self.runner is not None)
    @rule()
    def operator_rescans(self) -> None:
        """A new attempt: what the earlier one left unfinished is superseded."""
        self.journal.unit_table.begin("L1", "U1", serial="U1")
        self.items = {i: s for i, s in self.items.items() if s == "done"}
        self.runner = None
        self.attempt += 1

    @invariant()
    def state_is_derived_from_the_facts(self) -> None:
        unit = self.journal.unit_table.get(self.unit_id)
        assert unit is not None
        assert unit.state is model_state(self.runner, self.items), (unit.state, self.runner, self.items)
        if unit.state is UnitState.CLOUD_PENDING:
            assert self.journal.outbox_table.pending_for_unit(self.unit_id)
        if self.attempt == 1 and self.first is None and unit.state in (
                UnitState.PASS, UnitState.FAIL, UnitState.NOT_CONFIRMED):
            self.first = unit.state  # an outcome an engineer's retry later changes stays the first one
        if self.attempt == 1:
            assert unit.first_result == (self.first.value if self.first else None)
        expected_code = {UnitState.FAIL: {"flash_failed", "cloud_refused"},
                         UnitState.NOT_CONFIRMED: {"not_online_in_time"}}.get(unit.state, {None})
        assert unit.reason_code in expected_code, (unit.state, unit.reason_code)


TestRunnerAndOutbox = RunnerAndOutbox.TestCase
TestRunnerAndOutbox.settings = settings(max_examples=80, stateful_step_count=20, deadline=None)


def test_runner_and_outbox_racing_on_threads_end_in_the_derived_state(tmp_path: Path) -> None:
    """The two sides finish at the same time on their own threads, many times: never cloud pending with nothing
    waiting, never an outbox outcome lost."""
    journal = Journal(tmp_path / "journal.sqlite3")
    journal.open_lot("L1", station="S", product_id=1, profile="p.toml", operator="ann")
    settlement = UnitSettlement(journal.db)
    for n in range(40):
        unit, _ = journal.unit_table.begin("L1", f"U{n}", serial=f"U{n}")
        items = [journal.outbox_table.enqueue(f"u{n}:{op}", op, {}, unit_id=unit.id) for op in OPERATIONS[:3]]
        give_up = n % 4 == 3
        start = threading.Barrier(2)

        def outbox_side(items: list[int] = items, give_up: bool = give_up, start: threading.Barrier = start) -> None:
            start.wait()
            for item in items[:-1]:
                journal.outbox_table.done(item)
            if give_up:
                journal.outbox_table.failed(items[-1], "refused", retry_at=None)
            else:
                journal.outbox_table.done(items[-1])

        def runner_side(unit_id: int = unit.id, start: threading.Barrier = start) -> None:
            start.wait()
            settlement.device_finished(unit_id, failure=None, ended_at=1.0, cycle_seconds=1.0)

        threads = [threading.Thread(target=outbox_side), threading.Thread(target=runner_side)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        final = journal.unit_table.get(unit.id)
        assert final is not None
        assert final.state is (UnitState.FAIL if give_up else UnitState.PASS), (n, final.state)
    journal.close()
