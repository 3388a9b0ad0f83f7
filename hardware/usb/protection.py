"""Device Protection over USB: read a device's protection state and drive SetProtectedState (Service Mode).

Normal mode: control requests 76 GetProtectedState and 77 SetProtectedState (RESET / PREPARE / CONFIRM) with their
protobuf messages (device-os system/inc/system_control.h, system/src/control/config.cpp; device-os-protobuf
control/config.proto; particle-usb src/device.js getProtectionState/unprotectDevice). DFU mode: string descriptor
0xFA (``sm=o|p|s``) with the memory-map fallback, DfuSe 0xFA (enter safe mode) and 0xFB (clear Service Mode), each
after checking the bootloader's GET_COMMAND list (device-os bootloader/src/nRF52840/usbd_dfu.cpp; particle-usb
src/dfu.js getProtectionState/enterSafeMode/clearSecurityModeOverride).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

from hardware.identifiers import DeviceId
from hardware.progress import CancelToken, ProgressCallback
from hardware.usb import protobuf as pb
from hardware.usb.dfu import DfuSession
from hardware.usb.discovery import DeviceMode, UsbDevice
from hardware.usb.errors import (
    DeviceDisconnectedError,
    DeviceNotFoundError,
    DfuError,
    DfuseCommandUnsupportedError,
    FlashError,
    NotSupportedError,
    ServiceModeRefusedError,
    UsbStallError,
)
from hardware.usb.protocol import DfuseCommand, DfuState, RequestType, ResultCode
from hardware.usb.requests import DeviceControl
from hardware.usb.timing import HostTiming

DEVICE_STATE_STRING_INDEX = 0xFA
"""DFU string descriptor with the device state, ``sm=o|p|s`` (device-os bootloader/src/nRF52840/usbd_device.cpp,
STRING_IDX_DEVICE_STATE; Device OS 6.2.0 and later)."""

NONCE_LENGTH = 32
"""server_nonce and device_nonce are exactly 32 bytes (device-os system/src/control/config.cpp, setProtectedState)."""

FINGERPRINT_LENGTH = 32
"""A key fingerprint is SHA-256 of the key's DER SubjectPublicKeyInfo (device-os system/src/control/config.cpp)."""

SERVICE_MODE_RESETS = 20
SERVICE_MODE_SECONDS = 24 * 60 * 60
"""Service Mode ends after 20 resets or 24 hours of run time (device-os services/src/security_mode.cpp)."""

MIN_PROTECTED_DEVICE_OS = (6, 1, 1)
"""The lowest Device OS a Protected Device may run: "Cannot downgrade Device OS below version 6.1.1 on a Protected
Device" (particle-cli src/lib/flash-helper.js; system part 6101, bootloader 3001)."""

DISABLE_HINT = "rework it through Service Mode: particle-station protection disable --device {device}"


class ProtectionAction(enum.IntEnum):
    """SetProtectedStateRequest.Action (device-os-protobuf control/config.proto)."""

    RESET = 0
    PREPARE = 1
    CONFIRM = 2


class ProtectionState(enum.Enum):
    """A device's Device Protection state, with the names Particle's CLI shows (particle-cli
    src/cmd/device-protection.js)."""

    OPEN = "open"
    PROTECTED = "protected"
    SERVICE_MODE = "service"
    OPEN_OR_SERVICE_MODE = "open-or-service"
    """DFU fallback on a bootloader without string 0xFA: the memory map is not the protected one, so the device is
    not protected now, but it cannot tell Open from Service Mode (particle-usb returns ``overridden: null``)."""

    @property
    def display_name(self) -> str:
        return _DISPLAY[self]

    @property
    def refuses_requests(self) -> bool:
        """True when the device refuses USB control requests and DFU reads/writes (-1801 / errVENDOR)."""
        return self is ProtectionState.PROTECTED

    @property
    def is_protected_device(self) -> bool:
        """True for a Protected Device, whether protection is active or temporarily off (Service Mode)."""
        return self in (ProtectionState.PROTECTED, ProtectionState.SERVICE_MODE)

    @classmethod
    def from_flags(cls, state: bool, overridden: bool) -> ProtectionState:
        """From GetProtectedStateReply: ``state`` is true only while protection is active; Service Mode is
        state=false, overridden=true (device-os system/src/control/config.cpp, getProtectedState)."""
        if overridden:
            return cls.SERVICE_MODE
        return cls.PROTECTED if state else cls.OPEN

    @classmethod
    def from_device_state_string(cls, text: str) -> ProtectionState | None:
        """From DFU string 0xFA, e.g. ``sm=p`` (fields split on ';', NUL padding ignored); None when it has no
        ``sm=`` field this module knows."""
        for part in text.replace("\0", "").split(";"):
            key, _, value = part.strip().partition("=")
            if key == "sm":
                return _BY_LETTER.get(value)
        return None


