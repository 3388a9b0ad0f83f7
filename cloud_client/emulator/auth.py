"""Who is calling: finds the request's access token, checks it, and decides which products and scopes it reaches."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from aiohttp import web

from cloud_client.emulator.cloud import EmulatedCloud
from cloud_client.emulator.state import Product, Token, TokenKind
from cloud_client.emulator.wire import (
    MALFORMED_AUTH,
    ONE_AUTH_METHOD,
    PERMISSION_DENIED,
    TOKEN_EXPIRED,
    TOKEN_INVALID,
    TOKEN_NOT_FOUND,
    ApiError,
    Params,
    bad_request,
    oauth_error,
    product_not_found,
    unauthorized_scope,
)

_BEARER = re.compile(r"Bearer\s+(\S+)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Caller:
    """The checked token behind a request."""

    token: Token

    @property
    def kind(self) -> TokenKind:
        return self.token.kind

    @property
    def username(self) -> str | None:
        return self.token.username

    @property
    def account(self) -> str:
        """The account a per-account limit is charged to: the user, or the product for product tokens."""
        if self.token.username is not None:
            return f"user:{self.token.username.lower()}"
        return f"product:{self.token.product_id}"


def _token_text(request: web.Request, params: Params) -> str:
    sources: list[str] = []
    header = request.headers.get("Authorization")
    if header is not None:
        match = _BEARER.fullmatch(header.strip())
        if match is None:
            raise bad_request(MALFORMED_AUTH)
        sources.append(match.group(1))
    if "access_token" in request.query:
        sources.append(request.query["access_token"])
    if params.body_has_access_token:
        sources.append(str(params.raw("access_token")))
    if len(sources) > 1:
        raise bad_request(ONE_AUTH_METHOD)
    if not sources:
        raise bad_request(TOKEN_NOT_FOUND)
    return sources[0]


def authenticate(cloud: EmulatedCloud, request: web.Request, params: Params) -> Caller:
    """The caller of an API route; 400 without a token, 401 for an unknown or expired one
    (Particle's node-oauth2-server lib/authorise.js)."""
    text = _token_text(request, params)
    with cloud.state.lock:
        token = cloud.state.tokens.get(text)
    if token is None:
        raise oauth_error(401, "invalid_token", TOKEN_INVALID)
    if token.expired(cloud.now()):
        raise oauth_error(401, "invalid_token", TOKEN_EXPIRED)
    return Caller(token)


def basic_credentials(request: web.Request) -> tuple[str, str] | None:
    """(id, secret) from an HTTP Basic Authorization header, or None when the header is absent or not Basic."""
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    name, sep, secret = decoded.partition(":")
    return (name, secret) if sep else None


def user_of(caller: Caller) -> str:
    """The person behind a user or customer token; product-level tokens cannot call person-only routes."""
    if caller.kind in (TokenKind.USER, TokenKind.CUSTOMER) and caller.username is not None:
        return caller.username
    # docs.particle.io Cloud API ('Errors - API users') gives this text for API users calling a route no API user may
    # call (status unconfirmed: 400).
    raise unauthorized_scope("API users are not allowed to call this endpoint")


def may_see(caller: Caller, product: Product) -> bool:
    if caller.kind in (TokenKind.PRODUCT, TokenKind.API_USER, TokenKind.CUSTOMER):
        return caller.token.product_id == product.id
    name = (caller.username or "").lower()
    return name == product.owner.lower() or name in (m.lower() for m in product.team)


def product_for(
    cloud: EmulatedCloud,
    caller: Caller,
    ref: str,
    scope: str,
    *,
    customer_ok: bool = False,
) -> Product:
    """The product ``ref`` (id or slug) if this caller may use ``scope`` on it.

    A product the caller cannot see gives the same 404 as an unknown one, so a product-scoped client token touching
    another product learns nothing about it (the exact real behaviour is unconfirmed).
    """
    with cloud.state.lock:
        product = cloud.state.product_by_ref(ref)
    if product is None or not may_see(caller, product):
        raise product_not_found(ref)
    if caller.kind is TokenKind.CUSTOMER and not customer_ok:
        raise ApiError(
            403,
            {
                "ok": False,
                "error": PERMISSION_DENIED,
                "error_description": f"a customer token cannot call {scope} on product {product.id}",
            },
        )
    if caller.kind is TokenKind.API_USER and scope not in caller.token.scopes:
        raise unauthorized_scope(
            f"This API user lacks the scope {scope!r}; add it to the API user's scopes in product {product.id}"
        )
    return product


def may_manage_device_of(caller: Caller, owner: str | None) -> bool:
    return owner is not None and caller.username is not None and owner.lower() == caller.username.lower()
