"""Particle API requests per minute, for the line database's ``stations.api_requests`` (the dashboard adds up the
line's rate against the per-IP budget that stations behind one NAT share: 10,000 requests per 5 minutes,
docs.particle.io "API rate limits")."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

KEEP_MINUTES = 60


class ApiMeter:
    """Counts requests by the minute they started in; keeps the last hour. ``record`` fits an httpx request hook."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._minutes: dict[int, int] = {}

    def record(self, *_request: object) -> None:
        minute = int(self._clock() // 60 * 60)
        with self._lock:
            self._minutes[minute] = self._minutes.get(minute, 0) + 1
            for old in [m for m in self._minutes if m < minute - KEEP_MINUTES * 60]:
                del self._minutes[old]

    def snapshot(self) -> dict[str, int]:
        """``{"<minute start, epoch seconds>": count}``, the shape stored in ``stations.api_requests``."""
        with self._lock:
            return {str(minute): count for minute, count in sorted(self._minutes.items())}
