"""Typed control requests to a Particle device in normal mode: identity, versions, modules, modes, claim, Wi-Fi, OTA.

Facts: Device OS 6.2.0 system/inc/system_control.h, system/src/system_control_internal.cpp and system/src/control/
(request types and behaviour by version); device-os-protobuf 2.9.0 control/*.proto (messages); particle-usb 4.1.0
src/device.js (normal-mode firmware update) and src/set-device-prototype.js (generation decides the setup-done and
Wi-Fi request sets).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hardware.errors import IdentifierError
from hardware.firmware.versions import DeviceOsVersion, always_reports_setup_done
from hardware.identifiers import DeviceId, Iccid, Imei, SerialNumber
from hardware.progress import CancelToken, ProgressCallback, ProgressEvent
from hardware.usb import protobuf as pb
from hardware.usb.control import ControlChannel, request_error
from hardware.usb.errors import ControlProtocolError, NotSupportedError, RequestTimeoutError
from hardware.usb.module_info import ModuleInfo, parse_module_info_reply
from hardware.usb.protocol import (
    SERIAL_NUMBER_NOT_PROVISIONED,
    DeviceModeValue,
    RawVendorIndex,
    RequestType,
    ResultCode,
)

FIRMWARE_UPDATE_TIMEOUT_S = 240.0
"""particle-cli's overall limit for a normal-mode firmware update (src/lib/flash-helper.js, FLASH_TIMEOUT)."""

CLAIM_CODE_MAX_LENGTH = 64

START_NYAN_SIGNAL = 230
STOP_NYAN_SIGNAL = 231
"""Make the device's RGB LED blink rainbow colours ("nyan"), and stop it (Device OS system/inc/system_control.h,
CTRL_REQUEST_START_NYAN_SIGNAL / CTRL_REQUEST_STOP_NYAN_SIGNAL): on a fixture it shows which unit is which."""


class WifiSecurity(enum.IntEnum):
    """wifi.Security of requests 500/507 (device-os-protobuf control/wifi_new.proto)."""

    NO_SECURITY = 0
    WEP = 1
    WPA_PSK = 2
    WPA2_PSK = 3
    WPA_WPA2_PSK = 4
    WPA3_PSK = 5
    WPA2_WPA3_PSK = 6


class LegacyWifiSecurity(enum.IntEnum):
    """WiFiAccessPoint.security of the Gen 1/2 request 113 (device-os-protobuf control/wifi.proto)."""

    UNSEC = 0
    WEP = 1
    WPA = 2
    WPA2 = 3


class LegacyWifiCipher(enum.IntEnum):
    NONE = 0
    AES = 1
    TKIP = 2
    AES_TKIP = 3


_LEGACY_SECURITY = {
    WifiSecurity.NO_SECURITY: LegacyWifiSecurity.UNSEC,
    WifiSecurity.WEP: LegacyWifiSecurity.WEP,
    WifiSecurity.WPA_PSK: LegacyWifiSecurity.WPA,
    WifiSecurity.WPA2_PSK: LegacyWifiSecurity.WPA2,
    WifiSecurity.WPA_WPA2_PSK: LegacyWifiSecurity.WPA2,
}
_CREDENTIALS_PASSWORD = 1


@dataclass(frozen=True)
class ControlWifiCredentials:
    """A network to store on a device. The password never appears in repr or logs."""

    ssid: str
    password: str = field(default="", repr=False)
    security: WifiSecurity = WifiSecurity.WPA2_PSK
    hidden: bool = False


@dataclass(frozen=True)
class CellularIds:
    """The SIM's ICCID and the modem's IMEI (IMEI is empty on Device OS <= 5.7 and 6.0.0, so None there)."""

    iccid: Iccid | None
    imei: Imei | None


