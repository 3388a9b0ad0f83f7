"""POST /oauth/token: grants, reply shape and the OAuth error bodies (Particle's node-oauth2-server lib/grant.js;
docs.particle.io Cloud API, 'Generate an access token'; the clients particle-cli and particle-api-js send)."""

from __future__ import annotations

import httpx

from cloud_client.emulator import EmulatorServer

from .world import (
    ALICE,
    ALICE_PASSWORD,
    ALICE_TOKEN,
    PRODUCT,
    PRODUCT_CLIENT,
    PRODUCT_SECRET,
)

CLI_CLIENT = {"client_id": "CLI2", "client_secret": "client_secret_here"}


def login(anon: httpx.Client, **extra: str) -> httpx.Response:
    form = {"grant_type": "password", "username": ALICE, "password": ALICE_PASSWORD, **CLI_CLIENT, **extra}
    return anon.post("/oauth/token", data=form)


def test_password_grant_returns_lowercase_bearer_token_valid_for_90_days(anon: httpx.Client) -> None:
    reply = login(anon)
    assert reply.status_code == 200
    body = reply.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 7776000
    assert body["access_token"] and body["refresh_token"]


def test_token_reply_forbids_caching(anon: httpx.Client) -> None:
    reply = login(anon)
    assert reply.headers["Cache-Control"] == "no-store"
    assert reply.headers["Pragma"] == "no-cache"


def test_issued_token_authenticates_api_calls(anon: httpx.Client) -> None:
    token = login(anon).json()["access_token"]
    reply = anon.get("/v1/user", headers={"Authorization": f"Bearer {token}"})
    assert reply.json()["username"] == ALICE


def test_expires_in_zero_gives_a_never_expiring_token_without_refresh_token(anon: httpx.Client) -> None:
    body = login(anon, expires_in="0").json()
    assert body["expires_in"] == 0
    assert "refresh_token" not in body


def test_bearer_header_on_token_route_is_ignored_like_the_cli_sends_it(anon: httpx.Client) -> None:
    form = {"grant_type": "password", "username": ALICE, "password": ALICE_PASSWORD, **CLI_CLIENT}
    reply = anon.post("/oauth/token", data=form, headers={"Authorization": "Bearer stale-old-token"})
    assert reply.status_code == 200


def test_all_public_clients_are_accepted(anon: httpx.Client) -> None:
    for client_id, secret in (
        ("user", "client_secret_here"),
        ("particle-api", "particle-api"),
        ("particle", "particle"),
    ):
        reply = login(anon, client_id=client_id, client_secret=secret)
        assert reply.status_code == 200, client_id


def test_wrong_password_is_invalid_grant_with_the_exact_text(anon: httpx.Client) -> None:
    reply = login(anon, password="wrong")
    assert reply.status_code == 400
    assert reply.json() == {"error": "invalid_grant", "error_description": "User credentials are invalid"}


def test_unknown_client_is_400_invalid_client_with_basic_realm(anon: httpx.Client) -> None:
    reply = login(anon, client_id="nobody", client_secret="x")
    assert reply.status_code == 400
    assert reply.json()["error"] == "invalid_client"
    assert reply.json()["error_description"] == "Client credentials are invalid"
    assert reply.headers["WWW-Authenticate"] == 'Basic realm="Service"'


def test_missing_client_id_is_reported(anon: httpx.Client) -> None:
    reply = anon.post("/oauth/token", data={"grant_type": "password", "username": ALICE, "password": "x"})
    assert reply.json()["error_description"] == "Invalid or missing client_id parameter"


def test_missing_client_secret_is_reported(anon: httpx.Client) -> None:
    reply = anon.post("/oauth/token", data={"grant_type": "password", "client_id": "CLI2"})
    assert reply.json()["error_description"] == "Missing client_secret parameter"


def test_missing_username_is_invalid_client_naming_both_fields(anon: httpx.Client) -> None:
    reply = anon.post("/oauth/token", data={"grant_type": "password", "password": "x", **CLI_CLIENT})
    assert reply.status_code == 400
    assert reply.json()["error_description"] == 'Missing parameters. "username" and "password" are required'


def test_json_body_is_refused_because_the_route_is_form_only(anon: httpx.Client) -> None:
    reply = anon.post("/oauth/token", json={"grant_type": "password", **CLI_CLIENT})
    assert reply.status_code == 400
    assert reply.json()["error_description"] == "Method must be POST with application/x-www-form-urlencoded encoding"


def test_unknown_grant_type_is_invalid_request(anon: httpx.Client) -> None:
    reply = anon.post("/oauth/token", data={"grant_type": "magic", **CLI_CLIENT})
    assert reply.json() == {"error": "invalid_request", "error_description": "Invalid or missing grant_type parameter"}


def test_product_client_credentials_via_basic_auth_give_a_product_token(anon: httpx.Client) -> None:
    reply = anon.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(PRODUCT_CLIENT, PRODUCT_SECRET))
    token = reply.json()["access_token"]
    product = anon.get(f"/v1/products/{PRODUCT}", headers={"Authorization": f"Bearer {token}"})
    assert product.status_code == 200


def test_product_client_credentials_via_form_fields_work_too(anon: httpx.Client) -> None:
    form = {"grant_type": "client_credentials", "client_id": PRODUCT_CLIENT, "client_secret": PRODUCT_SECRET}
    assert anon.post("/oauth/token", data=form).status_code == 200


def test_public_client_cannot_use_client_credentials(anon: httpx.Client) -> None:
    reply = anon.post("/oauth/token", data={"grant_type": "client_credentials", **CLI_CLIENT})
    assert reply.status_code == 400
    assert reply.json()["error"] == "unauthorized_client"


def test_refresh_token_grant_issues_a_new_working_token(anon: httpx.Client) -> None:
    refresh = login(anon).json()["refresh_token"]
    reply = anon.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh, **CLI_CLIENT})
    token = reply.json()["access_token"]
    assert anon.get("/v1/user", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_mfa_user_gets_403_mfa_required_then_completes_with_otp(server: EmulatorServer, anon: httpx.Client) -> None:
    server.add_user("mfa@example.com", "pw", mfa_otp="123456")
    first = anon.post(
        "/oauth/token", data={"grant_type": "password", "username": "mfa@example.com", "password": "pw", **CLI_CLIENT}
    )
    assert first.status_code == 403
    assert first.json()["error"] == "mfa_required"
    otp_form = {"grant_type": "urn:custom:mfa-otp", "mfa_token": first.json()["mfa_token"], "otp": "123456"}
    second = anon.post("/oauth/token", data={**otp_form, **CLI_CLIENT})
    assert second.status_code == 200


def test_ten_consecutive_failures_lock_the_address_out_for_30_minutes(
    server: EmulatorServer, anon: httpx.Client
) -> None:
    for _ in range(10):
        assert login(anon, password="wrong").status_code == 400
    locked = login(anon)
    assert locked.status_code == 429
    assert locked.json()["error"] == "rate_limit_exceeded"
    server.advance_time(30 * 60 + 1)
    assert login(anon).status_code == 200


def test_a_success_resets_the_failure_count(anon: httpx.Client) -> None:
    for _ in range(9):
        login(anon, password="wrong")
    assert login(anon).status_code == 200
    for _ in range(9):
        login(anon, password="wrong")
    assert login(anon).status_code == 200


def test_seeded_token_is_the_first_users(anon: httpx.Client) -> None:
    reply = anon.get("/v1/user", headers={"Authorization": f"Bearer {ALICE_TOKEN}"})
    assert reply.json()["username"] == ALICE
