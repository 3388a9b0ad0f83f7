"""Credentials that cannot do a step, or stop working mid-lot: the lot does not start, or its cloud work pauses
once and waits in the outbox; never unit after unit failing. Simulated devices over pyusb, the emulator over sockets.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cloud_client.client import ParticleCloud
from cloud_client.credentials import Credentials
from station.demo.simulated_line import OWNER, SimulatedLine, build_simulated_line
from station.errors import StationError
from station.records.unit_table import UnitState
from station.workflow.events import EventKind, UnitEvent
from station.workflow.line import Line
from station.workflow.lot import prepare_lot

from .conftest import make_line

UNITS = 5


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_oauth_client_credentials_with_a_product_owner_claim_do_not_start_the_lot(sim: SimulatedLine) -> None:
    sim.emulator.add_client("line-client", "line-secret-123456", product_id=sim.profile.product_id)
    cloud = ParticleCloud(sim.base_url, Credentials.oauth_client("line-client", "line-secret-123456",
                                                                 source="env:PARTICLE"))
    with cloud, pytest.raises(StationError) as info:
        Line(prepare_lot(sim.profile, cloud), link=sim.link(), operator="ann").start()
    assert 'claim = "product-owner" cannot work with OAuth client credentials' in str(info.value)
    assert not [path for _, path, _ in sim.emulator.request_log if path == "/v1/devices"]


def _units(sim: SimulatedLine) -> list:  # type: ignore[type-arg]
    return [sim.devices[0], *(sim.add_device() for _ in range(UNITS - 1))]


def test_a_token_that_expires_mid_lot_pauses_the_cloud_work_once_and_retry_resumes_it(tmp_path: Path) -> None:
    sim = build_simulated_line(tmp_path / "sim", platform="boron", devices=1)
    try:
        token = "feedfacefeedfacefeedfacefeedfacefeedface"
        sim.emulator.add_access_token(token, OWNER, expires_in=3600)
        sim.access_token = token
        devices = _units(sim)
        events: list[UnitEvent] = []
        with make_line(sim, events) as line:
            first = line.scan(devices[0].label).result(timeout=60)
            assert first.state is UnitState.PASS, first.reason
            sim.emulator.advance_time(3601)  # the token expires mid-lot
            results = [line.scan(d.label).result(timeout=60) for d in devices[1:]]
            assert [r.state for r in results] == [UnitState.CLOUD_PENDING] * (UNITS - 1), [r.reason for r in results]
            notices = [e.message for e in events if e.kind is EventKind.NOTICE and "paused" in e.message]
            assert len(notices) == 1 and "credentials" in notices[0]
            refused = [r for r in sim.emulator.request_log if r[2] == 401]
            assert len(refused) <= 3, refused  # one probe, not one per unit (the outbox asks at most once a round)
            # The engineer fixes the credentials (the same token renewed here), then presses retry.
            sim.emulator.add_access_token(token, OWNER)
            line.retry_cloud_work()
            wait_for(lambda: line.journal.count_pending() == 0)
            wait_for(lambda: all(line.journal.unit_table.by_key(line.lot, r.unit_key).state is UnitState.PASS
                                 for r in results))
        owners = {d["id"]: d["owner"] for d in sim.emulator.snapshot()["devices"]}
        assert all(owners[d.device_id.value] == OWNER for d in devices)
    finally:
        sim.close()


def test_a_step_the_credentials_may_not_call_stops_for_the_lot_at_once(sim: SimulatedLine) -> None:
    # An API user's token (a kind the station cannot tell from the token itself) may not claim to the caller.
    scopes = ["devices:import", "devices:list", "devices:get", "devices:update", "groups:list", "groups:create",
              "firmware:list", "firmware:get", "sims:import", "sims:list", "sims:get"]
    sim.access_token = sim.emulator.add_api_user(sim.profile.product_id, scopes)
    devices = _units(sim)
    events: list[UnitEvent] = []
    with make_line(sim, events) as line:
        results = [line.scan(d.label).result(timeout=60) for d in devices]
    assert not [r for r in results if r.state is UnitState.FAIL], [r.reason for r in results]
    claims = [r for r in sim.emulator.request_log if r[1] == "/v1/devices"]
    # Refused once at the line (and once more when the outbox first tries that unit's queued claim); the other
    # units' claims wait without asking.
    assert len(claims) <= 2, claims
    notices = [e.message for e in events if e.kind is EventKind.NOTICE and "paused" in e.message]
    assert len(notices) == 1 and "claim" in notices[0]


def test_work_held_for_credentials_resumes_after_a_restart_with_a_retry(tmp_path: Path) -> None:
    sim = build_simulated_line(tmp_path / "sim", platform="boron", devices=1)
    try:
        token = "0ddba11c0ffee0ddba11c0ffee0ddba11c0ffee0"
        sim.emulator.add_access_token(token, OWNER, expires_in=60)
        sim.access_token = token
        devices = _units(sim)[:2]
        with make_line(sim) as line:
            sim.emulator.advance_time(61)  # expires once the lot started: every unit's cloud work is held
            lot = line.lot
            results = [line.scan(d.label).result(timeout=60) for d in devices]
            assert [r.state for r in results] == [UnitState.CLOUD_PENDING] * 2, [r.reason for r in results]
        sim.emulator.add_access_token(token, OWNER)  # fixed while the station was stopped
        with make_line(sim) as line:
            line.retry_cloud_work()
            wait_for(lambda: line.journal.count_pending() == 0)
            wait_for(lambda: all(line.journal.unit_table.by_key(lot, r.unit_key).state is UnitState.PASS
                                 for r in results))
    finally:
        sim.close()