_DISPLAY = {
    ProtectionState.OPEN: "Open Device",
    ProtectionState.PROTECTED: "Protected Device",
    ProtectionState.SERVICE_MODE: "Protected Device (Service Mode)",
    ProtectionState.OPEN_OR_SERVICE_MODE: "Open Device or Protected Device (Service Mode): this bootloader cannot tell",
}
_BY_LETTER = {"o": ProtectionState.OPEN, "p": ProtectionState.PROTECTED, "s": ProtectionState.SERVICE_MODE}


@dataclass(frozen=True)
class PrepareReply:
    """The device's half of the Service Mode handshake: its nonce, its signature and its key's fingerprint."""

    device_nonce: bytes
    device_signature: bytes = field(repr=False)
    device_public_key_fingerprint: bytes


class ProtectionChannel(Protocol):
    """What the Service Mode handshake needs from a device (its cloud side is station.product.protection)."""

    def get_state(self) -> ProtectionState: ...

    def prepare(self, server_nonce: bytes) -> PrepareReply | None:
        """PREPARE with the cloud's 32-byte nonce; None when the device is Open (nothing to unprotect)."""
        ...

    def confirm(self, server_signature: bytes, server_key_fingerprint: bytes) -> None:
        """CONFIRM with the cloud's signature; on success the device is in Service Mode."""
        ...

    def reset(self) -> None:
        """Leave Service Mode: the device is a Protected Device again."""
        ...


_REFUSALS: dict[int, str] = {
    ResultCode.KEY_MISMATCH: (
        "does not know the server key that signed the confirmation (KEY_MISMATCH, -1802); check the station talks to "
        "the cloud the device belongs to"
    ),
    ResultCode.INVALID_SIGNATURE: (
        "rejected the server's signature (INVALID_SIGNATURE, -1803); the confirmation was forged or belongs to "
        "another prepare — run the handshake again"
    ),
    ResultCode.TIMEOUT: (
        "got the confirmation more than 60 s after the prepare (TIMEOUT, -160) and dropped it; run the handshake again"
    ),
    ResultCode.INVALID_STATE: (
        "has no pending prepare to confirm (INVALID_STATE, -210): it reset or timed out; run the handshake again"
    ),
    ResultCode.INVALID_ARGUMENT: (
        "refused the request's arguments (INVALID_ARGUMENT, -270): a nonce must be 32 bytes, a fingerprint 32 bytes "
        "and the signature not empty"
    ),
    ResultCode.PROTOCOL: "has its cloud protocol turned off (PROTOCOL, -240), so Service Mode cannot be entered",
    ResultCode.NOT_SUPPORTED: (
        "does not support Service Mode (NOT_SUPPORTED, -120): it needs Device OS 6.1.1 or later and a P-256 key"
    ),
}


