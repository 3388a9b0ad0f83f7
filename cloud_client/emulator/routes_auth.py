"""OAuth and token routes: POST /oauth/token with its grants and errors, token info and revocation, GET /v1/user."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from aiohttp import web

from cloud_client.emulator.auth import Caller, authenticate, basic_credentials
from cloud_client.emulator.cloud import REFRESH_TOKEN_LIFETIME_S, EmulatedCloud
from cloud_client.emulator.keys import CLOUD
from cloud_client.emulator.state import DEFAULT_TOKEN_LIFETIME_S, OAuthClient, Token, TokenKind
from cloud_client.emulator.wire import ApiError, Params, bad_request, iso, oauth_error, read_params, reply

PUBLIC_CLIENTS = {
    "CLI2": "client_secret_here",
    "user": "client_secret_here",
    "particle-api": "particle-api",
    "particle": "particle",
}
"""The public OAuth clients Particle's own tools use (particle-cli settings.js, src/lib/api-client.js,
src/cmd/token.js; particle-api-js src/Defaults.js; docs.particle.io Cloud API, 'OAuth clients')."""

_FORM_ONLY = "Method must be POST with application/x-www-form-urlencoded encoding"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_BASIC_REALM = {"WWW-Authenticate": 'Basic realm="Service"'}


class CredentialFailure(ApiError):
    """A token request refused for bad credentials: counts towards the 10-failure lockout
    (docs.particle.io Cloud API, 'API rate limits')."""


def _client_credentials(request: web.Request, params: Params) -> tuple[str, str]:
    # Basic auth is tried first; a Bearer header (the CLI sends its old token) is not Basic, so the form is used.
    basic = basic_credentials(request)
    client_id, secret = basic if basic is not None else (params.text("client_id"), params.text("client_secret"))
    if not client_id:
        raise CredentialFailure(
            400, {"error": "invalid_client", "error_description": "Invalid or missing client_id parameter"}
        )
    if secret is None:
        raise CredentialFailure(
            400, {"error": "invalid_client", "error_description": "Missing client_secret parameter"}
        )
    return client_id, secret


def _check_client(cloud: EmulatedCloud, client_id: str, secret: str) -> OAuthClient:
    if PUBLIC_CLIENTS.get(client_id) == secret:
        return OAuthClient(client_id, secret)
    with cloud.state.lock:
        client = cloud.state.clients.get(client_id)
    if client is None or not secrets.compare_digest(client.secret, secret):
        raise CredentialFailure(
            400, {"error": "invalid_client", "error_description": "Client credentials are invalid"}, _BASIC_REALM
        )
    return client


def _lifetime(params: Params) -> int:
    """Seconds the new token lives (0 = never), from ``expires_in`` or ``expires_at``."""
    expires_at = params.text("expires_at")
    if expires_at:
        try:
            moment = datetime.fromisoformat(expires_at.replace("Z", "+00:00"))
        except ValueError:
            raise bad_request(f"expires_at {expires_at!r} is not an ISO-8601 date") from None
        return max(1, int(moment.timestamp() - datetime.now(moment.tzinfo).timestamp()))
    text = params.text("expires_in")
    if text is None or text == "":
        return DEFAULT_TOKEN_LIFETIME_S
    try:
        seconds = int(text)
    except ValueError:
        raise bad_request(f"expires_in must be a whole number of seconds, got {text!r}") from None
    if seconds < 0:
        raise bad_request("expires_in cannot be negative")
    return seconds


def token_reply(token: Token) -> dict[str, Any]:
    """The OAuth success body: lowercase "bearer"; no refresh_token for a never-expiring token
    (Particle's node-oauth2-server lib/grant.js)."""
    body: dict[str, Any] = {
        "token_type": "bearer",
        "access_token": token.token,
        "expires_in": 0 if token.expires_at is None else round(token.expires_at - token.created_at),
    }
    if token.refresh_token is not None:
        body["refresh_token"] = token.refresh_token
    if token.scopes:
        body["scope"] = " ".join(token.scopes)
    return body


def _password_grant(cloud: EmulatedCloud, client: OAuthClient, params: Params) -> Token | dict[str, Any]:
    username, password = params.text("username"), params.text("password")
    if not username or password is None:
        raise CredentialFailure(
            400,
            {
                "error": "invalid_client",
                "error_description": 'Missing parameters. "username" and "password" are required',
            },
        )
    with cloud.state.lock:
        user = cloud.state.users.get(username.lower())
    if user is None or user.password is None or not secrets.compare_digest(user.password, password):
        raise CredentialFailure(400, {"error": "invalid_grant", "error_description": "User credentials are invalid"})
    if user.mfa_otp is not None:
        mfa_token = secrets.token_urlsafe(24)
        cloud.mfa_pending[mfa_token] = user.username
        return {
            "error": "mfa_required",
            "error_description": "Multi-factor authentication required",
            "mfa_token": mfa_token,
        }
    return cloud.issue_token(TokenKind.USER, client.client_id, username=user.username, expires_in=_lifetime(params))


def _mfa_grant(cloud: EmulatedCloud, client: OAuthClient, params: Params) -> Token:
    username = cloud.mfa_pending.get(params.text("mfa_token") or "")
    with cloud.state.lock:
        user = cloud.state.users.get(username or "")
    if user is None or user.mfa_otp is None or params.text("otp") != user.mfa_otp:
        raise CredentialFailure(
            400, {"error": "invalid_grant", "error_description": "Invalid MFA token or one-time password"}
        )
    cloud.mfa_pending.pop(params.text("mfa_token") or "", None)
    return cloud.issue_token(TokenKind.USER, client.client_id, username=user.username, expires_in=_lifetime(params))


def _client_credentials_grant(cloud: EmulatedCloud, client: OAuthClient, params: Params) -> Token:
    lifetime = _lifetime(params)
    scope = params.text("scope") or ""
    if client.product_id is not None:
        if scope.startswith("customer="):
            email = scope.removeprefix("customer=").lower()
            with cloud.state.lock:
                product = cloud.state.products.get(client.product_id)
                known = product is not None and email in product.customers
            if not known:
                # Real body unconfirmed; invalid_grant is what the OAuth server uses for an unknown subject.
                raise CredentialFailure(
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": f"no customer {email} in product {client.product_id}; create it first",
                    },
                )
            return cloud.issue_token(
                TokenKind.CUSTOMER,
                client.client_id,
                username=email,
                product_id=client.product_id,
                scopes=[scope.lower()],
                expires_in=lifetime,
            )
        return cloud.issue_token(
            TokenKind.PRODUCT, client.client_id, product_id=client.product_id, expires_in=lifetime, with_refresh=False
        )
    if client.owner is not None:
        return cloud.issue_token(TokenKind.USER, client.client_id, username=client.owner, expires_in=lifetime)
    # The public clients have no account to act for (unconfirmed text; node-oauth2-server's unauthorized_client).
    raise oauth_error(400, "unauthorized_client", "The grant type is unauthorised for this client_id")


