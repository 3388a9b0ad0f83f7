"""The journal is the system of record: durable, resumable, and shared by slots, outbox and spreadsheets."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from station.records.database import JournalError
from station.records.journal import Journal
from station.records.step_table import StepStatus
from station.records.unit_table import UnitState


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    j = Journal(tmp_path / "journal.sqlite3", clock=FakeClock())
    j.open_lot("L1", station="S", product_id=1, profile="p.toml", operator="ann")
    return j


def test_journal_uses_wal_and_full_sync(journal: Journal) -> None:
    db = sqlite3.connect(journal.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_begin_unit_then_scan_again_resumes_the_same_unit(journal: Journal) -> None:
    unit, created = journal.unit_table.begin("L1", "P046AAA", serial="P046AAA", slot=0)
    assert created and unit.state is UnitState.IN_PROGRESS and unit.attempts == 1
    journal.unit_table.update(unit.id, state=UnitState.FAIL, reason="cable pulled")
    again, created_again = journal.unit_table.begin("L1", "P046AAA", slot=1)
    assert not created_again
    assert again.id == unit.id
    assert again.attempts == 2
    assert again.state is UnitState.IN_PROGRESS and again.reason is None
    assert again.slot == 1


def test_records_survive_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with Journal(path) as j:
        j.open_lot("L", station="S", product_id=1, profile="p", operator="o")
        unit, _ = j.unit_table.begin("L", "K", device_id="e00fce68aabbccddeeff0011")
        step = j.step_table.started(unit.id, "flash")
        j.step_table.ended(step, StepStatus.PASSED, detail={"bytes": 4096})
    with Journal(path) as reopened:
        assert reopened.unit_table.by_key("L", "K") is not None
        assert reopened.step_table.passed(unit.id)["flash"].detail == {"bytes": 4096}


def test_passed_steps_forgets_a_step_that_failed_later(journal: Journal) -> None:
    unit, _ = journal.unit_table.begin("L1", "K")
    journal.step_table.ended(journal.step_table.started(unit.id, "flash"), StepStatus.PASSED)
    journal.step_table.ended(journal.step_table.started(unit.id, "verify"), StepStatus.PASSED)
    journal.step_table.ended(journal.step_table.started(unit.id, "flash"), StepStatus.FAILED, error="stall")
    assert set(journal.step_table.passed(unit.id)) == {"verify"}


def test_outbox_queues_each_key_once_and_tracks_attempts(journal: Journal) -> None:
    unit, _ = journal.unit_table.begin("L1", "K")
    first = journal.outbox_table.enqueue("claim:abc", "claim", {"device_id": "abc"}, unit_id=unit.id)
    second = journal.outbox_table.enqueue("claim:abc", "claim", {"device_id": "abc"}, unit_id=unit.id)
    assert first == second
    assert [i.operation for i in journal.outbox_table.due()] == ["claim"]
    journal.outbox_table.failed(first, "503 from cloud", retry_at=2_000.0)
    assert journal.outbox_table.due(now=1_500.0) == []
    [item] = journal.outbox_table.due(now=2_000.0)
    assert item.attempts == 1 and item.last_error == "503 from cloud"
    journal.outbox_table.done(first)
    assert journal.count_pending() == 0
    assert journal.outbox_table.pending_for_unit(unit.id) == []


def test_given_up_operations_can_be_retried_by_an_engineer(journal: Journal) -> None:
    item = journal.outbox_table.enqueue("k", "pre_add", {}, unit_id=None)
    journal.outbox_table.failed(item, "invalid product", retry_at=None)
    assert journal.outbox_table.due(now=10**9) == []
    assert journal.outbox_table.retry_failed() == 1
    assert len(journal.outbox_table.due(now=10**9)) == 1


def test_search_finds_units_by_partial_serial_or_device_id(journal: Journal) -> None:
    journal.unit_table.begin("L1", "A", serial="P046AAA111", device_id="e00fce68000000000000aaaa")
    journal.unit_table.begin("L1", "B", serial="P046BBB222", device_id="e00fce68000000000000bbbb")
    assert [u.unit_key for u in journal.unit_table.search("bbb")] == ["B"]
    assert [u.unit_key for u in journal.unit_table.search("AAAA")] == ["A"]


def test_unknown_unit_field_is_refused(journal: Journal) -> None:
    unit, _ = journal.unit_table.begin("L1", "K")
    with pytest.raises(ValueError, match="unknown unit fields"):
        journal.unit_table.update(unit.id, colour="red")


def test_concurrent_slots_write_without_losing_records(journal: Journal) -> None:
    def slot(n: int) -> None:
        for i in range(50):
            unit, _ = journal.unit_table.begin("L1", f"{n}-{i}", slot=n)
            journal.step_table.ended(journal.step_table.started(unit.id, "flash"), StepStatus.PASSED)
            journal.unit_table.update(unit.id, state=UnitState.PASS)

    threads = [threading.Thread(target=slot, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    units = journal.units("L1")
    assert len(units) == 200
    assert all(u.state is UnitState.PASS for u in units)


def test_unreadable_journal_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(JournalError, match="cannot open the journal"):
        Journal(path)