class ControlProtection:
    """Device Protection over requests 76/77 of a device in normal mode (the ProtectionChannel of the handshake)."""

    def __init__(self, control: DeviceControl) -> None:
        self.control = control

    @property
    def who(self) -> str:
        return self.control.who

    def get_state(self) -> ProtectionState:
        """Request 76; a device before Device OS 6.0 answers NOT_SUPPORTED and is Open (as particle-cli treats it)."""
        try:
            reply = self.control.channel.request(RequestType.GET_PROTECTED_STATE)
        except NotSupportedError:
            return ProtectionState.OPEN
        message = pb.Message.parse(reply)  # an Open device's reply is empty (proto3 defaults are omitted)
        return ProtectionState.from_flags(
            message.boolean(pb.GetProtectedStateReply.STATE), message.boolean(pb.GetProtectedStateReply.OVERRIDDEN)
        )

    def _set(self, action: ProtectionAction, payload: bytes) -> pb.Message:
        reply = self.control.channel.exchange(RequestType.SET_PROTECTED_STATE, payload)
        if reply.result == ResultCode.OK:
            return pb.Message.parse(reply.data)
        reason = _REFUSALS.get(reply.result)
        if reason is None:
            from hardware.usb.control import request_error

            raise request_error(self.who, RequestType.SET_PROTECTED_STATE, reply.result)
        raise ServiceModeRefusedError(
            f"{self.who} {reason} (SetProtectedState {action.name})",
            request=RequestType.SET_PROTECTED_STATE,
            result=reply.result,
        )

    def prepare(self, server_nonce: bytes) -> PrepareReply | None:
        if len(server_nonce) != NONCE_LENGTH:
            raise ValueError(f"a server nonce is {NONCE_LENGTH} bytes, got {len(server_nonce)}")
        inner = pb.MessageWriter().blob(pb.SetProtectedStateRequestPrepare.SERVER_NONCE, server_nonce)
        writer = pb.MessageWriter().uint(pb.SetProtectedStateRequest.ACTION, ProtectionAction.PREPARE)
        writer.message(pb.SetProtectedStateRequest.PREPARE, inner)
        reply = self._set(ProtectionAction.PREPARE, writer.to_bytes())
        prepared = reply.message(pb.SetProtectedStateReply.PREPARE)
        if prepared is None:
            return None  # an Open device: nothing to unprotect (particle-usb returns {protected: false})
        f = pb.SetProtectedStateReplyPrepare
        return PrepareReply(
            device_nonce=prepared.blob(f.DEVICE_NONCE) or b"",
            device_signature=prepared.blob(f.DEVICE_SIGNATURE) or b"",
            device_public_key_fingerprint=prepared.blob(f.DEVICE_PUBLIC_KEY_FINGERPRINT) or b"",
        )

    def confirm(self, server_signature: bytes, server_key_fingerprint: bytes) -> None:
        f = pb.SetProtectedStateRequestConfirm
        inner = pb.MessageWriter().blob(f.SERVER_SIGNATURE, server_signature)
        inner.blob(f.SERVER_PUBLIC_KEY_FINGERPRINT, server_key_fingerprint)
        writer = pb.MessageWriter().uint(pb.SetProtectedStateRequest.ACTION, ProtectionAction.CONFIRM)
        self._set(ProtectionAction.CONFIRM, writer.message(pb.SetProtectedStateRequest.CONFIRM, inner).to_bytes())

    def reset(self) -> None:
        # RESET is action 0, the proto3 default: particle-usb's request body is empty.
        self._set(ProtectionAction.RESET, b"")


class DfuProtection:
    """Device Protection of a device in DFU mode: the state string, safe mode (0xFA) and clearing Service Mode (0xFB).

    PREPARE and CONFIRM need normal mode: enter safe mode first (particle-usb allows only 'reset' in DFU)."""

    def __init__(self, session: DfuSession) -> None:
        self.session = session

    @property
    def who(self) -> str:
        return self.session.who

    def get_state(self) -> ProtectionState:
        """String 0xFA; on an older bootloader (no such string), the memory map of alt setting 0: protected iff every
        segment is erasable only, letter 'b' (particle-usb src/dfu.js getProtectionState)."""
        try:
            text = self.session.device.read_string(DEVICE_STATE_STRING_INDEX, what="the device state string")
        except UsbStallError:
            text = ""
        state = ProtectionState.from_device_state_string(text)
        if state is not None:
            return state
        layout = self.session.layout(0)
        if all(s.erasable and not s.writable and not s.readable for s in layout.segments):
            return ProtectionState.PROTECTED
        return ProtectionState.OPEN_OR_SERVICE_MODE

    def _require(self, command: DfuseCommand) -> None:
        if command not in self.session.supported_commands():
            raise DfuseCommandUnsupportedError(
                f"the bootloader of {self.who} does not support DfuSe command 0x{command:02X} ({command.name}); "
                "update its Device OS to 6.2.0 or later"
            )

    def enter_safe_mode(self) -> None:
        """DfuSe 0xFA, a 1-byte download; the device manifests and resets into safe mode (normal firmware, where 76/77
        work). Reopen it in normal mode afterwards."""
        self._require(DfuseCommand.ENTER_SAFE_MODE)
        try:
            final = self.session.special_command(bytes([DfuseCommand.ENTER_SAFE_MODE]), "entering safe mode")
        except (UsbStallError, DeviceDisconnectedError):
            return  # dfuMANIFEST_WAIT_RESET stalls, or the device already reset: both mean it is on its way
        if final.state not in (DfuState.DFU_MANIFEST, DfuState.DFU_MANIFEST_SYNC, DfuState.DFU_MANIFEST_WAIT_RESET):
            raise DfuError(f"{self.who} did not start resetting into safe mode (state {final.describe()}); retry")

    def reset(self) -> None:
        """DfuSe 0xFB in its 5-byte form: clears Service Mode, the device stays in DFU (dfuDNLOAD_IDLE)."""
        self._require(DfuseCommand.CLEAR_SECURITY_OVERRIDE)
        payload = bytes([DfuseCommand.CLEAR_SECURITY_OVERRIDE]) + (0).to_bytes(4, "little")
        self.session.special_command(payload, "clearing Service Mode")

    def prepare(self, server_nonce: bytes) -> PrepareReply | None:
        raise self._needs_normal_mode("PREPARE")

    def confirm(self, server_signature: bytes, server_key_fingerprint: bytes) -> None:
        raise self._needs_normal_mode("CONFIRM")

    def _needs_normal_mode(self, action: str) -> DfuError:
        return DfuError(f"{self.who} is in DFU mode, where SetProtectedState {action} is not possible; enter safe mode "
                        "(DfuSe 0xFA) and run the handshake in normal mode")


