"""The aiohttp application: routes, and the middleware that applies faults and rate limits and keeps errors JSON."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from cloud_client.emulator import (
    admin,
    protection,
    routes_auth,
    routes_devices,
    routes_fleet,
    routes_people,
    routes_products,
    routes_sims,
)
from cloud_client.emulator.cloud import EmulatedCloud
from cloud_client.emulator.faults import Fault
from cloud_client.emulator.keys import CLOUD
from cloud_client.emulator.wire import ApiError

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

MAX_BODY_BYTES = 32 * 1024 * 1024
"""Large enough for any product firmware upload."""
_TOKEN_ADMIN_ROUTES = {("GET", "/v1/access_tokens"), ("POST", "/v1/users"), ("DELETE", "/v1/user")}
# Particle documents no 429 body or headers (unconfirmed); this is its OAuth library's rate_limit_exceeded error,
# in JSON because the CLI prints error_description. No Retry-After header: the real API sends none either.
_RATE_LIMITED = {"error": "rate_limit_exceeded", "error_description": "Rate limit exceeded."}


def _json_error(exc: ApiError) -> web.Response:
    return web.json_response(exc.body, status=exc.status, headers=exc.headers)


def _http_error(request: web.Request, exc: web.HTTPException) -> web.Response:
    # aiohttp's own 404/405/413 are text; Particle's clients read JSON error bodies only (particle-api-js src/Agent.js).
    text = f"{exc.reason}: {request.method} {request.path}"
    return web.json_response({"ok": False, "error": exc.reason, "error_description": text}, status=exc.status)


def _too_many(description: str = "Rate limit exceeded.") -> web.Response:
    return web.json_response({**_RATE_LIMITED, "error_description": description}, status=429)


def _drop(request: web.Request) -> web.Response:
    """Close the TCP connection without a reply; aiohttp then fails to write the placeholder and moves on."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=499)


def _limit_refusal(cloud: EmulatedCloud, request: web.Request) -> web.Response | None:
    ip, now, path = request.remote or "unknown", cloud.now(), request.path
    limits = cloud.limits
    if path == "/oauth/token" and limits.lockout.blocked(ip, now):
        # The lockout's body is undocumented (docs.particle.io, 'API rate limits'): a 429 in the OAuth shape the CLI
        # can print.
        return _too_many("Too many failed token requests from this address; it is blocked for 30 minutes.")
    if not limits.general.admit(ip, now):
        return _too_many()
    if path == "/oauth/token" and not limits.oauth.admit(ip, now):
        return _too_many()
    is_token_admin = (request.method, path) in _TOKEN_ADMIN_ROUTES or (
        request.method == "DELETE" and path.startswith("/v1/access_tokens/") and path != "/v1/access_tokens/current"
    )
    if is_token_admin and not limits.token_admin.admit(ip, now):
        return _too_many()
    return None


async def _handle(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return _json_error(exc)
    except web.HTTPException as exc:
        return _http_error(request, exc)
    except Exception:
        log.exception("emulator: unhandled error on %s %s", request.method, request.path)
        body = {"ok": False, "error": "internal_error", "error_description": "The emulator failed; see its log"}
        return web.json_response(body, status=500)


async def _serve_api(cloud: EmulatedCloud, request: web.Request, handler: Handler) -> tuple[web.StreamResponse, int]:
    """The reply and the status to log (0 for a dropped connection); faults and limits act before the handler."""
    latency_ms = cloud.faults.settings.latency_ms
    if latency_ms > 0:
        await asyncio.sleep(latency_ms / 1000.0)
    fault = cloud.faults.choose(request.method)
    if fault is Fault.DROP:
        return _drop(request), 0
    if fault is Fault.TOO_MANY:
        return _too_many(), 429
    if fault is Fault.SERVER_ERROR:
        body = {"ok": False, "error": "service_unavailable", "error_description": "Injected fault: try again later"}
        return web.json_response(body, status=503), 503
    refusal = _limit_refusal(cloud, request)
    if refusal is not None:
        return refusal, refusal.status
    response = await _handle(request, handler)
    cloud.save_if_changed()
    if fault is Fault.LOSE_REPLY:
        return _drop(request), 0
    return response, response.status


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    cloud = request.app[CLOUD]
    if request.path.startswith(admin.ADMIN_PREFIX):
        return await _handle(request, handler)
    status = 0
    try:
        response, status = await _serve_api(cloud, request, handler)
        return response
    finally:
        cloud.record_request(request.method, request.path, status)


def build_app(cloud: EmulatedCloud) -> web.Application:
    """The emulator's aiohttp application serving ``cloud``."""
    app = web.Application(middlewares=[api_middleware], client_max_size=MAX_BODY_BYTES)
    app[CLOUD] = cloud
    admin.register(app)
    routes_auth.register(app)
    routes_products.register(app)
    routes_fleet.register(app)
    routes_people.register(app)
    routes_devices.register(app)
    routes_sims.register(app)
    protection.register(app)
    return app
