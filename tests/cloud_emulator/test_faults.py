"""Injected faults, rate limits and the admin routes (docs.particle.io Cloud API, 'API rate limits')."""

from __future__ import annotations

import time

import httpx
import pytest

from cloud_client.emulator import EmulatorServer
from cloud_client.emulator.state import Device

from .world import PRODUCT, SHARED_TLS


def test_latency_delays_each_api_request(server: EmulatorServer, api: httpx.Client) -> None:
    api.get("/v1/user")  # connect first, so only the added latency is measured
    server.set_faults(latency_ms=150)
    started = time.monotonic()
    assert api.get("/v1/user").status_code == 200
    assert time.monotonic() - started >= 0.15


def test_error_rate_is_roughly_honoured(server: EmulatorServer, api: httpx.Client) -> None:
    server.set_faults(error_rate=0.3)
    statuses = [api.get("/v1/user").status_code for _ in range(200)]
    share = statuses.count(503) / len(statuses)
    assert 0.2 <= share <= 0.4
    assert set(statuses) == {200, 503}


def test_injected_5xx_has_a_json_body(server: EmulatorServer, api: httpx.Client) -> None:
    server.set_faults(error_rate=1.0)
    reply = api.get("/v1/user")
    assert reply.status_code == 503
    assert reply.json()["error"] == "service_unavailable"


def test_same_seed_gives_the_same_fault_sequence() -> None:
    sequences = []
    for _ in range(2):
        with EmulatorServer(seed=3) as emulator:
            emulator.set_faults(error_rate=0.5)
            assert emulator.base_url is not None
            with httpx.Client(base_url=emulator.base_url, verify=SHARED_TLS) as client:
                sequences.append([client.get("/v1/user").status_code for _ in range(30)])
    assert sequences[0] == sequences[1]


def test_drop_closes_the_connection_without_a_reply(server: EmulatorServer, api: httpx.Client) -> None:
    server.set_faults(drop_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        api.get("/v1/user")
    assert server.request_log[-1] == ("GET", "/v1/user", 0)


def test_dropped_import_changes_nothing(server: EmulatorServer, api: httpx.Client, borons: list[Device]) -> None:
    server.set_faults(drop_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        api.post(f"/v1/products/{PRODUCT}/devices", json={"id": borons[0].id})
    assert all(d["product_id"] is None for d in server.snapshot()["devices"])


def test_lost_reply_carries_out_the_request_but_closes_unanswered(
    server: EmulatorServer, api: httpx.Client, borons: list[Device]
) -> None:
    server.set_faults(lost_reply_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        api.post(f"/v1/products/{PRODUCT}/devices", json={"id": borons[0].id})
    server.set_faults()
    assert api.post(f"/v1/products/{PRODUCT}/devices", json={"id": borons[0].id}).json()["existingDeviceIds"] == [
        borons[0].id
    ]


def test_burst_429_refuses_the_next_n_requests_then_serves(
    server: EmulatorServer, api: httpx.Client, borons: list[Device]
) -> None:
    server.set_faults(burst_429=2)
    url = f"/v1/products/{PRODUCT}/devices"
    refused = [api.post(url, json={"id": borons[0].id}) for _ in range(2)]
    assert [r.status_code for r in refused] == [429, 429]
    assert refused[0].json()["error"] == "rate_limit_exceeded"
    # A request refused with 429 changed nothing: the device is new on the third try.
    assert api.post(url, json={"id": borons[0].id}).json()["updated"] == 1


def test_rate_limit_per_window_refuses_the_excess(server: EmulatorServer, api: httpx.Client) -> None:
    server.set_faults(rate_limit=5)
    statuses = [api.get("/v1/user").status_code for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    server.advance_time(301)
    assert api.get("/v1/user").status_code == 200


def test_request_log_counts_requests_with_status(server: EmulatorServer, api: httpx.Client) -> None:
    server.clear_request_log()
    api.get("/v1/user")
    api.get("/v1/products/99999")
    assert server.request_log == [("GET", "/v1/user", 200), ("GET", "/v1/products/99999", 404)]


def test_admin_faults_get_and_post_round_trip(server: EmulatorServer, anon: httpx.Client) -> None:
    posted = anon.post("/admin/faults", json={"latency_ms": 5, "error_rate": 0.25})
    assert posted.status_code == 200
    current = anon.get("/admin/faults").json()
    assert current["latency_ms"] == 5 and current["error_rate"] == 0.25 and current["drop_rate"] == 0.0


def test_admin_faults_rejects_unknown_fields(anon: httpx.Client) -> None:
    assert anon.post("/admin/faults", json={"explode": True}).status_code == 400


def test_admin_routes_are_not_subject_to_faults_or_logged(server: EmulatorServer, anon: httpx.Client) -> None:
    server.set_faults(error_rate=1.0)
    server.clear_request_log()
    assert anon.get("/admin/state").status_code == 200
    assert server.request_log == []


def test_admin_state_redacts_credentials(anon: httpx.Client) -> None:
    state = anon.get("/admin/state").json()
    assert {t["token"] for t in state["tokens"]} == {"***"}
    assert {u["password"] for u in state["users"]} == {"***"}


def test_admin_clock_expires_tokens(server: EmulatorServer, anon: httpx.Client) -> None:
    server.add_access_token("brief", user="alice@example.com", expires_in=10)
    assert anon.post("/admin/clock", json={"seconds": 11}).status_code == 200
    assert anon.get("/v1/user", headers={"Authorization": "Bearer brief"}).status_code == 401


def test_admin_connect_puts_a_device_online(anon: httpx.Client, api: httpx.Client, borons: list[Device]) -> None:
    api.post(f"/v1/products/{PRODUCT}/devices", json={"id": borons[0].id})
    body = {"product_id": PRODUCT, "firmware_version": 3, "system_version": "6.2.0"}
    anon.post(f"/admin/devices/{borons[0].id}/connect", json=body)
    device = api.get(f"/v1/products/{PRODUCT}/devices/{borons[0].id}").json()
    assert device["online"] is True and device["connected"] is True
    assert device["firmware_version"] == 3 and device["system_firmware_version"] == "6.2.0"
    assert device["last_handshake_at"].endswith("Z")


def test_unknown_route_gives_a_json_404(api: httpx.Client) -> None:
    reply = api.get("/v1/no/such/route")
    assert reply.status_code == 404
    assert reply.json()["ok"] is False


def test_wrong_method_gives_a_json_405(api: httpx.Client) -> None:
    reply = api.patch(f"/v1/products/{PRODUCT}")
    assert reply.status_code == 405
    assert "error" in reply.json()


def test_device_disconnect_takes_it_offline_keeping_last_heard(
    server: EmulatorServer, api: httpx.Client, borons: list[Device]
) -> None:
    api.post(f"/v1/products/{PRODUCT}/devices", json={"id": borons[0].id})
    server.device_connects(borons[0].id, PRODUCT, firmware_version=1, system_version="6.2.0")
    server.device_disconnects(borons[0].id)
    device = api.get(f"/v1/products/{PRODUCT}/devices/{borons[0].id}").json()
    assert device["online"] is False
    assert device["last_heard"] is not None


def test_faults_limited_to_a_method_spare_the_others(server: EmulatorServer, api: httpx.Client) -> None:
    server.set_faults(error_rate=1.0, methods=("post",))
    assert api.get("/v1/user").status_code == 200
    assert api.post(f"/v1/products/{PRODUCT}/sims", json={"sims": ["8901"]}).status_code == 503
    assert api.get("/admin/faults").json()["methods"] == ["POST"]
