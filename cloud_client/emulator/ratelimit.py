"""Particle's rate limits: sliding windows per IP or account, and the failed-token lockout.

Facts: docs.particle.io Cloud API, 'API rate limits'.
"""

from __future__ import annotations

import threading
from collections import deque

GENERAL_LIMIT = 10_000
"""Requests per GENERAL_WINDOW_S from one IP on all routes (docs.particle.io Cloud API, 'API rate limits')."""
GENERAL_WINDOW_S = 300.0
AUTH_ROUTE_LIMIT = 100
"""Per 5 minutes per IP on /oauth/token and the token/user management routes (docs.particle.io, 'API rate limits')."""
SERIAL_LOOKUP_LIMIT = 50
"""GET /v1/serial_numbers/:sn per hour per user account (docs.particle.io Cloud API, 'API rate limits')."""
SERIAL_LOOKUP_WINDOW_S = 3600.0
LOCKOUT_FAILURES = 10
"""Consecutive failed token requests after which the IP is blocked (docs.particle.io Cloud API, 'API rate limits')."""
LOCKOUT_S = 1800.0


class SlidingWindow:
    """Admits at most ``limit`` events per key in any ``window_s`` seconds; refused events are not counted."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, key: str, now: float) -> bool:
        # Counting only admitted requests means a client that backs off gets through again once the window
        # has moved; whether Particle counts refused ones is not documented.
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window_s:
                events.popleft()
            if len(events) >= self.limit:
                return False
            events.append(now)
            return True

    def reset(self) -> None:
        with self._lock:
            self._events.clear()


class TokenLockout:
    """Blocks an IP for LOCKOUT_S after LOCKOUT_FAILURES failed token requests in a row; a success resets it."""

    def __init__(self, failures: int = LOCKOUT_FAILURES, block_s: float = LOCKOUT_S) -> None:
        self.failures = failures
        self.block_s = block_s
        self._consecutive: dict[str, int] = {}
        self._blocked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def blocked(self, ip: str, now: float) -> bool:
        with self._lock:
            until = self._blocked_until.get(ip)
            if until is None:
                return False
            if now >= until:
                del self._blocked_until[ip]
                self._consecutive.pop(ip, None)
                return False
            return True

    def record(self, ip: str, succeeded: bool, now: float) -> None:
        with self._lock:
            if succeeded:
                self._consecutive.pop(ip, None)
                return
            count = self._consecutive.get(ip, 0) + 1
            self._consecutive[ip] = count
            if count >= self.failures:
                self._blocked_until[ip] = now + self.block_s


class RateLimits:
    """All of the API's limits in one place, so the app checks them before a handler can change anything."""

    def __init__(self, general_limit: int | None = None) -> None:
        self.general = SlidingWindow(general_limit or GENERAL_LIMIT, GENERAL_WINDOW_S)
        self.oauth = SlidingWindow(AUTH_ROUTE_LIMIT, GENERAL_WINDOW_S)
        self.token_admin = SlidingWindow(AUTH_ROUTE_LIMIT, GENERAL_WINDOW_S)
        self.serial_lookup = SlidingWindow(SERIAL_LOOKUP_LIMIT, SERIAL_LOOKUP_WINDOW_S)
        self.lockout = TokenLockout()

    def set_general_limit(self, limit: int | None) -> None:
        self.general.limit = limit or GENERAL_LIMIT
