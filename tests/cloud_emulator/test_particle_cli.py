"""Particle's own CLI against the emulator: `product device add --file` and `product device list` (particle-cli 3.43.1).

Needs a `particle` binary on PATH or in .cache/particle-cli (installed by hand with
`npm install --prefix .cache/particle-cli particle-cli@3.43.1`); skipped with the reason when there is none.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from cloud_client.emulator import EmulatorServer
from cloud_client.emulator.state import Device

from .world import ALICE, ALICE_PASSWORD, ALICE_TOKEN, PRODUCT

REPO = Path(__file__).resolve().parents[2]
CLI_TIMEOUT_S = 120


def find_particle() -> str | None:
    cached = REPO / ".cache" / "particle-cli" / "node_modules" / ".bin" / "particle"
    return shutil.which("particle") or (str(cached) if cached.exists() else None)


PARTICLE = find_particle()
pytestmark = pytest.mark.skipif(
    PARTICLE is None,
    reason="particle-cli not installed: run `npm install --prefix .cache/particle-cli particle-cli@3.43.1`",
)


def run_particle(server: EmulatorServer, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI in ``home``; a new HOME gets a default profile pointing at the emulator with Alice's token."""
    settings = home / ".particle" / "particle.config.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    if not settings.exists():
        settings.write_text(json.dumps({"apiUrl": server.base_url, "access_token": ALICE_TOKEN, "username": ALICE}))
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "CI": "true", "NO_COLOR": "1"}
    assert PARTICLE is not None
    return subprocess.run(
        [PARTICLE, *args], env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT_S, stdin=subprocess.DEVNULL
    )


def product_device_ids(server: EmulatorServer) -> set[str]:
    return {d["id"] for d in server.snapshot()["devices"] if d["product_id"] == PRODUCT}


def test_device_add_from_file_imports_and_reports_invalid_ids(
    server: EmulatorServer, borons: list[Device], tmp_path: Path
) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text(f"{borons[0].id}\nWAT\n{borons[1].id.upper()}\n")
    result = run_particle(server, tmp_path, "product", "device", "add", str(PRODUCT), "--file", str(ids))
    assert result.returncode == 0, result.stderr
    assert "Success" in result.stdout
    assert "WAT" in result.stdout  # listed under "Skipped Invalid IDs"
    assert product_device_ids(server) == {borons[0].id, borons[1].id}


def test_device_add_of_only_invalid_ids_fails(server: EmulatorServer, tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("000000000000000000000001\n")
    result = run_particle(server, tmp_path, "product", "device", "add", str(PRODUCT), "--file", str(ids))
    assert result.returncode == 1
    assert product_device_ids(server) == set()


def test_device_list_agrees_with_the_emulator(
    server: EmulatorServer, api: httpx.Client, borons: list[Device], tmp_path: Path
) -> None:
    api.post(f"/v1/products/{PRODUCT}/devices", json={"ids": [d.id for d in borons[:3]]})
    result = run_particle(server, tmp_path, "product", "device", "list", str(PRODUCT))
    assert result.returncode == 0, result.stderr
    listed = set(re.findall(r"\[([0-9a-f]{24})\] \(Product (\d+)\)", result.stdout))
    assert listed == {(device_id, str(PRODUCT)) for device_id in product_device_ids(server)}
    assert product_device_ids(server) == {d.id for d in borons[:3]}


def test_login_with_password_then_whoami(server: EmulatorServer, tmp_path: Path) -> None:
    login = run_particle(server, tmp_path, "login", "-u", ALICE, "-p", ALICE_PASSWORD)
    assert login.returncode == 0, login.stdout + login.stderr
    profile = json.loads((tmp_path / ".particle" / "particle.config.json").read_text())
    assert profile["access_token"] != ALICE_TOKEN  # the CLI stored the token the emulator issued
    whoami = run_particle(server, tmp_path, "whoami")
    assert ALICE in whoami.stdout


def test_cloud_claim_of_unknown_device_prints_device_not_found(server: EmulatorServer, tmp_path: Path) -> None:
    result = run_particle(server, tmp_path, "cloud", "claim", "0123456789abcdef01234567")
    assert result.returncode == 1
    assert "Failed to claim device: device not found" in result.stdout
