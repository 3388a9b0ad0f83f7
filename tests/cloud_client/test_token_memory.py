"""Token refusals and lock-outs remembered across restarts (docs.particle.io Cloud API, 'API rate limits': ten failed
token requests in a row lock the IP out for 30 minutes). Each ``world.client`` is a new process's client."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from cloud_client.auth import TOKEN_429_RETRIES
from cloud_client.credentials import Credentials
from cloud_client.errors import InvalidCredentialsError, RateLimitedError
from cloud_client.token_memory import TokenMemory

from .conftest import CLIENT_ID, CLIENT_SECRET, PRODUCT_ID, SECRETS, World

WRONG = "cs-wrong-0000000000000000000000000000"


class WallClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_ten_restarts_with_a_refused_secret_ask_the_token_endpoint_once(world: World, tmp_path: Path) -> None:
    memory = tmp_path / "log" / "cloud-token-memory.json"
    for _ in range(10):
        with world.client(Credentials.oauth_client(CLIENT_ID, WRONG), token_memory=memory) as cloud, \
                pytest.raises(InvalidCredentialsError) as info:
            cloud.get_product(PRODUCT_ID)
    assert len(world.requests_to("/oauth/token")) == 1
    assert str(memory) in str(info.value) and "fix the credentials" in str(info.value)
    text = memory.read_text()
    assert WRONG not in text and CLIENT_ID not in text and not any(s in text for s in SECRETS)
    # New credentials are asked about, and work: the IP was never locked out.
    with world.client(Credentials.oauth_client(CLIENT_ID, CLIENT_SECRET), token_memory=memory) as cloud:
        assert cloud.get_product(PRODUCT_ID).id == PRODUCT_ID
    assert [status for _, _, status in world.requests_to("/oauth/token")] == [400, 200]


def test_while_locked_out_the_station_does_not_hammer_the_token_endpoint(world: World, tmp_path: Path) -> None:
    assert world.base_url
    with httpx.Client(base_url=world.base_url) as raw:  # someone else behind this IP locks it out
        for _ in range(10):
            raw.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, WRONG))
    world.server.clear_request_log()
    clock = WallClock()
    memory = TokenMemory(tmp_path / "memory.json", wall_clock=clock)
    for _ in range(5):  # five calls, then five restarts, all within the block
        with world.client(Credentials.oauth_client(CLIENT_ID, CLIENT_SECRET), token_memory=memory) as cloud:
            with pytest.raises(RateLimitedError) as info:
                cloud.get_product(PRODUCT_ID)
            with pytest.raises(RateLimitedError):
                cloud.get_product(PRODUCT_ID)
    # A few retries with back-off (a passing burst), then nothing more, whatever the calls and restarts.
    assert world.requests_to("/oauth/token") == [("POST", "/oauth/token", 429)] * (TOKEN_429_RETRIES + 1)
    assert "no token request is sent before" in str(info.value)
    assert len(world.sleeps) == TOKEN_429_RETRIES and min(world.sleeps) >= 0.5
    # After the block, and once Particle's 30 minutes are over, it asks again and works.
    clock.now += 1801
    world.server.advance_time(1801)
    with world.client(Credentials.oauth_client(CLIENT_ID, CLIENT_SECRET), token_memory=memory) as cloud:
        assert cloud.get_product(PRODUCT_ID).id == PRODUCT_ID
    assert [status for _, _, status in world.requests_to("/oauth/token")][-1] == 200


def test_blocks_grow_from_the_rate_limit_window_to_the_lockout(tmp_path: Path) -> None:
    clock = WallClock()
    memory = TokenMemory(tmp_path / "m.json", wall_clock=clock)
    waits = [memory.remember_block("k") for _ in range(5)]
    assert 300 <= waits[0] <= 330 and 600 <= waits[1] <= 660 and all(1800 <= w <= 1980 for w in waits[3:])
    memory.forget("k")
    assert memory.blocked_until("k") is None


def test_an_unwritable_memory_file_does_not_stop_the_client(world: World, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    memory = blocker / "memory.json"  # under a file: cannot be created
    with world.client(Credentials.oauth_client(CLIENT_ID, WRONG), token_memory=memory) as cloud, \
            pytest.raises(InvalidCredentialsError):
        cloud.get_product(PRODUCT_ID)
