"""``python -m cloud_client.emulator``: URL first on stdout, seeding flags, signals and state kept across restarts."""

from __future__ import annotations

import json
import re
import selectors
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .world import SHARED_TLS

START_DEADLINE_S = 20.0
SEED_FLAGS = [
    "--user", "alice@example.com:pw",
    "--access-token", "cli-token",
    "--product", "12345:boron",
    "--client", "station:s3cret:12345",
    "--device", "e00fce68aaaaaaaaaaaaaaaa:boron:B40TAA40112ABCDEF:89014103211118510720",
    "--factory-devices", "2",
]  # fmt: skip


def first_line(process: subprocess.Popen[str], deadline_s: float) -> str:
    """The first stdout line, waiting at most ``deadline_s`` for the emulator to print its URL."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=deadline_s):
            raise AssertionError(f"the emulator printed no URL within {deadline_s} s")
    return process.stdout.readline().strip()


class RunningEmulator:
    def __init__(self, *flags: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cloud_client.emulator", "--host", "127.0.0.1", "--port", "0", *flags],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.url = first_line(self.process, START_DEADLINE_S)
        self.client = httpx.Client(
            base_url=self.url, headers={"Authorization": "Bearer cli-token"}, timeout=10, verify=SHARED_TLS
        )

    def stop(self) -> int:
        self.client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=START_DEADLINE_S)
        finally:
            for stream in (self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()


@pytest.fixture
def launched() -> Iterator[list[RunningEmulator]]:
    """Emulators started by a test; any still running at the end are stopped."""
    running: list[RunningEmulator] = []
    yield running
    for emulator in running:
        if emulator.process.poll() is None:
            emulator.stop()


def launch(launched: list[RunningEmulator], *flags: str) -> RunningEmulator:
    emulator = RunningEmulator(*flags)
    launched.append(emulator)
    return emulator


def test_prints_its_base_url_first_and_answers(launched: list[RunningEmulator]) -> None:
    emulator = launch(launched, *SEED_FLAGS)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", emulator.url)
    assert emulator.client.get("/v1/user").json() == {
        "username": "alice@example.com",
        "subscription_ids": [],
        "account_info": {},
        "mfa": {"enabled": False},
    }


def test_seeding_flags_create_products_devices_and_clients(launched: list[RunningEmulator]) -> None:
    emulator = launch(launched, *SEED_FLAGS)
    state = emulator.client.get("/admin/state").json()
    assert [p["id"] for p in state["products"]] == [12345]
    # One named device plus two factory Borons (the product's platform).
    assert len(state["devices"]) == 3
    assert {d["platform_id"] for d in state["devices"]} == {13}
    token = emulator.client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("station", "s3cret")
    ).json()["access_token"]
    assert emulator.client.get("/v1/products/12345", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_sigterm_stops_it_cleanly(launched: list[RunningEmulator]) -> None:
    emulator = launch(launched, *SEED_FLAGS)
    assert emulator.stop() == 0


def test_sigint_stops_it_cleanly(launched: list[RunningEmulator]) -> None:
    emulator = launch(launched, *SEED_FLAGS)
    emulator.process.send_signal(signal.SIGINT)
    assert emulator.process.wait(timeout=START_DEADLINE_S) == 0


def test_state_survives_a_restart(tmp_path: Path, launched: list[RunningEmulator]) -> None:
    state_file = tmp_path / "cloud.json"
    first = launch(launched, *SEED_FLAGS, "--state", str(state_file))
    imported = first.client.post("/v1/products/12345/devices", json={"id": "e00fce68aaaaaaaaaaaaaaaa"})
    assert imported.json()["updated"] == 1
    assert first.stop() == 0
    second = launch(launched, *SEED_FLAGS, "--state", str(state_file))
    devices = second.client.get("/v1/products/12345/devices").json()["devices"]
    assert [d["id"] for d in devices] == ["e00fce68aaaaaaaaaaaaaaaa"]


def test_state_file_is_written_before_the_reply_to_a_change(tmp_path: Path, launched: list[RunningEmulator]) -> None:
    state_file = tmp_path / "cloud.json"
    emulator = launch(launched, *SEED_FLAGS, "--state", str(state_file))
    emulator.client.post("/v1/products/12345/devices", json={"id": "e00fce68aaaaaaaaaaaaaaaa"})
    # Saved before the reply is sent, so the file already holds the change when the reply arrives.
    saved = json.loads(state_file.read_text())
    assert [d["product_id"] for d in saved["devices"] if d["id"] == "e00fce68aaaaaaaaaaaaaaaa"] == [12345]


def test_fault_flags_apply_from_the_start(launched: list[RunningEmulator]) -> None:
    emulator = launch(launched, *SEED_FLAGS, "--burst-429", "1")
    assert emulator.client.get("/v1/user").status_code == 429
    assert emulator.client.get("/v1/user").status_code == 200


def test_bad_seeding_flag_exits_1_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cloud_client.emulator", "--user", "a@x:pw", "--product", "1:toaster"],
        capture_output=True,
        text=True,
        timeout=START_DEADLINE_S,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "toaster" in result.stderr


def test_unreadable_state_file_exits_1_naming_the_file(tmp_path: Path) -> None:
    state_file = tmp_path / "broken.json"
    state_file.write_text("{not json")
    result = subprocess.run(
        [sys.executable, "-m", "cloud_client.emulator", "--state", str(state_file)],
        capture_output=True,
        text=True,
        timeout=START_DEADLINE_S,
    )
    assert result.returncode == 1
    assert str(state_file) in result.stderr
