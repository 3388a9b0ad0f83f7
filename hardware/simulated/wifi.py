"""The Wi-Fi side of a simulated device: stored credentials, the network it joined, and what a scan sees."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass(frozen=True)
class StoredWifiNetwork:
    """One stored network. ``security`` uses the numbering of the request that stored it: ``wifi.Security`` for
    the 500-series (Gen 3+), ``WiFiAccessPoint.security`` for legacy 113 (Gen 2)."""

    ssid: str
    security: int = 0
    password: str = field(default="", repr=False)
    hidden: bool = False
    cipher: int = 0
    credentials_type: int = 0
    """0 none, 1 password (``wifi.CredentialsType``)."""


@dataclass(frozen=True)
class VisibleNetwork:
    """An access point that a scan reports."""

    ssid: str
    bssid: bytes = bytes(6)
    security: int = 3
    channel: int = 6
    rssi: int = -55


DEFAULT_VISIBLE = (
    VisibleNetwork("factory-line", bytes.fromhex("02a0c9000001"), security=3, channel=6, rssi=-48),
    VisibleNetwork("guest", bytes.fromhex("02a0c9000002"), security=0, channel=11, rssi=-71),
)


class WifiStore:
    """Credentials, the joined network and scan results; safe to use from any thread."""

    def __init__(self, visible: tuple[VisibleNetwork, ...] = DEFAULT_VISIBLE) -> None:
        self._lock = threading.Lock()
        self._known: list[StoredWifiNetwork] = []
        self._joined: str | None = None
        self.visible = visible
        self.antenna = 0
        """Legacy (Gen 2) antenna selection: 0 none, 1 internal, 2 external, 3 auto."""

    @property
    def credentials(self) -> tuple[StoredWifiNetwork, ...]:
        with self._lock:
            return tuple(self._known)

    @property
    def joined(self) -> str | None:
        with self._lock:
            return self._joined

    def store(self, credentials: StoredWifiNetwork) -> None:
        """Add a network, replacing a stored one with the same SSID."""
        with self._lock:
            self._known = [c for c in self._known if c.ssid != credentials.ssid] + [credentials]

    def remove(self, ssid: str) -> bool:
        with self._lock:
            before = len(self._known)
            self._known = [c for c in self._known if c.ssid != ssid]
            if self._joined == ssid:
                self._joined = None
            return len(self._known) != before

    def clear(self) -> None:
        with self._lock:
            self._known.clear()
            self._joined = None

    def join(self, ssid: str) -> bool:
        """Join a stored network; False when none has that SSID."""
        with self._lock:
            if not any(c.ssid == ssid for c in self._known):
                return False
            self._joined = ssid
            return True

    def disconnect(self) -> None:
        with self._lock:
            self._joined = None
