"""Injectable faults: added latency, a seeded share of 5xx replies, dropped connections and bursts of 429."""

from __future__ import annotations

import enum
import random
import threading
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class FaultSettings:
    latency_ms: float = 0.0
    """Added before every API request is handled."""
    error_rate: float = 0.0
    """Share of API requests answered 503 before they change anything."""
    drop_rate: float = 0.0
    """Share of API requests whose connection is closed without a reply, before they change anything."""
    lost_reply_rate: float = 0.0
    """Share of API requests that are carried out and then lose their reply (tests a client's idempotency)."""
    burst_429: int = 0
    """The next N API requests are refused with 429."""
    rate_limit: int | None = None
    """Requests per 5 minutes per IP on all routes; None = the real API's 10,000."""
    methods: tuple[str, ...] = ()
    """The HTTP methods the drops, 5xx and lost replies hit (e.g. ``("POST",)``: only writes); empty = every method."""

    def __post_init__(self) -> None:
        for name in ("error_rate", "drop_rate", "lost_reply_rate"):
            share = getattr(self, name)
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {share}")
        if self.latency_ms < 0 or self.burst_429 < 0:
            raise ValueError("latency_ms and burst_429 cannot be negative")
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError(f"rate_limit must be at least 1, got {self.rate_limit}")

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "methods": list(self.methods)}

    @classmethod
    def from_json(cls, body: dict[str, Any], base: FaultSettings) -> FaultSettings:
        """``base`` with the fields present in ``body`` replaced; unknown fields are an error."""
        known = {f.name for f in fields(cls)}
        unknown = set(body) - known
        if unknown:
            raise ValueError(f"unknown fault fields {sorted(unknown)}; known: {sorted(known)}")
        merged = {**asdict(base), **body}
        return cls(
            latency_ms=float(merged["latency_ms"]),
            error_rate=float(merged["error_rate"]),
            drop_rate=float(merged["drop_rate"]),
            lost_reply_rate=float(merged["lost_reply_rate"]),
            burst_429=int(merged["burst_429"]),
            rate_limit=None if merged["rate_limit"] is None else int(merged["rate_limit"]),
            methods=tuple(str(method).upper() for method in merged["methods"]),
        )


class Fault(enum.Enum):
    NONE = "none"
    DROP = "drop"
    SERVER_ERROR = "server_error"
    TOO_MANY = "too_many"
    LOSE_REPLY = "lose_reply"


class FaultInjector:
    """Decides, request by request and reproducibly from a seed, which fault (if any) hits it."""

    def __init__(self, seed: int = 0) -> None:
        self._random = random.Random(seed)
        self._settings = FaultSettings()
        self._burst_left = 0
        self._lock = threading.Lock()

    @property
    def settings(self) -> FaultSettings:
        with self._lock:
            return FaultSettings(**{**asdict(self._settings), "burst_429": self._burst_left})

    def configure(self, settings: FaultSettings) -> None:
        with self._lock:
            self._settings = settings
            self._burst_left = settings.burst_429

    def choose(self, method: str = "GET") -> Fault:
        with self._lock:
            if self._burst_left > 0:
                self._burst_left -= 1
                return Fault.TOO_MANY
            settings = self._settings
            # One draw per kind, always made, so the sequence of faults depends only on the seed and settings.
            drop, error, lose = self._random.random(), self._random.random(), self._random.random()
            if settings.methods and method.upper() not in settings.methods:
                return Fault.NONE
            if drop < settings.drop_rate:
                return Fault.DROP
            if error < settings.error_rate:
                return Fault.SERVER_ERROR
            if lose < settings.lost_reply_rate:
                return Fault.LOSE_REPLY
            return Fault.NONE
