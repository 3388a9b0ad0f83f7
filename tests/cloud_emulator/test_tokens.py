"""Token checks on API routes and the token routes (Particle's node-oauth2-server lib/authorise.js; docs.particle.io
Cloud API, 'Authentication'; particle-cli 3.43.1)."""

from __future__ import annotations

import httpx

from cloud_client.emulator import EmulatorServer

from .world import ALICE, ALICE_PASSWORD, ALICE_TOKEN, BOB_PRODUCT, PRODUCT


def test_no_token_is_400_access_token_not_found(anon: httpx.Client) -> None:
    reply = anon.get(f"/v1/products/{PRODUCT}/devices")
    assert reply.status_code == 400
    assert reply.json() == {"error": "invalid_request", "error_description": "The access token was not found"}


def test_unknown_token_is_401_invalid_token(anon: httpx.Client) -> None:
    reply = anon.get("/v1/user", headers={"Authorization": "Bearer nope"})
    assert reply.status_code == 401
    assert reply.json() == {"error": "invalid_token", "error_description": "The access token provided is invalid."}


def test_expired_token_is_401_has_expired(server: EmulatorServer, anon: httpx.Client) -> None:
    server.add_access_token("short-lived", user=ALICE, expires_in=60)
    server.advance_time(61)
    reply = anon.get("/v1/user", headers={"Authorization": "Bearer short-lived"})
    assert reply.status_code == 401
    assert reply.json()["error_description"] == "The access token provided has expired."


def test_malformed_authorization_header_is_400(anon: httpx.Client) -> None:
    reply = anon.get("/v1/user", headers={"Authorization": "Token abc"})
    assert reply.status_code == 400
    assert reply.json()["error_description"] == "Malformed auth header"


def test_deprecated_query_token_is_accepted(anon: httpx.Client) -> None:
    assert anon.get("/v1/user", params={"access_token": ALICE_TOKEN}).status_code == 200


def test_token_in_two_places_is_400_invalid_request(anon: httpx.Client) -> None:
    reply = anon.get(
        "/v1/user", params={"access_token": ALICE_TOKEN}, headers={"Authorization": f"Bearer {ALICE_TOKEN}"}
    )
    assert reply.status_code == 400
    assert reply.json()["error"] == "invalid_request"


def test_current_token_info_names_client_and_expiry(api: httpx.Client) -> None:
    body = api.get("/v1/access_tokens/current").json()
    assert body["client"] == body["client_id"]
    assert body["expires_at"] is None
    assert body["scopes"] == [] and body["orgs"] == []


def test_revoking_the_current_token_makes_it_invalid(api: httpx.Client) -> None:
    assert api.delete("/v1/access_tokens/current").json() == {"ok": True}
    assert api.get("/v1/user").status_code == 401


def test_token_revoke_by_path_works_without_authorization(server: EmulatorServer, anon: httpx.Client) -> None:
    server.add_access_token("to-revoke", user=ALICE)
    assert anon.delete("/v1/access_tokens/to-revoke").json() == {"ok": True}
    assert anon.get("/v1/user", headers={"Authorization": "Bearer to-revoke"}).status_code == 401


def test_token_list_needs_the_accounts_password(anon: httpx.Client) -> None:
    assert anon.get("/v1/access_tokens", auth=(ALICE, "wrong")).status_code == 401
    listed = anon.get("/v1/access_tokens", auth=(ALICE, ALICE_PASSWORD)).json()
    assert ALICE_TOKEN in [t["token"] for t in listed]


def test_user_route_returns_username(api: httpx.Client) -> None:
    assert api.get("/v1/user").json()["username"] == ALICE


def test_another_users_product_is_404_permission_denied(api: httpx.Client) -> None:
    reply = api.get(f"/v1/products/{BOB_PRODUCT}/devices")
    assert reply.status_code == 404
    assert "Permission denied" in reply.json()["error"]


def test_product_token_touching_another_product_is_404(server: EmulatorServer, anon: httpx.Client) -> None:
    token = anon.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("station-client", "station-s3cret")
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert anon.get(f"/v1/products/{PRODUCT}/devices", headers=headers).status_code == 200
    assert anon.get(f"/v1/products/{BOB_PRODUCT}/devices", headers=headers).status_code == 404


def test_product_token_cannot_call_person_only_routes(anon: httpx.Client) -> None:
    token = anon.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("station-client", "station-s3cret")
    ).json()["access_token"]
    reply = anon.post("/v1/devices", json={"id": "0" * 24}, headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 400
    assert reply.json()["error"] == "unauthorized"


def test_api_user_without_the_scope_gets_400_unauthorized(server: EmulatorServer, anon: httpx.Client) -> None:
    token = server.add_api_user(PRODUCT, ["devices:list"])
    headers = {"Authorization": f"Bearer {token}"}
    assert anon.get(f"/v1/products/{PRODUCT}/devices", headers=headers).status_code == 200
    refused = anon.post(f"/v1/products/{PRODUCT}/devices", json={"id": "0" * 24}, headers=headers)
    assert refused.status_code == 400
    assert refused.json()["error"] == "unauthorized"


def test_api_user_created_over_the_team_route_gets_a_never_expiring_token(api: httpx.Client) -> None:
    reply = api.post(f"/v1/products/{PRODUCT}/team", json={"friendly_name": "station", "scopes": ["devices:list"]})
    created = reply.json()["created"]
    assert created["is_programmatic"] is True
    token = created["tokens"][0]["token"]
    info = api.get("/v1/access_tokens/current", headers={"Authorization": f"Bearer {token}"}).json()
    assert info["expires_at"] is None
    team = api.get(f"/v1/products/{PRODUCT}/team").json()["team"]
    assert created["username"] in [m["username"] for m in team]


def test_changing_api_user_scopes_replaces_its_token(api: httpx.Client) -> None:
    created = api.post(
        f"/v1/products/{PRODUCT}/team", json={"friendly_name": "station", "scopes": ["devices:list"]}
    ).json()["created"]
    old = created["tokens"][0]["token"]
    updated = api.put(f"/v1/products/{PRODUCT}/team/{created['username']}", json={"scopes": ["devices:import"]})
    new = updated.json()["updated"]["tokens"][0]["token"]
    assert api.get("/v1/user", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    imported = api.post(
        f"/v1/products/{PRODUCT}/devices", json={"id": "0" * 24}, headers={"Authorization": f"Bearer {new}"}
    )
    assert imported.status_code == 200