def protection_channel(device: UsbDevice, timing: HostTiming | None = None) -> ControlProtection | DfuProtection:
    """The protection operations of ``device`` in whichever mode it is."""
    timing = timing or HostTiming()
    if device.mode is DeviceMode.DFU:
        return DfuProtection(DfuSession(device, timing=timing))
    from hardware.usb.flashing import open_control

    return ControlProtection(open_control(device, timing))


def supports_protection(device: UsbDevice) -> bool:
    """Device Protection exists on Gen 3 and later; particle-cli rejects Gen 2 up front
    (src/cmd/device-protection.js)."""
    return device.platform.gen3_or_later and device.platform.control_requests_supported


def read_protection(device: UsbDevice, timing: HostTiming | None = None) -> ProtectionState | None:
    """The protection state of ``device`` in either mode; None on a platform without Device Protection."""
    if not supports_protection(device):
        return None
    return protection_channel(device, timing).get_state()


def install_protected_bootloader(
    device: UsbDevice,
    image: bytes,
    *,
    timing: HostTiming | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> UsbDevice:
    """Install a bootloader carrying the SECURITY_MODE extension with the normal-mode update requests (250/253/251,
    as particle-cli flashes a Gen 3 bootloader), wait for the device to apply it and come back, and confirm that it
    is now a Protected Device. Returns the device reopened in normal mode (the caller closes it)."""
    from hardware.usb.discovery import open_device, wait_for_device
    from hardware.usb.flashing import open_control

    timing = timing or HostTiming()
    device_id, backend, who = device.device_id, device.backend, device.describe()
    open_control(device, timing).update_firmware(
        image, progress=progress, cancel=cancel, timeout=timing.firmware_update_timeout, clock=timing.clock
    )
    # The device replies, applies the module at its reset and re-enumerates: wait until it has dropped off.
    deadline = timing.clock() + timing.apply_delay
    while timing.clock() < deadline:
        try:
            open_device(device_id, backend=backend).close()
        except DeviceNotFoundError:
            break
        timing.sleep(timing.reenumerate_poll)
    device.close()
    again = wait_for_device(
        device_id, DeviceMode.NORMAL, timeout=timing.reenumerate_timeout, poll=timing.reenumerate_poll, backend=backend
    )
    state = ControlProtection(open_control(again, timing)).get_state()
    if state is not ProtectionState.PROTECTED:
        again.close()
        raise FlashError(
            f"{who} took the protected bootloader but reports {state.display_name}; check the bootloader is the one "
            "of the unit's Device OS and flash it again"
        )
    return again


def protected_device_message(device_id: DeviceId | str, what: str) -> str:
    """The one sentence for a refusal by a Protected Device."""
    return (
        f"device {device_id} is a Protected Device and refused {what}; "
        + DISABLE_HINT.format(device=device_id)
        + ", or set on_protected = \"rework\" in the profile's [protection] section"
    )


__all__ = [
    "DEVICE_STATE_STRING_INDEX",
    "FINGERPRINT_LENGTH",
    "MIN_PROTECTED_DEVICE_OS",
    "NONCE_LENGTH",
    "SERVICE_MODE_RESETS",
    "SERVICE_MODE_SECONDS",
    "ControlProtection",
    "DfuProtection",
    "PrepareReply",
    "ProtectionAction",
    "ProtectionChannel",
    "ProtectionState",
    "install_protected_bootloader",
    "protected_device_message",
    "protection_channel",
    "read_protection",
    "supports_protection",
]
