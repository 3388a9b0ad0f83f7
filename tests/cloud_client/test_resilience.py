"""Retries against injected faults: 5xx, 429 bursts, dropped connections and lost replies end in the right state."""

from __future__ import annotations

import threading

import httpx
import pytest

from cloud_client.client import ParticleCloud
from cloud_client.credentials import Credentials
from cloud_client.errors import InvalidResponseError, RateLimitedError, UnavailableError
from cloud_client.retry import RetryPolicy

from .conftest import CLIENT_ID, CLIENT_SECRET, OPERATOR, OPERATOR_TOKEN, PRODUCT_ID, World


def statuses(world: World) -> set[int]:
    return {status for _, _, status in world.server.request_log}


def test_import_of_1000_ids_and_100_claims_under_faults_end_in_exactly_the_right_state(world: World) -> None:
    to_import = [d.id for d in world.server.add_factory_devices(1000, platforms=("boron",))]
    to_claim = [d.id for d in world.server.add_factory_devices(100, platforms=("boron",))]
    untouched = set(world.device_ids)
    world.server.set_faults(error_rate=0.2, burst_429=3, drop_rate=0.05, lost_reply_rate=0.05)
    with world.client(Credentials.oauth_client(CLIENT_ID, CLIENT_SECRET), max_retries=12) as cloud:
        result = cloud.import_devices(PRODUCT_ID, to_import, batch_size=50)
    with world.client(Credentials.token(OPERATOR_TOKEN), max_retries=12) as user_cloud:
        for index, device_id in enumerate(to_claim):
            if index == 50:
                world.server.set_faults(error_rate=0.2, burst_429=4, drop_rate=0.05, lost_reply_rate=0.05)
            user_cloud.claim_device(device_id)
    assert set(result.in_product) == set(to_import)
    assert result.failed == ()
    devices = {d["id"]: d for d in world.server.snapshot()["devices"]}
    assert {i for i, d in devices.items() if d["product_id"] == PRODUCT_ID} == set(to_import)
    assert {i for i, d in devices.items() if d["owner"] == OPERATOR} == set(to_claim)
    assert all(devices[i]["product_id"] is None and devices[i]["owner"] is None for i in untouched)
    # The faults really happened: server errors, rate limits, and connections closed without a reply.
    assert {0, 429, 503} <= statuses(world)


def test_persistent_server_errors_raise_unavailable_after_the_retries(world: World) -> None:
    world.server.set_faults(error_rate=1.0)
    cloud = world.client(Credentials.token(OPERATOR_TOKEN), max_retries=4)
    with cloud, pytest.raises(UnavailableError) as info:
        cloud.get_product(PRODUCT_ID)
    assert info.value.status == 503
    assert len(world.server.request_log) == 5
    assert len(world.sleeps) == 4


def test_retries_at_most_zero_raises_at_the_first_server_error_on_this_thread_only(world: World) -> None:
    world.server.set_faults(error_rate=1.0)
    cloud = world.client(Credentials.token(OPERATOR_TOKEN), max_retries=3)
    with cloud:
        with cloud.retries_at_most(0), pytest.raises(UnavailableError):
            cloud.get_product(PRODUCT_ID)
        assert len(world.server.request_log) == 1 and world.sleeps == []
        world.server.clear_request_log()
        other: list[BaseException] = []

        def elsewhere() -> None:
            try:
                cloud.get_product(PRODUCT_ID)
            except UnavailableError as exc:
                other.append(exc)

        with cloud.retries_at_most(0):
            thread = threading.Thread(target=elsewhere)
            thread.start()
            thread.join()
        assert len(other) == 1 and len(world.server.request_log) == 4  # another thread keeps the policy's retries
        world.server.clear_request_log()
        with pytest.raises(UnavailableError):
            cloud.get_product(PRODUCT_ID)  # after the block, this thread too
        assert len(world.server.request_log) == 4


