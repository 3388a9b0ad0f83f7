"""The running emulated cloud: its state, clock, faults, limits, request log, timings and persistence."""

from __future__ import annotations

import secrets
import string
import threading
from dataclasses import dataclass
from pathlib import Path

from cloud_client.emulator.faults import FaultInjector, FaultSettings
from cloud_client.emulator.persistence import save_state
from cloud_client.emulator.ratelimit import RateLimits
from cloud_client.emulator.state import DEFAULT_TOKEN_LIFETIME_S, Clock, CloudState, Token, TokenKind

REFRESH_TOKEN_LIFETIME_S = 14 * 24 * 3600
"""Refresh tokens last 14 days (docs.particle.io Cloud API, 'Generate an access token')."""
CLAIM_CODE_LENGTH = 63
"""Device OS stores ``claim_code[63]`` (platform/MCU/nRF52840/inc/dct.h)."""
_CLAIM_ALPHABET = string.ascii_letters + string.digits + "+/"


@dataclass
class Timings:
    """Delays of the cloud's asynchronous work, in (emulator-clock) seconds."""

    sim_activation_s: float = 1.0
    sim_release_s: float = 1.0
    sim_status_check_s: float = 1.0


RequestRecord = tuple[str, str, int]
"""(method, path, status) of one API request; status 0 means the connection was dropped without a reply."""


class EmulatedCloud:
    """Everything a request handler needs, shared by the aiohttp app and the in-process EmulatorServer."""

    def __init__(self, state: CloudState, *, seed: int = 0, state_file: Path | None = None) -> None:
        self.state = state
        self.clock = Clock()
        self.faults = FaultInjector(seed)
        self.limits = RateLimits()
        self.timings = Timings()
        self.state_file = state_file
        self.mfa_pending: dict[str, str] = {}
        """mfa_token → username, for the MFA one-time-password grant."""
        self.unprotect_nonces: dict[str, bytes] = {}
        """device id → the server nonce of its open unprotect handshake (single use; guarded by ``state.lock``)."""
        self._saved_version = state.version
        self._log: list[RequestRecord] = []
        self._log_lock = threading.Lock()

    def now(self) -> float:
        return self.clock.now()

    def configure_faults(self, settings: FaultSettings) -> None:
        self.faults.configure(settings)
        self.limits.set_general_limit(settings.rate_limit)

    def record_request(self, method: str, path: str, status: int) -> None:
        with self._log_lock:
            self._log.append((method, path, status))

    @property
    def request_log(self) -> list[RequestRecord]:
        with self._log_lock:
            return list(self._log)

    def clear_request_log(self) -> None:
        with self._log_lock:
            self._log.clear()

    def save_if_changed(self) -> None:
        """Write the state file when anything changed since the last save (no-op without a state file)."""
        if self.state_file is None:
            return
        with self.state.lock:
            if self.state.version == self._saved_version:
                return
            save_state(self.state, self.state_file)
            self._saved_version = self.state.version

    def issue_token(
        self,
        kind: TokenKind,
        client_id: str,
        *,
        username: str | None = None,
        product_id: int | None = None,
        scopes: list[str] | None = None,
        expires_in: int | None = DEFAULT_TOKEN_LIFETIME_S,
        with_refresh: bool = True,
        value: str | None = None,
    ) -> Token:
        """Create and store a token; ``expires_in`` None or 0 means it never expires."""
        now = self.now()
        never = not expires_in
        token = Token(
            token=value or secrets.token_hex(20),
            kind=kind,
            client_id=client_id,
            created_at=now,
            expires_at=None if never else now + float(expires_in or 0),
            username=username,
            product_id=product_id,
            scopes=list(scopes or []),
            # With expires_in=0 the reply has no refresh token (Particle's node-oauth2-server lib/grant.js).
            refresh_token=secrets.token_hex(20) if with_refresh and not never else None,
        )
        with self.state.lock:
            self.state.tokens[token.token] = token
            self.state.changed()
        return token

    @staticmethod
    def new_claim_code() -> str:
        return "".join(secrets.choice(_CLAIM_ALPHABET) for _ in range(CLAIM_CODE_LENGTH))
