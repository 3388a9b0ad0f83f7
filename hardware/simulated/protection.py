"""Device Protection of a simulated device: the security mode its bootloader gives it, Service Mode (the override,
with its 20 resets / 24 hours of simulated run time), and the control requests 76/77 with the signing handshake.

Behaviour of Device OS services/src/security_mode.cpp and system/src/control/config.cpp (getProtectedState,
setProtectedState); the numbers are the simulator's own (``protection_facts``), the keys follow the simulated
world's key rule (``device_keys``). Not thread-safe on its own: the owning device's lock guards it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from hardware.simulated import device_keys, wire
from hardware.simulated import protection_facts as pf
from hardware.simulated.control_facts import ResultCode
from hardware.simulated.control_reply import OK, Reply

PROTECTION_STATES = ("open", "protected", "service")


class SimulatedClock:
    """Run time of a simulated device: the monotonic clock plus whatever a test advanced it by."""

    def __init__(self, base: Callable[[], float] = time.monotonic) -> None:
        self._base = base
        self._offset = 0.0

    def now(self) -> float:
        return self._base() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a simulated clock only moves forward")
        self._offset += seconds


@dataclass(frozen=True)
class _Prepared:
    server_nonce: bytes
    device_nonce: bytes
    device_key_fingerprint: bytes
    at: float


class SecurityMode:
    """The security mode of one device: normal mode from the bootloader, the Service Mode override, the handshake."""

    def __init__(self, device_id: str, clock: SimulatedClock, nonce: Callable[[int], bytes] = os.urandom) -> None:
        self.device_id = device_id
        self.clock = clock
        self._nonce = nonce
        self.bootloader_protected = False
        self._resets_left: int | None = None
        self._since = 0.0
        self._prepared: _Prepared | None = None
        self._key = device_keys.device_private_key(device_id)
        self._server_key = device_keys.server_public_key()

    # --- state -------------------------------------------------------------------------------------------------

    @property
    def overridden(self) -> bool:
        """Service Mode: protection temporarily off. Ends after 24 h of run time (checked lazily)."""
        if self._resets_left is not None and self.clock.now() - self._since >= pf.SERVICE_MODE_SECONDS:
            self._resets_left = None
        return self._resets_left is not None

    @property
    def state(self) -> str:
        """"open", "protected" or "service"."""
        if not self.bootloader_protected:
            return "open"
        return "service" if self.overridden else "protected"

    @property
    def refusing(self) -> bool:
        """True while protection is active: requests and DFU reads/writes are refused."""
        return self.state == "protected"

    @property
    def service_mode_resets_left(self) -> int | None:
        return self._resets_left if self.overridden else None

    def enter_service_mode(self) -> None:
        """security_mode_override_to_none: only a device whose normal mode is protected enters it."""
        if self.bootloader_protected:
            self._resets_left, self._since = pf.SERVICE_MODE_RESETS, self.clock.now()

    def clear_override(self) -> None:
        """RESET, DfuSe 0xFB: back to the normal (protected) mode; any prepare is dropped."""
        self._resets_left, self._prepared = None, None

    def on_boot(self, bootloader_protected: bool) -> None:
        """A system reset: the bootloader decrements the override's reset count and re-reads the normal mode; the
        prepare context lives in RAM and is lost."""
        self._prepared = None
        self.bootloader_protected = bootloader_protected
        if not bootloader_protected:
            self._resets_left = None
        elif self.overridden and self._resets_left is not None:
            self._resets_left -= 1
            if self._resets_left <= 0:
                self._resets_left = None

    # --- requests 76 and 77 ------------------------------------------------------------------------------------

    def allows_request(self, request_type: int) -> bool:
        return not self.refusing or request_type in pf.ALLOWED_WHILE_PROTECTED

    def get_state_reply(self) -> Reply:
        # state is true only while protection is active; Service Mode is state=false, overridden=true.
        data = wire.bool_field(pf.GetReply.STATE, self.refusing) + wire.bool_field(
            pf.GetReply.OVERRIDDEN, self.state == "service"
        )
        return Reply(data=data)

    def set_state(self, payload: bytes) -> Reply:
        fields = wire.decode(payload)
        action = wire.get_int(fields, pf.SetRequest.ACTION)
        if action == pf.Action.RESET:
            self.clear_override()
            return OK
        if action == pf.Action.PREPARE:
            prepare = wire.get_messages(fields, pf.SetRequest.PREPARE)
            nonce = wire.get_bytes(prepare[-1], pf.SetRequest.PREPARE_SERVER_NONCE) if prepare else b""
            return self._prepare(nonce)
        if action == pf.Action.CONFIRM:
            confirm = wire.get_messages(fields, pf.SetRequest.CONFIRM)
            values = confirm[-1] if confirm else {}
            signature = wire.get_bytes(values, pf.SetRequest.CONFIRM_SERVER_SIGNATURE)
            key_fingerprint = wire.get_bytes(values, pf.SetRequest.CONFIRM_SERVER_KEY_FINGERPRINT)
            return self._confirm(signature, key_fingerprint)
        return Reply(ResultCode.INVALID_ARGUMENT)

    def _prepare(self, server_nonce: bytes) -> Reply:
        if len(server_nonce) != pf.NONCE_LENGTH:
            return Reply(ResultCode.INVALID_ARGUMENT)
        if self.state == "open":
            return OK  # no ``prepare`` in the reply: nothing to unprotect
        device_nonce = self._nonce(pf.NONCE_LENGTH)
        digest = device_keys.device_hash(self.device_id, device_nonce, server_nonce)
        signature = device_keys.sign(self._key, digest)
        key_fingerprint = device_keys.fingerprint(self._key.public_key())
        self._prepared = _Prepared(server_nonce, device_nonce, key_fingerprint, self.clock.now())
        r = pf.SetReply
        inner = (
            wire.bytes_field(r.DEVICE_NONCE, device_nonce)
            + wire.bytes_field(r.DEVICE_SIGNATURE, signature)
            + wire.bytes_field(r.DEVICE_KEY_FINGERPRINT, key_fingerprint)
        )
        return Reply(data=wire.bytes_field(r.PREPARE, inner, always=True))

    def _confirm(self, signature: bytes, key_fingerprint: bytes) -> Reply:
        prepared = self._prepared
        if prepared is None:
            return Reply(ResultCode.INVALID_STATE)
        if not signature or len(key_fingerprint) != pf.FINGERPRINT_LENGTH:
            return Reply(ResultCode.INVALID_ARGUMENT)
        if self.clock.now() - prepared.at >= pf.CONFIRM_TIMEOUT_S:
            self._prepared = None
            return Reply(ResultCode.TIMEOUT)
        if key_fingerprint != device_keys.fingerprint(self._server_key):
            return Reply(pf.KEY_MISMATCH)
        digest = device_keys.server_hash(
            self.device_id, prepared.server_nonce, prepared.device_nonce, prepared.device_key_fingerprint
        )
        if not device_keys.verify(self._server_key, signature, digest):
            return Reply(pf.INVALID_SIGNATURE)
        self._prepared = None
        self.enter_service_mode()
        return OK