def test_server_error_waits_grow_exponentially_up_to_the_cap(world: World) -> None:
    world.server.set_faults(error_rate=1.0)
    policy = RetryPolicy(max_retries=6, base_delay=0.5, max_delay=4.0)
    with world.client(Credentials.token(OPERATOR_TOKEN), retry=policy) as cloud, pytest.raises(UnavailableError):
        cloud.get_product(PRODUCT_ID)
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert all(c / 2 <= waited <= c for waited, c in zip(world.sleeps, ceilings, strict=True))


def test_persistent_rate_limiting_raises_rate_limited_after_backing_off(world: World) -> None:
    world.server.set_faults(burst_429=100)
    with world.client(Credentials.token(OPERATOR_TOKEN), max_retries=3) as cloud, pytest.raises(RateLimitedError):
        cloud.get_product(PRODUCT_ID)
    assert len(world.server.request_log) == 4
    assert world.sleeps[0] >= RetryPolicy().rate_limit_base_delay / 2


def test_a_burst_of_429_is_waited_out(world: World) -> None:
    world.server.set_faults(burst_429=3)
    with world.client(Credentials.token(OPERATOR_TOKEN)) as cloud:
        assert cloud.get_product(PRODUCT_ID).id == PRODUCT_ID
    assert [s for _, _, s in world.server.request_log] == [429, 429, 429, 200]


def test_dropped_connections_raise_unavailable_saying_no_reply(world: World) -> None:
    world.server.set_faults(drop_rate=1.0)
    cloud = world.client(Credentials.token(OPERATOR_TOKEN), max_retries=2)
    with cloud, pytest.raises(UnavailableError) as info:
        cloud.get_product(PRODUCT_ID)
    assert "no reply from the Particle Cloud after 3 attempt(s)" in str(info.value)
    assert info.value.status is None


def test_a_slow_reply_times_out_and_raises_unavailable(world: World) -> None:
    world.server.set_faults(latency_ms=400)
    cloud = world.client(Credentials.token(OPERATOR_TOKEN), max_retries=1, timeout=0.1)
    with cloud, pytest.raises(UnavailableError, match="ReadTimeout"):
        cloud.get_product(PRODUCT_ID)


def test_remove_whose_reply_was_lost_still_ends_removed(world: World, cloud: ParticleCloud) -> None:
    cloud.import_device(PRODUCT_ID, world.device_ids[0])
    world.server.set_faults(lost_reply_rate=1.0)
    with pytest.raises(UnavailableError):
        cloud.remove_device(PRODUCT_ID, world.device_ids[0])
    world.server.set_faults()
    assert cloud.remove_device(PRODUCT_ID, world.device_ids[0]) is False
    assert world.product_device_ids() == set()


def test_retry_after_header_is_honoured_when_present() -> None:
    replies = iter([httpx.Response(429, headers={"Retry-After": "3"}, json={"error": "rate_limit_exceeded"}),
                    httpx.Response(200, json={"product": {"id": 1, "slug": "p", "name": "P", "platform_id": 13}})])
    sleeps: list[float] = []
    transport = httpx.MockTransport(lambda request: next(replies))
    with ParticleCloud("http://cloud.invalid", Credentials.token(OPERATOR_TOKEN), transport=transport,
                       sleep=sleeps.append) as cloud:
        assert cloud.get_product(1).id == 1
    assert sleeps == [3.0]


def test_threads_sharing_a_client_fetch_one_token(world: World, cloud: ParticleCloud) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            cloud.get_product(PRODUCT_ID)
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert len(world.requests_to("/oauth/token")) == 1
    assert len(world.requests_to(f"/v1/products/{PRODUCT_ID}")) == 8


def test_a_2xx_reply_without_json_raises_invalid_response() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=b""))
    cloud = ParticleCloud("http://cloud.invalid", Credentials.token(OPERATOR_TOKEN), transport=transport)
    with cloud, pytest.raises(InvalidResponseError, match="not a JSON object"):
        cloud.get_product(1)
