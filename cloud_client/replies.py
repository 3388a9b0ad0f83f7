"""Reads the API's replies: the JSON body, the API's error text, and the CloudError each failed reply maps to."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cloud_client.errors import (
    AuthError,
    ClaimedElsewhereError,
    CloudError,
    ConflictError,
    DeviceProtectedError,
    ForbiddenError,
    InvalidCredentialsError,
    InvalidInputError,
    InvalidResponseError,
    NotFoundError,
    RateLimitedError,
    ScopeRefusedError,
    UnavailableError,
)

_MAX_TEXT = 200
CLAIMED_ELSEWHERE_TEXT = "belongs to someone else"
DEVICE_PROTECTION_DENIED_TEXT = "device protection active"
"""In the cloud's refusal of an ad-hoc flash of a Protected Device, "Update denied - device protection active"
(particle-cli test/e2e/flash-protected.e2e.js); its HTTP status is unconfirmed, so the text decides."""
_AUTH_CODES = frozenset({"invalid_token", "mfa_required", "sso_user"})
_CREDENTIAL_CODES = frozenset({"invalid_client", "invalid_grant"})

JsonObject = dict[str, Any]


def parse_json(text: str) -> object | None:
    """The body as JSON, or None when it is empty or not JSON."""
    if not text.strip():
        return None
    try:
        return json.loads(text)  # type: ignore[no-any-return]
    except ValueError:
        return None


def error_code(body: object) -> str:
    """The machine-readable ``error`` key of an error body (e.g. ``invalid_token``), or ``""``."""
    if isinstance(body, Mapping):
        code = body.get("error")
        if isinstance(code, str):
            return code
    return ""


def api_message(body: object, text: str = "") -> str:
    """The API's human text, read as Particle's CLI does: ``error_description``, ``error``, ``errors``, ``info``."""
    if isinstance(body, Mapping):
        for key in ("error_description", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return _short(value)
        errors = body.get("errors")
        if isinstance(errors, list):
            texts = [str(item) for item in errors if isinstance(item, str | int | float)]
            if texts:
                return _short("; ".join(texts))
        info = body.get("info")
        if isinstance(info, str) and info:
            return _short(info)
        return ""
    return _short(text) if body is None and text and not text.lstrip().startswith("<") else ""


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def error_for_reply(operation: str, status: int, body: object, text: str = "") -> CloudError:
    """The CloudError for a non-2xx reply (after any retries), with a message saying what to do."""
    message = api_message(body, text)
    code = error_code(body)
    said = f"Particle said: {message}" if message else "no explanation in the reply"
    lowered = message.lower()

    def make(cls: type[CloudError], what: str, advice: str) -> CloudError:
        return cls(f"{operation}: {what} (HTTP {status}, {said}); {advice}",
                   operation=operation, status=status, api_message=message)

    if code in _CREDENTIAL_CODES:
        return make(InvalidCredentialsError, "the OAuth client credentials were refused",
                    "check the station's client id and secret; the client will not ask again with them")
    if status == 401 or code in _AUTH_CODES or (code == "invalid_request" and "access token" in lowered):
        return make(AuthError, "the access token was refused",
                    "check the station's Particle credentials (the token may be expired or revoked)")
    if DEVICE_PROTECTION_DENIED_TEXT in lowered:
        return make(DeviceProtectedError, "the device is a Protected Device and the cloud refuses to update it",
                    "release the firmware in the product, or put the device in Service Mode "
                    "(particle-station protection disable) and flash it over USB")
    if code == "unauthorized":
        return make(ScopeRefusedError, "these credentials may not do that",
                    "give the station's API user the scope this operation needs")
    if status == 403:
        if CLAIMED_ELSEWHERE_TEXT in lowered:
            return make(ClaimedElsewhereError, "the device belongs to another account",
                        "ask its owner to release it, or claim it with a transfer request")
        return make(ForbiddenError, "this account may not do that",
                    "check that the product and device belong to this account and the token has the needed scope")
    if status == 404 or (status == 400 and "not found" in lowered):
        return make(NotFoundError, "it was not found", "check the product, id or serial number")
    if status == 409:
        return make(ConflictError, "it conflicts with the current state in the cloud", "check it in the console")
    if status == 429:
        return make(RateLimitedError, "the API is rate limiting this station",
                    "wait a few minutes before trying again and lower the station's request rate")
    if status == 408 or status >= 500:
        return make(UnavailableError, "the Particle Cloud could not complete the request",
                    "check status.particle.io and the network, then try again")
    if 400 <= status < 500:
        return make(InvalidInputError, "the request was rejected", "check the values sent")
    return make(InvalidResponseError, "the reply has an unexpected status", "report this to the station's maintainer")


def error_for_exception(operation: str, exc: BaseException, attempts: int) -> UnavailableError:
    """The error for a request that never got a reply: timeout, refused or dropped connection."""
    kind = type(exc).__name__
    return UnavailableError(
        f"{operation}: no reply from the Particle Cloud after {attempts} attempt(s) ({kind}); "
        "check the station's network connection and status.particle.io, then try again",
        operation=operation,
    )


def require_object(operation: str, status: int, body: object) -> JsonObject:
    """The reply body as a JSON object, or InvalidResponseError (particle-api-js also fails on these)."""
    if not isinstance(body, dict):
        raise InvalidResponseError(
            f"{operation}: the reply (HTTP {status}) is not a JSON object; the API or a proxy in between "
            "answered something unexpected. Try again, and report it if it persists",
            operation=operation, status=status,
        )
    return body