def _refresh_grant(cloud: EmulatedCloud, client: OAuthClient, params: Params) -> Token:
    wanted = params.text("refresh_token") or ""
    now = cloud.now()
    with cloud.state.lock:
        old = next((t for t in cloud.state.tokens.values() if t.refresh_token and t.refresh_token == wanted), None)
    if old is None or old.client_id != client.client_id or now > old.created_at + REFRESH_TOKEN_LIFETIME_S:
        raise CredentialFailure(400, {"error": "invalid_grant", "error_description": "Invalid refresh token"})
    lifetime = DEFAULT_TOKEN_LIFETIME_S if old.expires_at is None else round(old.expires_at - old.created_at)
    return cloud.issue_token(
        old.kind,
        client.client_id,
        username=old.username,
        product_id=old.product_id,
        scopes=old.scopes,
        expires_in=lifetime,
    )


_GRANTS = {
    "password": _password_grant,
    "urn:custom:mfa-otp": _mfa_grant,
    "client_credentials": _client_credentials_grant,
    "refresh_token": _refresh_grant,
}


async def oauth_token(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    ip = request.remote or "unknown"
    if request.method != "POST" or request.content_type != "application/x-www-form-urlencoded":
        await request.read()
        raise bad_request(_FORM_ONLY)
    params = await read_params(request)
    try:
        grant_type = params.text("grant_type") or ""
        client = _check_client(cloud, *_client_credentials(request, params))
        grant = _GRANTS.get(grant_type)
        if grant is None:
            raise bad_request("Invalid or missing grant_type parameter")
        outcome = grant(cloud, client, params)
    except CredentialFailure:
        cloud.limits.lockout.record(ip, succeeded=False, now=cloud.now())
        raise
    cloud.limits.lockout.record(ip, succeeded=True, now=cloud.now())
    if isinstance(outcome, dict):
        return web.json_response(outcome, status=403, headers=_NO_STORE)
    return web.json_response(token_reply(outcome), headers=_NO_STORE)


async def current_token(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    caller = authenticate(cloud, request, await read_params(request))
    token = caller.token
    # The docs name the client field "client", the ajs12 types "client_id": send both.
    return reply(
        {
            "expires_at": iso(token.expires_at),
            "client": token.client_id,
            "client_id": token.client_id,
            "scopes": list(token.scopes),
            "orgs": [],
        }
    )


async def revoke_current(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    caller = authenticate(cloud, request, await read_params(request))
    _revoke(cloud, caller.token.token)
    return reply({"ok": True})


async def revoke_token(request: web.Request) -> web.Response:
    # The CLI's `token revoke` sends no Authorization header at all (particle-cli src/cmd/token.js via particle-api-js
    # deleteAccessToken): the token in the path suffices.
    cloud = request.app[CLOUD]
    await read_params(request)
    if not _revoke(cloud, request.match_info["token"]):
        # Unconfirmed: the real reply for an unknown token is not documented.
        raise ApiError(404, {"ok": False, "error": "not_found", "error_description": "That token does not exist"})
    return reply({"ok": True})


def _revoke(cloud: EmulatedCloud, value: str) -> bool:
    with cloud.state.lock:
        removed = cloud.state.tokens.pop(value, None)
        if removed is not None:
            cloud.state.changed()
    return removed is not None


async def list_tokens(request: web.Request) -> web.Response:
    # Needs the account's username and password as HTTP Basic auth (the CLI's `token list`).
    cloud = request.app[CLOUD]
    await read_params(request)
    basic = basic_credentials(request)
    with cloud.state.lock:
        user = cloud.state.users.get(basic[0].lower()) if basic else None
        if (
            user is None
            or basic is None
            or user.password is None
            or not secrets.compare_digest(user.password, basic[1])
        ):
            raise oauth_error(401, "invalid_grant", "User credentials are invalid")
        tokens = [t for t in cloud.state.tokens.values() if t.username == user.username]
    return reply([{"token": t.token, "expires_at": iso(t.expires_at), "client": t.client_id} for t in tokens])


async def current_user(request: web.Request) -> web.Response:
    cloud = request.app[CLOUD]
    caller: Caller = authenticate(cloud, request, await read_params(request))
    if caller.username is None:
        raise oauth_error(400, "unauthorized", "A product token has no user; use a user's access token")
    return reply({"username": caller.username, "subscription_ids": [], "account_info": {}, "mfa": {"enabled": False}})


def register(app: web.Application) -> None:
    app.router.add_route("*", "/oauth/token", oauth_token)
    app.router.add_get("/v1/access_tokens/current", current_token, allow_head=False)
    app.router.add_delete("/v1/access_tokens/current", revoke_current)
    app.router.add_get("/v1/access_tokens", list_tokens, allow_head=False)
    app.router.add_delete("/v1/access_tokens/{token}", revoke_token)
    app.router.add_get("/v1/user", current_user, allow_head=False)
