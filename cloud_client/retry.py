"""When to retry a failed API request and how long to wait first: capped exponential back-off with jitter."""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass

import httpx

# Statuses worth another try: 429 changed nothing, 5xx are the service's own trouble (docs.particle.io Cloud API,
# 'API rate limits': delay, then retry).
RATE_LIMITED = 429


def is_retryable_status(status: int) -> bool:
    return status == RATE_LIMITED or 500 <= status <= 599


def is_retryable_exception(exc: BaseException) -> bool:
    """Timeouts, refused or dropped connections and broken replies; not programming errors."""
    return isinstance(exc, httpx.TransportError)


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to retry and how the wait grows.

    Waits use "equal jitter": half of the capped exponential delay, plus a random share of the other half, so
    concurrent stations spread out but never hammer the API with near-zero waits. Particle documents no rate-limit
    headers (docs.particle.io Cloud API, 'API rate limits'), so 429 backs off from a longer base; a ``Retry-After``
    is honoured if one ever appears.
    """

    max_retries: int = 6
    base_delay: float = 0.25
    max_delay: float = 8.0
    rate_limit_base_delay: float = 1.0
    rate_limit_max_delay: float = 30.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries cannot be negative")
        if min(self.base_delay, self.max_delay, self.rate_limit_base_delay, self.rate_limit_max_delay) < 0:
            raise ValueError("retry delays cannot be negative")

    def delay(
        self, retry_number: int, *, rate_limited: bool, rng: random.Random, retry_after: float | None = None
    ) -> float:
        """Seconds to wait before retry ``retry_number`` (1 for the first retry)."""
        if rate_limited and retry_after is not None:
            return min(max(retry_after, 0.0), self.rate_limit_max_delay)
        if rate_limited:
            base, cap = self.rate_limit_base_delay, self.rate_limit_max_delay
        else:
            base, cap = self.base_delay, self.max_delay
        ceiling = min(cap, base * 2.0 ** (retry_number - 1))
        return ceiling / 2 + rng.uniform(0.0, ceiling / 2)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
