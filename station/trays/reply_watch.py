"""Which cloud requests may have been carried out although their reply never came: the tray import's honesty check.

The cloud client retries a request whose reply was lost (a dropped connection after the request went out, a read
time-out, a gateway error). For an import that is safe, but the retry finds the ids the first try added already in the
product and says "existing" (docs.particle.io, 'Import devices into product': ``existingDeviceIds``). The import
cannot tell those from ids that were there before, so it must not call them "already in the product". This transport
sits under the client's HTTP connection and records every request whose outcome is unknown.
"""

from __future__ import annotations

import socket
import threading

import httpx

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Failures before the request went out: the cloud never saw it."""
_MAYBE_DONE_STATUSES = frozenset({500, 502, 504})
"""Replies from a server or gateway that may have failed after the request was carried out (503 and 429 are
refusals: nothing was done)."""


class ReplyWatch(httpx.BaseTransport):
    """An HTTP transport that counts, per method and path, the requests that may have been carried out unanswered.

    Give it to the client (``ParticleCloud(..., transport=watch)``) and compare ``unanswered(...)`` before and after a
    call."""

    def __init__(self, inner: httpx.BaseTransport | None = None) -> None:
        # The client's own default: without TCP_NODELAY a multipart import batch can stall on Nagle's algorithm.
        self._inner = inner or httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        self._lock = threading.Lock()
        self._unanswered: dict[tuple[str, str], int] = {}

    def unanswered(self, method: str, path_suffix: str) -> int:
        """How many ``method`` requests to a path ending ``path_suffix`` got no trustworthy reply so far."""
        with self._lock:
            return sum(count for (m, path), count in self._unanswered.items()
                       if m == method and path.endswith(path_suffix))

    def _count(self, request: httpx.Request) -> None:
        key = (request.method, request.url.path)
        with self._lock:
            self._unanswered[key] = self._unanswered.get(key, 0) + 1

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = self._inner.handle_request(request)
        except _NOT_SENT:
            raise
        except httpx.TransportError:
            self._count(request)
            raise
        if response.status_code in _MAYBE_DONE_STATUSES:
            self._count(request)
        return response

    def close(self) -> None:
        self._inner.close()
