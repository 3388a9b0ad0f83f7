"""``ParticleCloud``: the synchronous Particle Cloud API client, one typed method per endpoint the station uses."""

from __future__ import annotations

import dataclasses
import random
import socket
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType

import httpx

from cloud_client.auth import OAuthTokenSource, token_source_for
from cloud_client.calls import ProductRef, product_path
from cloud_client.claims import ClaimCalls
from cloud_client.credentials import Credentials
from cloud_client.devices import ProductDeviceCalls
from cloud_client.errors import InvalidResponseError
from cloud_client.fleet import FleetCalls
from cloud_client.models import Product
from cloud_client.protection import ProtectionCalls
from cloud_client.retry import RetryPolicy
from cloud_client.session import ApiSession
from cloud_client.sims import SimCalls
from cloud_client.token_memory import TokenMemory

DEFAULT_TIMEOUT_S = 30.0
USER_AGENT = "particle-station cloud_client"


class ParticleCloud(ProductDeviceCalls, ClaimCalls, SimCalls, FleetCalls, ProtectionCalls):
    """The Particle Cloud API for one account or product.

    Every method retries 429, 5xx, timeouts and dropped connections with capped, jittered exponential back-off,
    renews an OAuth token once on 401, and raises a ``CloudError`` subclass naming the operation otherwise.
    Repeating any method is safe: "already in this product" and "already claimed by this account" are success.
    Safe to share between threads.

    ``token_memory`` (a file, e.g. in the station's log folder) remembers refused client secrets and token-endpoint
    lock-outs across restarts. ``clock``, ``sleep`` and ``rng`` are seams for tests; ``http`` (not closed by
    ``close``) or ``transport`` replace the network.
    """

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        http: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        token_memory: TokenMemory | Path | str | None = None,
        on_request: Callable[[], object] | None = None,
    ) -> None:
        """``on_request``: called as each HTTP request goes out (retries and token requests included), e.g. to
        count the requests against Particle's per-IP limit; settable later as the ``on_request`` attribute."""
        policy = retry or RetryPolicy()
        if max_retries is not None:
            policy = dataclasses.replace(policy, max_retries=max_retries)
        self._owns_http = http is None
        if http is None and transport is None:
            # Without TCP_NODELAY, a request written as headers then body can stall on Nagle's algorithm meeting
            # the server's delayed ACK (tens of ms per multipart import batch).
            transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        self._http = http or httpx.Client(
            base_url=base_url.rstrip("/"), timeout=timeout, transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )
        self.base_url = str(self._http.base_url).rstrip("/")
        self.on_request = on_request
        self._http.event_hooks["request"].append(self._request_sent)
        self._credentials = credentials
        self._session = ApiSession(self._http, policy=policy, sleep=sleep, rng=rng)
        memory = token_memory if isinstance(token_memory, TokenMemory | None) else TokenMemory(token_memory)
        self._tokens = token_source_for(self._session, credentials, clock=clock, memory=memory)
        self._customer_tokens: dict[str, OAuthTokenSource] = {}
        self._customer_lock = threading.Lock()

    def _request_sent(self, _request: httpx.Request) -> None:
        if self.on_request is not None:
            self.on_request()

    def __repr__(self) -> str:
        return f"ParticleCloud(base_url={self.base_url!r}, credentials from {self._credentials.source!r})"

    @property
    def uses_oauth_client(self) -> bool:
        """True when the station gets product tokens from an OAuth client (id + secret), not a given token."""
        return self._credentials.is_oauth_client

    @property
    def credentials_source(self) -> str:
        """Where the credentials came from (e.g. ``env:PARTICLE``); never the secret."""
        return self._credentials.source

    def retries_at_most(self, count: int) -> AbstractContextManager[None]:
        """Within the ``with`` block, calls made by this thread retry a 5xx, 429, time-out or dropped connection at
        most ``count`` times instead of the policy's (0: the first such failure is raised at once). For a caller on
        a critical path with a queue of its own to hand the work to."""
        return self._session.retries_at_most(count)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> ParticleCloud:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def get_product(self, product: ProductRef) -> Product:
        """The product's id, slug, name, platform and settings (``device_protection`` among them); NotFoundError for
        an unknown id or slug."""
        what = f"get product {product}"
        reply = self._call_object(what, "GET", product_path(product))
        inner = reply.get("product")
        if not isinstance(inner, dict):
            raise InvalidResponseError(f"{what}: the reply has no 'product' object; try again, and report it if it "
                                       "persists", operation=what)
        return Product.from_json(inner)
