"""The state file: everything survives a restart of an in-process emulator, and saves are atomic."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from cloud_client.emulator import EmulatorError, EmulatorServer

from .world import ALICE, SHARED_TLS

ICCID = "89014103211118510720"


def seeded(state_file: Path) -> EmulatorServer:
    emulator = EmulatorServer(state_file=state_file, seed=5)
    emulator.add_owned_product(4242, "boron", ALICE, password="pw", access_token="tok")
    emulator.add_sim(ICCID)
    emulator.add_firmware(4242, 1, b"\x01\x02", released=True)
    return emulator


def test_every_kind_of_record_survives_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    with seeded(state_file) as first:
        device = first.add_factory_devices(1)[0]
        assert first.base_url is not None
        with httpx.Client(base_url=first.base_url, headers={"Authorization": "Bearer tok"}, verify=SHARED_TLS) as api:
            api.post("/v1/products/4242/devices", json={"id": device.id})
            api.put(f"/v1/products/4242/devices/{device.id}", json={"groups": ["line-a"], "name": "unit-1"})
            api.post("/v1/products/4242/sims", json={"sims": [ICCID]})
            api.post("/v1/device_claims", json={})
        before = first.snapshot()
    after = EmulatorServer(state_file=state_file).snapshot()
    assert after == before


def test_saved_token_still_authenticates_after_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    seeded(state_file).stop()
    with EmulatorServer(state_file=state_file) as second:
        assert second.base_url is not None
        reply = httpx.get(second.base_url + "/v1/user", headers={"Authorization": "Bearer tok"}, verify=SHARED_TLS)
        assert reply.json()["username"] == ALICE


def test_saving_leaves_no_temporary_files(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    seeded(state_file).stop()
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_unreadable_state_file_raises_emulator_error_naming_it(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    state_file.write_text('{"format": 99}')
    with pytest.raises(EmulatorError, match="state.json"):
        EmulatorServer(state_file=state_file)


def test_snapshot_is_a_copy_that_does_not_follow_later_changes(tmp_path: Path) -> None:
    emulator = seeded(tmp_path / "state.json")
    snapshot = emulator.snapshot()
    emulator.add_user("late@example.com", "pw")
    assert [u["username"] for u in snapshot["users"]] == [ALICE]
