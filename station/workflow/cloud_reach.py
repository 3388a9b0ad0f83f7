"""Is the cloud reachable at all? One TCP connection to the API's host answers in milliseconds (or within a short
time-out), where an API call to a host that refuses connections spends its whole retry budget (about 12 s of
back-off, one warning per try) before it gives up.

Lot preparation asks once before any cloud call; a unit's cloud work asks before its first call (on the cloud pool,
while the device flashes), so an outage sends the work straight to the outbox instead of onto the unit's critical
path; the outbox worker asks before a round that has work due, the answer cached for ``recheck_s`` seconds.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from collections.abc import Callable
from urllib.parse import urlsplit

from station.errors import StationError

PROBE_TIMEOUT_S = 1.5
"""A connection that has not opened within this time counts as unreachable (a cable out, a firewall dropping)."""
RECHECK_S = 5.0


def probe_target(base_url: str) -> tuple[str, int] | None:
    """The host and port a connection to ``base_url`` opens first: the proxy's when one applies (environment
    variables, as httpx reads them), else the API host's. None when the URL names no host."""
    parts = urlsplit(base_url)
    if not parts.hostname:
        return None
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(parts.hostname):
        proxied = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        if proxied.hostname:
            return proxied.hostname, proxied.port or (443 if proxied.scheme == "https" else 80)
    try:
        port = parts.port
    except ValueError:
        return None
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def checked_cloud_url(text: str, option: str = "--cloud-url") -> str:
    """``text`` when it is an http or https URL with a host (and a valid port); else StationError, one sentence."""
    parts = urlsplit(text.strip())
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or not port_ok:
        raise StationError(f"{option} {text!r} is not a cloud address: give an http or https URL with a host, "
                           "e.g. https://api.particle.io")
    return text.strip()


class CloudReach:
    """Whether the cloud at ``base_url`` accepts connections, probed with one TCP connection (no request, no
    credentials). Safe to share between threads."""

    def __init__(self, base_url: str, *, timeout: float = PROBE_TIMEOUT_S, recheck_s: float = RECHECK_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.recheck_s = recheck_s
        self._clock = clock
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._checked_at = float("-inf")
        self.reason: str | None = None
        """Why the cloud was last found unreachable (one phrase), None while it is reachable."""
        self.probes = 0
        """Connections tried so far (for tests and benchmarks)."""

    def probe(self) -> bool:
        """Open (and close) one connection now; True when it opened."""
        target = probe_target(self.base_url)
        with self._lock:
            self.probes += 1
            self._checked_at = self._clock()
        if target is None:
            return self._found(f"{self.base_url} names no host")
        try:
            with socket.create_connection(target, timeout=self.timeout):
                pass
        except OSError as exc:
            what = "refused the connection" if isinstance(exc, ConnectionRefusedError) else (
                f"did not answer within {self.timeout:g} s" if isinstance(exc, TimeoutError) else str(exc))
            return self._found(f"{target[0]}:{target[1]} {what}")
        return self._found(None)

    def reachable(self) -> bool:
        """The last answer, checked again when it is older than ``recheck_s``."""
        with self._lock:
            down = self._down_since is not None
            due = self._clock() - self._checked_at >= self.recheck_s
        if due:
            return self.probe()
        return not down

    def _found(self, reason: str | None) -> bool:
        with self._lock:
            if reason is None:
                self._down_since = None
            elif self._down_since is None:
                self._down_since = self._clock()
                self._checked_at = self._clock()
            self.reason = reason
        return reason is None
