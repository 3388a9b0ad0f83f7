"""The API's wire conventions: error bodies with Particle's exact texts, JSON replies, timestamps, request params."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

# Exact texts from Particle's node-oauth2-server and the docs.particle.io Cloud API; Particle's CLI and its e2e tests
# (particle-cli test/e2e/*.e2e.js) match on several of them.
TOKEN_NOT_FOUND = "The access token was not found"
TOKEN_INVALID = "The access token provided is invalid."
TOKEN_EXPIRED = "The access token provided has expired."
MALFORMED_AUTH = "Malformed auth header"
ONE_AUTH_METHOD = "Only one method may be used to authenticate at a time (Auth header, GET or POST)."
DEVICE_NOT_IN_PRODUCT = "Device not found for this product"
BELONGS_TO_SOMEONE_ELSE = "That belongs to someone else."
CLAIM_DEVICE_NOT_FOUND = "device not found"
PERMISSION_DENIED = "Permission Denied"
UNKNOWN_DEVICE_INFO = (
    "I didn't recognize that device name or ID, try opening https://api.particle.io/v1/devices?access_token="
)


class ApiError(Exception):
    """A request the API refuses: carries the status, the JSON body and any extra headers of the reply."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def oauth_error(status: int, error: str, description: str, headers: dict[str, str] | None = None) -> ApiError:
    return ApiError(status, {"error": error, "error_description": description}, headers)


def bad_request(description: str, error: str = "invalid_request") -> ApiError:
    return oauth_error(400, error, description)


def unauthorized_scope(description: str) -> ApiError:
    # docs.particle.io Cloud API ('Errors - API users'): "a standard 400 unauthorized error" for a missing scope.
    return oauth_error(400, "unauthorized", description)


def product_not_found(ref: str) -> ApiError:
    # 404 with the text "Permission denied" (particle-cli 3.49.2 test/e2e/product.e2e.js); which key carries it is
    # unconfirmed, so both do.
    return ApiError(
        404,
        {
            "ok": False,
            "error": "Permission denied",
            "error_description": f"Permission denied: product {ref!r} does not exist or this token cannot see it",
        },
    )


def device_permission_denied() -> ApiError:
    return ApiError(403, {"ok": False, "error": PERMISSION_DENIED, "info": UNKNOWN_DEVICE_INFO})


def not_found(what: str) -> ApiError:
    return ApiError(404, {"ok": False, "error": f"{what} not found", "error_description": f"{what} not found"})


def iso(timestamp: float | None) -> str | None:
    """ISO-8601 UTC with milliseconds, as the API writes every timestamp (docs.particle.io Cloud API examples)."""
    if timestamp is None:
        return None
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def reply(body: Any, status: int = 200) -> web.Response:
    """A JSON reply; every 2xx except 204 carries JSON, because particle-api-js fails on an empty 200."""
    return web.json_response(body, status=status)


def no_content() -> web.Response:
    return web.Response(status=204)


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


@dataclass
class Params:
    """A request's parameters from a JSON, form-encoded or multipart body, merged over its query string."""

    fields: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    body_kind: str = "none"
    body_has_access_token: bool = False

    def has(self, name: str) -> bool:
        return name in self.fields or f"{name}[]" in self.fields

    def text(self, name: str) -> str | None:
        value = self.fields.get(name)
        if value is None:
            return None
        if isinstance(value, list):
            value = value[-1] if value else None
        return None if value is None else str(value)

    def flag(self, name: str) -> bool | None:
        value = self.fields.get(name)
        if value is None or isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise bad_request(f"{name} must be true or false, got {value!r}")

    def strings(self, name: str) -> list[str] | None:
        """A list parameter: a JSON array, repeated form keys ``name`` or ``name[]``, or a comma list."""
        value = self.fields.get(name, self.fields.get(f"{name}[]"))
        if value is None:
            return None
        if isinstance(value, list):
            return [str(v) for v in value]
        return [part for part in str(value).split(",") if part]

    def raw(self, name: str) -> Any:
        return self.fields.get(name)


async def read_params(request: web.Request) -> Params:
    """Parse the body by its content type; form and multipart fields keep every value of a repeated key."""
    params = Params()
    for key in request.query:
        values = request.query.getall(key)
        params.fields[key] = values if len(values) > 1 or key.endswith("[]") else values[0]
    if not request.body_exists:
        return params
    content_type = request.content_type
    if content_type == "application/json":
        params.body_kind = "json"
        raw = await request.read()
        if not raw.strip():
            return params
        try:
            body = json.loads(raw)
        except ValueError:
            raise bad_request("The request body is not valid JSON; send a JSON object") from None
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object")
        params.body_has_access_token = "access_token" in body
        params.fields.update(body)
        return params
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        params.body_kind = "multipart" if content_type == "multipart/form-data" else "form"
        form = await request.post()
        for key in form:
            texts: list[str] = []
            for value in form.getall(key):
                if isinstance(value, web.FileField):
                    params.files[key] = value.file.read()
                else:
                    texts.append(str(value))
            if texts:
                params.fields[key] = texts if len(texts) > 1 or key.endswith("[]") else texts[0]
        params.body_has_access_token = "access_token" in form
        return params
    await request.read()
    params.body_kind = "other"
    return params