class DeviceControl:
    """The typed requests of one device in normal mode, sent through its control channel."""

    def __init__(self, channel: ControlChannel) -> None:
        self.channel = channel
        self._system_version: str | None = None

    @property
    def who(self) -> str:
        return self.channel.who

    def _string(self, request: RequestType, timeout: float | None = None) -> str:
        reply = self.channel.request(request, timeout=timeout)
        return pb.Message.parse(reply).string(pb.StringReply.VALUE)

    def _unsupported(self, what: str, request: RequestType) -> NotSupportedError:
        return NotSupportedError(
            f"{self.who} does not support {what} ({self.channel.device.platform}, Device OS "
            f"{self._system_version or 'unknown'})",
            request=request,
            result=ResultCode.NOT_SUPPORTED,
        )

    # ---- identity and versions ----

    def device_id(self) -> DeviceId:
        text = self._string(RequestType.DEVICE_ID)
        try:
            return DeviceId.parse(text)
        except IdentifierError as exc:
            raise ControlProtocolError(f"{self.who} reported a malformed device id: {exc}") from None

    def serial_number(self) -> SerialNumber | None:
        """The device's serial number, or None when it was never provisioned (result −1)."""
        reply = self.channel.exchange(RequestType.SERIAL_NUMBER)
        if reply.result == SERIAL_NUMBER_NOT_PROVISIONED:
            return None
        if reply.result != ResultCode.OK:
            raise request_error(self.who, RequestType.SERIAL_NUMBER, reply.result)
        text = pb.Message.parse(reply.data).string(pb.StringReply.VALUE)
        if not text:
            return None
        try:
            return SerialNumber.parse(text)
        except IdentifierError as exc:
            raise ControlProtocolError(f"{self.who} reported a malformed serial number: {exc}") from None

    def system_version(self) -> str:
        """The Device OS version, e.g. ``6.2.0``."""
        self._system_version = self._string(RequestType.SYSTEM_VERSION)
        return self._system_version

    def device_os(self) -> DeviceOsVersion:
        """The Device OS version as a value (the one read before, else asked for)."""
        text = self._system_version or self.system_version()
        version = DeviceOsVersion.parse_or_none(text)
        if version is None:
            raise ControlProtocolError(f"{self.who} reported Device OS version {text!r}, which is not a version")
        return version

    def module_info(self) -> list[ModuleInfo]:
        return parse_module_info_reply(self.channel.request(RequestType.GET_MODULE_INFO))

    def raw_device_id(self) -> DeviceId:
        """The device id from the raw 0x50 request (uppercase on the wire)."""
        text = self.channel.raw_read(RawVendorIndex.DEVICE_ID)
        try:
            return DeviceId.parse(text)
        except IdentifierError as exc:
            raise ControlProtocolError(f"{self.who} answered the raw device-id request with {exc}") from None

    def raw_system_version(self) -> str:
        return self.channel.raw_read(RawVendorIndex.SYSTEM_VERSION)

    # ---- modes and resets ----

    def enter_dfu_mode(self) -> None:
        """Ask the device to reboot into DFU mode (it replies first, then re-enumerates ~1 s later)."""
        self.channel.request(RequestType.DFU_MODE)

    def reset(self) -> None:
        """Reset the device (it replies first and resets ~1 s later)."""
        self.channel.request(RequestType.RESET)

    def raw_reset(self) -> None:
        """Reset immediately through the raw 0x50 request (works even when the framing is stuck)."""
        self.channel.raw_write(RawVendorIndex.RESET)

    def start_listening(self) -> None:
        self.channel.request(RequestType.START_LISTENING)

    def stop_listening(self) -> None:
        self.channel.request(RequestType.STOP_LISTENING)

    def device_mode(self) -> DeviceModeValue:
        value = pb.Message.parse(self.channel.request(RequestType.GET_DEVICE_MODE)).uint(pb.GetDeviceModeReply.MODE)
        try:
            return DeviceModeValue(value)
        except ValueError:
            raise ControlProtocolError(f"{self.who} reported unknown device mode {value}") from None

    def _setup_done_applies(self, request: RequestType) -> bool:
        if self.channel.device.platform.generation != 3:
            raise self._unsupported("the setup-done flag (a Gen 3 feature)", request)
        return not always_reports_setup_done(self.device_os())

    def set_setup_done(self, done: bool = True) -> None:
        """Set the Gen 3 setup-done flag; from Device OS 4.0.0 only ``True`` is accepted, as a no-op."""
        if not self._setup_done_applies(RequestType.SET_DEVICE_SETUP_DONE):
            if done:
                return
            raise self._unsupported(
                "clearing the setup-done flag (removed in Device OS 4.0.0)", RequestType.SET_DEVICE_SETUP_DONE
            )
        payload = pb.MessageWriter().boolean(pb.SetDeviceSetupDoneRequest.DONE, done).to_bytes()
        self.channel.request(RequestType.SET_DEVICE_SETUP_DONE, payload)

    def is_setup_done(self) -> bool:
        """The Gen 3 setup-done flag; always True from Device OS 4.0.0."""
        if not self._setup_done_applies(RequestType.IS_DEVICE_SETUP_DONE):
            return True
        reply = self.channel.request(RequestType.IS_DEVICE_SETUP_DONE)
        return pb.Message.parse(reply).boolean(pb.IsDeviceSetupDoneReply.DONE)

    def signal(self, on: bool) -> None:
        """Start (``on``) or stop the rainbow "nyan" LED signal (requests 230/231; no payload, no reply)."""
        self.channel.request(START_NYAN_SIGNAL if on else STOP_NYAN_SIGNAL)

    # ---- claiming and cellular ----

    def set_claim_code(self, code: str) -> None:
        if not code or len(code) > CLAIM_CODE_MAX_LENGTH:
            raise ValueError(f"a claim code has 1 to {CLAIM_CODE_MAX_LENGTH} characters, got {len(code)}")
        payload = pb.MessageWriter().string(pb.SetClaimCodeRequest.CODE, code).to_bytes()
        self.channel.request(RequestType.SET_CLAIM_CODE, payload)

    def is_claimed(self) -> bool:
        return pb.Message.parse(self.channel.request(RequestType.IS_CLAIMED)).boolean(pb.IsClaimedReply.CLAIMED)

    def cellular_ids(self, *, timeout: float = 10.0) -> CellularIds:
        """ICCID and IMEI (request 554 powers the modem, so it may take a few seconds)."""
        if not self.channel.device.platform.is_cellular:
            raise self._unsupported("reading ICCID/IMEI (it has no cellular modem)", RequestType.CELLULAR_GET_ICCID)
        msg = pb.Message.parse(self.channel.request(RequestType.CELLULAR_GET_ICCID, timeout=timeout))
        iccid_text, imei_text = msg.string(pb.GetIccidReply.ICCID), msg.string(pb.GetIccidReply.IMEI)
        try:
            iccid = Iccid.parse(iccid_text) if iccid_text else None
            imei = Imei.parse(imei_text) if imei_text else None
        except IdentifierError as exc:
            raise IdentifierError(f"{self.who} reported an invalid SIM/modem id: {exc}") from None
        return CellularIds(iccid, imei)

    # ---- Wi-Fi ----

    def _wifi_message(self, creds: ControlWifiCredentials) -> bytes:
        f = pb.WifiNetworkRequest
        writer = pb.MessageWriter().string(f.SSID, creds.ssid)
        if creds.security == WifiSecurity.NO_SECURITY or not creds.password:
            # particle-usb sends {ssid, security: 0} for an open network.
            return writer.uint(f.SECURITY, WifiSecurity.NO_SECURITY).to_bytes()
        secret = pb.MessageWriter().uint(pb.CtrlWifiCredentials.TYPE, _CREDENTIALS_PASSWORD)
        secret.string(pb.CtrlWifiCredentials.PASSWORD, creds.password)
        writer.boolean(f.HIDDEN, creds.hidden).uint(f.SECURITY, creds.security).message(f.CREDENTIALS, secret)
        return writer.to_bytes()

    def _require_wifi(self, request: RequestType) -> None:
        if not self.channel.device.platform.is_wifi:
            raise self._unsupported("Wi-Fi credentials (it has no Wi-Fi)", request)

    def join_new_network(self, creds: ControlWifiCredentials, *, timeout: float = 60.0) -> None:
        """Join a network and store it (request 500, Gen 3 and later)."""
        self._require_wifi(RequestType.WIFI_JOIN_NEW_NETWORK)
        if self.channel.device.platform.generation < 3:
            raise self._unsupported("joining a network over USB (a Gen 3 request)", RequestType.WIFI_JOIN_NEW_NETWORK)
        self.channel.request(RequestType.WIFI_JOIN_NEW_NETWORK, self._wifi_message(creds), timeout=timeout)

    def set_wifi_credentials(self, creds: ControlWifiCredentials, *, cipher: LegacyWifiCipher | None = None) -> None:
        """Store a network without joining: request 507 on Gen 3 and later, legacy 113 on Gen 1/2."""
        self._require_wifi(RequestType.WIFI_SET_NETWORK_CREDENTIALS)
        if self.channel.device.platform.generation >= 3:
            self.channel.request(RequestType.WIFI_SET_NETWORK_CREDENTIALS, self._wifi_message(creds))
            return
        legacy = _LEGACY_SECURITY.get(creds.security)
        if legacy is None:
            raise self._unsupported(
                f"Wi-Fi security {creds.security.name} on Gen 2", RequestType.WIFI_LEGACY_SET_CREDENTIALS
            )
        ap = pb.LegacyWifiAccessPoint
        writer = pb.MessageWriter().string(ap.SSID, creds.ssid).uint(ap.SECURITY, legacy)
        if legacy in (LegacyWifiSecurity.WPA, LegacyWifiSecurity.WPA2):
            writer.uint(ap.CIPHER, cipher if cipher is not None else LegacyWifiCipher.AES_TKIP)
        if legacy != LegacyWifiSecurity.UNSEC:
            writer.string(ap.PASSWORD, creds.password)
        payload = pb.MessageWriter().message(pb.LegacyWifiSetCredentialsRequest.AP, writer).to_bytes()
        self.channel.request(RequestType.WIFI_LEGACY_SET_CREDENTIALS, payload)

    # ---- normal-mode firmware update (bootloader, NCP) ----

    def update_firmware(
        self,
        image: bytes,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        timeout: float = FIRMWARE_UPDATE_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Send a module with requests 250/253/251; the device validates it, replies, then applies it and resets."""
        deadline = clock() + timeout
        start = pb.MessageWriter().uint(pb.StartFirmwareUpdateRequest.SIZE, len(image)).to_bytes()
        reply = pb.Message.parse(self.channel.request(RequestType.START_FIRMWARE_UPDATE, start))
        chunk_size = reply.uint(pb.StartFirmwareUpdateReply.CHUNK_SIZE)
        if chunk_size <= 0:
            raise ControlProtocolError(f"{self.who} started a firmware update with chunk size 0; reset it and retry")
        for offset in range(0, len(image), chunk_size):
            if (cancel is not None and cancel.cancelled) or clock() >= deadline:
                self.channel.request(RequestType.CANCEL_FIRMWARE_UPDATE)
                if cancel is not None:
                    cancel.raise_if_cancelled(f"firmware update of {self.who}")
                raise RequestTimeoutError(
                    f"firmware update of {self.who} did not finish within {timeout:g} s and was cancelled; retry"
                )
            chunk = image[offset : offset + chunk_size]
            data = pb.MessageWriter().blob(pb.FirmwareUpdateDataRequest.DATA, chunk).to_bytes()
            self.channel.request(RequestType.FIRMWARE_UPDATE_DATA, data)
            if progress is not None:
                progress(ProgressEvent("write", offset + len(chunk), len(image)))
        # particle-usb writes the default explicitly: {validateOnly: false} = 08 00.
        finish = pb.MessageWriter().boolean(pb.FinishFirmwareUpdateRequest.VALIDATE_ONLY, False).to_bytes()
        self.channel.request(RequestType.FINISH_FIRMWARE_UPDATE, finish)
