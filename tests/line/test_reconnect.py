"""After an outage the backlog starts draining when the server is back, not at the end of a back-off: the
replicator probes the server's port while it waits, and a port that opens again ends the wait."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from station.line.connection import port_open
from station.line.replicator import FAST_RETRY_S, MAX_RETRY_S, Replicator
from station.records.database import JournalDatabase
from tests.line.conftest import LineDb


def test_the_probe_sees_the_servers_port_closed_and_open(line_db: LineDb) -> None:
    url = line_db.url("nobody")
    assert port_open(url)
    line_db.server.stop()
    try:
        assert not port_open(url)
    finally:
        line_db.server.start()
    assert port_open(url)


def test_a_port_that_opens_again_ends_the_back_off_at_once(tmp_path: Path, line_db: LineDb) -> None:
    answers = iter([False, False, True])
    journal = JournalDatabase(tmp_path / "journal.sqlite")
    replicator = Replicator(journal, "a", lambda: line_db.connect(), probe=lambda: next(answers, True))
    waited: list[float] = []
    waiting = threading.Thread(target=lambda: waited.append(replicator._wait_to_retry(600.0)), daemon=True)
    waiting.start()
    waiting.join(60)  # a back-off of 600 s that the probe did not end would still be waiting
    try:
        assert waited == [FAST_RETRY_S]
    finally:
        replicator.stop()
        journal.close()


def test_without_a_probe_the_back_off_doubles_up_to_its_cap(tmp_path: Path, line_db: LineDb) -> None:
    journal = JournalDatabase(tmp_path / "journal.sqlite")
    replicator = Replicator(journal, "a", lambda: line_db.connect(), max_retry=0.03)
    try:
        assert MAX_RETRY_S <= 5.0, "a station retries at least every 5 s while the line database is down"
        assert [replicator._wait_to_retry(d) for d in (0.01, 0.02, 0.03)] == [0.02, 0.03, 0.03]
    finally:
        replicator.stop()
        journal.close()


def test_stop_leaves_a_thread_stuck_on_the_server_and_that_thread_then_ends(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # The server takes a connection and never answers: stop() must not wait for it, nor let the stuck thread loop
    # on once the call returns.
    import psycopg

    entered, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def stuck_connect() -> psycopg.Connection[tuple[object, ...]]:
        calls.append("connect")
        entered.set()
        release.wait(60)
        raise psycopg.OperationalError("connection timed out")

    journal = JournalDatabase(tmp_path / "journal.sqlite")
    replicator = Replicator(journal, "a", stuck_connect, first_retry=0.01, max_retry=0.01).start()
    thread = replicator._thread
    assert thread is not None and entered.wait(30)
    try:
        replicator.stop(timeout=0.1)
        assert not release.is_set() and thread.is_alive()  # stop() came back while the call was still stuck
        assert "did not stop within" in caplog.text
    finally:
        release.set()
    thread.join(30)
    assert not thread.is_alive() and calls == ["connect"]  # the stuck thread ended without trying again
    journal.close()
