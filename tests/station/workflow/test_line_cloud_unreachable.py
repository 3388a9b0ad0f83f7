"""A cloud that refuses connections: the lot is ready without one API call and with one banner, and a unit's cloud
work goes straight to the outbox (no call, so no retries on the unit's critical path). Timings are in
benchmarks/cloud_down.py; here the calls and the banners are counted."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from contextlib import closing

import httpx
import pytest

from cloud_client.client import ParticleCloud
from cloud_client.credentials import Credentials
from station.cli import main
from station.demo.simulated_line import SimulatedLine
from station.records.unit_table import UnitState
from station.workflow.events import EventKind, UnitEvent
from station.workflow.line import Line
from station.workflow.lot import prepare_lot


class CountingTransport(httpx.HTTPTransport):
    """The real HTTP transport, counting the requests it is asked to send."""

    def __init__(self) -> None:
        super().__init__()
        self.requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return super().handle_request(request)


@pytest.fixture
def closed_port_url() -> str:
    with closing(socket.socket()) as sock:  # a port nothing listens on: connections are refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def transport() -> Iterator[CountingTransport]:
    counting = CountingTransport()
    yield counting
    counting.close()


def _start_on(sim: SimulatedLine, url: str, transport: CountingTransport, events: list[UnitEvent]) -> Line:
    cloud = ParticleCloud(url, Credentials.token(sim.access_token, source="test"), transport=transport,
                          sleep=lambda _: None)
    line = Line(prepare_lot(sim.profile, cloud), link=sim.link(), operator="ann", find_timeout=1.0,
                outbox_poll=0.05, lot="LOT-DOWN")
    line.events.subscribe(events.append)
    return line.start()


def _start(sim: SimulatedLine, url: str, transport: CountingTransport, events: list[UnitEvent]) -> Line:
    line = _start_on(sim, url, transport, events)
    assert line.prepared.unreachable is not None and "refused" in line.prepared.unreachable
    assert transport.requests == 0  # not one API call during preparation
    return line


def _notices(events: list[UnitEvent]) -> list[UnitEvent]:
    return [e for e in events if e.kind is EventKind.NOTICE]


def test_lot_starts_with_one_banner_and_no_cloud_call(sim: SimulatedLine, closed_port_url: str,
                                                      transport: CountingTransport) -> None:
    events: list[UnitEvent] = []
    with _start(sim, closed_port_url, transport, events) as line:
        [banner] = _notices(events)
        assert banner.message == "cloud unreachable: 0 operations waiting."
        assert "refused" in banner.action and "line-a" in banner.action
        result = line.scan(sim.devices[0].label).result(timeout=60)
        assert result.state is UnitState.CLOUD_PENDING, result.reason
        unit = line.journal.unit_table.by_key(line.lot, result.unit_key)
        assert unit is not None
        queued = [item.operation for item in line.journal.outbox_table.pending_for_unit(unit.id)]
        assert queued[0] == "pre_add" and "claim" in queued
        assert transport.requests == 0  # the unit's cloud work went to the outbox without a call
        assert len(_notices(events)) == 1

    events.clear()
    with _start(sim, closed_port_url, transport, events) as again:
        [banner] = _notices(events)
        assert banner.message == f"cloud unreachable: {len(queued)} operations waiting."
        assert again.journal.count_pending() == len(queued)
    assert transport.requests == 0


def test_headless_run_prints_the_one_banner_and_no_warning(sim: SimulatedLine, closed_port_url: str,
                                                           capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("PARTICLE_SIMULATED_ACCESS_TOKEN", sim.access_token)
    code = main(["run", "--profile", str(sim.profile.path), "--headless", "--simulate", "1", "--auto-scan",
                 "--device-timing", "zero", "--cloud-url", closed_port_url, "--lot", "LOT-HEADLESS"])
    out, err = capsys.readouterr()
    assert code == 0, err
    notices = [line for line in err.splitlines() if line.startswith("notice:")]
    assert len(notices) == 1 and notices[0].startswith("notice: cloud unreachable: 0 operations waiting.")
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert out.startswith("cloud pending ") or "cloud pending" in out.splitlines()[0]


def test_cloud_gone_mid_lot_sends_the_next_unit_to_the_outbox_without_a_call(
        sim: SimulatedLine, transport: CountingTransport) -> None:
    events: list[UnitEvent] = []
    with _start_on(sim, sim.base_url, transport, events) as line:
        assert line.scan(sim.devices[0].label).result(timeout=60).state is UnitState.PASS
        sim.emulator.stop()  # the cloud goes away between two units: its port refuses connections
        before = transport.requests
        result = line.scan(sim.add_device().label).result(timeout=60)
        assert result.state is UnitState.CLOUD_PENDING, result.reason
        assert transport.requests == before  # no call (and so no retries) during the unit
        unit = line.journal.unit_table.by_key(line.lot, result.unit_key)
        assert unit is not None and line.journal.outbox_table.pending_for_unit(unit.id)
