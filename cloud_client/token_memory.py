"""What the token endpoint said about a client id and secret, remembered across restarts in a small JSON file.

Ten failed token requests in a row lock the station's IP out of ``POST /oauth/token`` for 30 minutes, and the
endpoint allows 100 requests per 5 minutes (docs.particle.io Cloud API, 'API rate limits'). So a refused client
secret is never sent again, not even by the next process, until the credentials change; and a 429 from the token
endpoint blocks further token requests for a growing, jittered while (5 min, 10, 20, then 30 min).

Entries are keyed by a SHA-256 of the API base URL, the client id and the secret: the file never holds the secret.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("cloud_client.auth")

FIRST_BLOCK_S = 300.0
"""The token endpoint's rate-limit window (100 requests / 5 min): after a first 429, wait at least that long."""
MAX_BLOCK_S = 1800.0
"""The failed-token lockout lasts 30 minutes (docs.particle.io Cloud API, 'API rate limits')."""


def credentials_key(base_url: str, client_id: str, secret: str) -> str:
    """A stable, one-way name for these credentials at this API; the secret cannot be recovered from it."""
    return hashlib.sha256("\0".join((base_url.rstrip("/"), client_id, secret)).encode()).hexdigest()


@dataclass(frozen=True)
class Refusal:
    at: float
    """Wall-clock time of the refusal."""
    status: int | None
    api_message: str


class TokenMemory:
    """The refused secrets and token-endpoint blocks of every client that used this file (thread-safe).

    A file that cannot be read is treated as empty, and one that cannot be written is logged once: remembering is
    a guard against lock-outs, never a reason for the line to stop.
    """

    def __init__(
        self,
        path: Path | str | None,
        *,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else None
        """None: remembered by this process only."""
        self._in_process: dict[str, dict[str, Any]] = {}
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._warned = False

    # Refused secrets --------------------------------------------------------------------------------------------

    def refusal(self, key: str) -> Refusal | None:
        entry = self._read().get(key, {})
        refused = entry.get("refused")
        if not isinstance(refused, dict):
            return None
        status = refused.get("status")
        return Refusal(at=float(refused.get("at", 0.0)), status=status if isinstance(status, int) else None,
                       api_message=str(refused.get("api_message", "")))

    def remember_refusal(self, key: str, status: int | None, api_message: str) -> None:
        self._change(key, lambda e: e.update(refused={"at": self._wall_clock(), "status": status,
                                                      "api_message": api_message}))

    # Token-endpoint blocks (HTTP 429) -----------------------------------------------------------------------------

    def blocked_until(self, key: str) -> float | None:
        """Wall-clock time before which no token request may be sent, or None."""
        until = self._read().get(key, {}).get("blocked_until")
        if isinstance(until, int | float) and until > self._wall_clock():
            return float(until)
        return None

    def remember_block(self, key: str) -> float:
        """Record a 429 from the token endpoint; returns how many seconds to wait before the next token request."""
        waits: list[float] = []

        def block(entry: dict[str, Any]) -> None:
            count = int(entry.get("blocks", 0)) + 1
            ceiling = min(MAX_BLOCK_S, FIRST_BLOCK_S * 2 ** (count - 1))
            # Never shorter than the window, jittered upwards so stations behind one IP spread out.
            wait = ceiling * (1.0 + self._rng.uniform(0.0, 0.1))
            entry.update(blocks=count, blocked_until=self._wall_clock() + wait)
            waits.append(wait)

        self._change(key, block)
        return waits[0]

    def forget(self, key: str) -> None:
        """The token endpoint accepted these credentials: clear their refusal and block."""
        if key in self._read():
            self._change(key, lambda e: e.clear())

    # File ------------------------------------------------------------------------------------------------------

    def _read(self) -> dict[str, dict[str, Any]]:
        if self.path is None:
            return {k: dict(v) for k, v in self._in_process.items()}
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(document, dict):
            return {}
        return {k: v for k, v in document.items() if isinstance(v, dict)}

    def _change(self, key: str, change: Callable[[dict[str, Any]], None]) -> None:
        with self._lock:
            document = self._read()
            entry = dict(document.get(key, {}))
            change(entry)
            if entry:
                document[key] = entry
            else:
                document.pop(key, None)
            try:
                self._write(document)
            except OSError as exc:
                if not self._warned:
                    self._warned = True
                    log.warning("could not remember the token endpoint's answer in %s (%s); a restart may ask "
                                "again", self.path, exc.strerror or type(exc).__name__)

    def _write(self, document: dict[str, dict[str, Any]]) -> None:
        if self.path is None:
            self._in_process = document
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".token-memory-", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(document, stream, indent=1, sort_keys=True)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
