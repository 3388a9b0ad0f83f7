"""Sends one API request: bearer token, one refresh on 401, retries with back-off, redacted logging, error mapping."""

from __future__ import annotations

import contextlib
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

import httpx

from cloud_client.replies import JsonObject, error_for_exception, error_for_reply, parse_json, require_object
from cloud_client.retry import RATE_LIMITED, RetryPolicy, is_retryable_status, parse_retry_after

log = logging.getLogger("cloud_client.http")

_TOKEN_IN_PATH = re.compile(r"(/access_tokens/)(?!current\b)[^/?]+")
_TOKEN_IN_QUERY = re.compile(r"(access_token=)[^&]*")


def redact_path(path: str) -> str:
    """The path as it may be logged: a token in ``/access_tokens/<token>`` or ``?access_token=`` is masked."""
    return _TOKEN_IN_QUERY.sub(r"\1***", _TOKEN_IN_PATH.sub(r"\1***", path))


class TokenSource(Protocol):
    """Gives the bearer token for API calls."""

    def token(self) -> str:
        """The token to send now (fetching one if needed)."""
        ...

    def invalidate(self, token: str) -> bool:
        """Forget ``token`` after a 401; True when a fresh one can be fetched, so the request is worth repeating."""
        ...


@dataclass(frozen=True)
class Reply:
    """A successful (or explicitly accepted) reply."""

    status: int
    body: object | None
    headers: httpx.Headers
    content: bytes
    operation: str

    def json_object(self) -> JsonObject:
        return require_object(self.operation, self.status, self.body)


class ApiSession:
    """The one place that talks HTTP to the Particle Cloud; every endpoint method goes through ``request``."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        policy: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.http = http
        self.policy = policy
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._local = threading.local()

    @contextlib.contextmanager
    def retries_at_most(self, count: int) -> Iterator[None]:
        """Within the block, requests made by this thread retry at most ``count`` times (never more than the
        policy): a caller with a queue of its own hands a failing call to it instead of waiting out the back-off."""
        if count < 0:
            raise ValueError("retries cannot be negative")
        previous: int | None = getattr(self._local, "max_retries", None)
        self._local.max_retries = count if previous is None else min(count, previous)
        try:
            yield
        finally:
            self._local.max_retries = previous

    def _max_retries(self) -> int:
        limit: int | None = getattr(self._local, "max_retries", None)
        return self.policy.max_retries if limit is None else min(limit, self.policy.max_retries)

    def request(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        tokens: TokenSource | None,
        basic: tuple[str, str] | None = None,
        params: Mapping[str, str | int] | None = None,
        json: object = None,
        data: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        accept: Collection[int] = (),
        retry_rate_limits: bool = True,
        rate_limit_retries: int | None = None,
    ) -> Reply:
        """Send until a final reply; return it when 2xx or in ``accept``, else raise the mapped CloudError.

        ``operation`` describes the call for messages and logs ("import 1000 devices into product 1234").
        ``rate_limit_retries`` caps the retries of 429 replies (within ``policy.max_retries``).
        """
        shown = f"{method} {redact_path(path)}"
        token = tokens.token() if tokens is not None else None
        refreshed = False
        retries = 0
        rate_limited_retries = 0
        max_retries = self._max_retries()
        while True:
            started = time.perf_counter()
            log.debug("%s: %s (attempt %d)", operation, shown, retries + 1)
            try:
                response = self.http.request(
                    method,
                    path,
                    params=params,
                    json=json,
                    data=data,
                    files=files,
                    headers={"Authorization": f"Bearer {token}"} if token is not None else None,
                    auth=basic if basic is not None else httpx.USE_CLIENT_DEFAULT,
                )
            except httpx.TransportError as exc:
                if retries >= max_retries:
                    raise error_for_exception(operation, exc, retries + 1) from exc
                retries += 1
                self._wait(operation, shown, f"no reply ({type(exc).__name__})", retries, max_retries,
                           rate_limited=False)
                continue
            status = response.status_code
            log.debug("%s: %s -> %d in %.1f ms", operation, shown, status, (time.perf_counter() - started) * 1000)
            if status == 401 and tokens is not None and token is not None and not refreshed:
                refreshed = True
                if tokens.invalidate(token):
                    log.info("%s: the access token was refused; fetching a new one and trying once more", operation)
                    token = tokens.token()
                    continue
            rate_limited = status == RATE_LIMITED
            may_retry = not rate_limited or (
                retry_rate_limits and (rate_limit_retries is None or rate_limited_retries < rate_limit_retries))
            if is_retryable_status(status) and may_retry and retries < max_retries:
                retries += 1
                rate_limited_retries += rate_limited
                retry_after = parse_retry_after(response.headers.get("Retry-After")) if rate_limited else None
                self._wait(operation, shown, f"HTTP {status}", retries, max_retries, rate_limited=rate_limited,
                           retry_after=retry_after)
                continue
            body = parse_json(response.text) if response.content else None
            if 200 <= status < 300 or status in accept:
                return Reply(status, body, response.headers, response.content, operation)
            raise error_for_reply(operation, status, body, response.text)

    def _wait(
        self, operation: str, shown: str, why: str, retry_number: int, max_retries: int, *, rate_limited: bool,
        retry_after: float | None = None,
    ) -> None:
        delay = self.policy.delay(retry_number, rate_limited=rate_limited, rng=self._rng, retry_after=retry_after)
        log.warning("%s: %s gave %s; retry %d of %d in %.2f s", operation, shown, why, retry_number,
                    max_retries, delay)
        self._sleep(delay)
