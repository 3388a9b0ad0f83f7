"""A small proto3 wire-format encoder and decoder, and the message field numbers of the control requests.

The field numbers below are written by hand from device-os-protobuf 2.9.0 (``particle.ctrl`` messages in
control/*.proto, ``particle.cloud`` in cloud/describe.proto); they are the only protobuf schema the station needs,
so no generated code is used.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Iterable

from hardware.errors import HardwareError


class ProtobufError(HardwareError):
    """Bytes that are not a valid protobuf message (truncated, bad wire type, overlong varint)."""


class WireType(enum.IntEnum):
    VARINT = 0
    I64 = 1
    LEN = 2
    I32 = 5


_MAX_VARINT_BYTES = 10
_UINT64_MASK = (1 << 64) - 1


def encode_varint(value: int) -> bytes:
    """Base-128 varint of an unsigned value; negative int32/int64 values are sent as their 64-bit two's complement."""
    if value < 0:
        value &= _UINT64_MASK
    if value > _UINT64_MASK:
        raise ValueError(f"varint value {value} does not fit in 64 bits")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(data: bytes, offset: int) -> tuple[int, int]:
    """The unsigned varint at ``offset`` and the offset after it."""
    result = 0
    for count in range(_MAX_VARINT_BYTES):
        if offset >= len(data):
            raise ProtobufError(f"message ends inside a varint at byte {offset}")
        byte = data[offset]
        offset += 1
        result |= (byte & 0x7F) << (7 * count)
        if not byte & 0x80:
            return result & _UINT64_MASK, offset
    raise ProtobufError(f"varint longer than {_MAX_VARINT_BYTES} bytes before byte {offset}")


def to_signed(value: int, bits: int = 64) -> int:
    """Reinterpret an unsigned varint as a two's-complement signed value (int32 fields use the low 32 bits)."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


class MessageWriter:
    """Builds one message field by field; every call writes its field, default values included (as protobufjs)."""

    def __init__(self) -> None:
        self._out = bytearray()

    def _key(self, field: int, wire: WireType) -> None:
        if not 1 <= field < (1 << 29):
            raise ValueError(f"field number {field} is out of range")
        self._out += encode_varint((field << 3) | wire)

    def uint(self, field: int, value: int) -> MessageWriter:
        if value < 0:
            raise ValueError(f"field {field}: unsigned value {value} is negative")
        self._key(field, WireType.VARINT)
        self._out += encode_varint(value)
        return self

    def sint(self, field: int, value: int) -> MessageWriter:
        """int32/int64 and enums: negative values take ten bytes on the wire."""
        self._key(field, WireType.VARINT)
        self._out += encode_varint(value)
        return self

    def boolean(self, field: int, value: bool) -> MessageWriter:
        return self.uint(field, 1 if value else 0)

    def fixed32(self, field: int, value: int) -> MessageWriter:
        self._key(field, WireType.I32)
        self._out += struct.pack("<I", value & 0xFFFFFFFF)
        return self

    def fixed64(self, field: int, value: int) -> MessageWriter:
        self._key(field, WireType.I64)
        self._out += struct.pack("<Q", value & _UINT64_MASK)
        return self

    def blob(self, field: int, value: bytes) -> MessageWriter:
        self._key(field, WireType.LEN)
        self._out += encode_varint(len(value))
        self._out += value
        return self

    def string(self, field: int, value: str) -> MessageWriter:
        return self.blob(field, value.encode("utf-8"))

    def message(self, field: int, value: MessageWriter | bytes) -> MessageWriter:
        return self.blob(field, value.to_bytes() if isinstance(value, MessageWriter) else value)

    def packed_uints(self, field: int, values: Iterable[int]) -> MessageWriter:
        return self.blob(field, b"".join(encode_varint(v) for v in values))

    def to_bytes(self) -> bytes:
        return bytes(self._out)


FieldValue = int | bytes


class Message:
    """A decoded message: each field number maps to its values in wire order (repeated fields keep them all).

    Accessors follow proto3: a missing scalar is its default, the last value of a non-repeated field wins.
    """

    def __init__(self, fields: dict[int, list[tuple[WireType, FieldValue]]]) -> None:
        self._fields = fields

    @classmethod
    def parse(cls, data: bytes) -> Message:
        fields: dict[int, list[tuple[WireType, FieldValue]]] = {}
        offset = 0
        while offset < len(data):
            key, offset = decode_varint(data, offset)
            field, wire = key >> 3, key & 7
            if field == 0:
                raise ProtobufError(f"field number 0 at byte {offset}")
            value: FieldValue
            if wire == WireType.VARINT:
                value, offset = decode_varint(data, offset)
            elif wire == WireType.I64:
                value, offset = _fixed(data, offset, 8, field)
            elif wire == WireType.I32:
                value, offset = _fixed(data, offset, 4, field)
            elif wire == WireType.LEN:
                length, offset = decode_varint(data, offset)
                if offset + length > len(data):
                    raise ProtobufError(f"field {field} claims {length} bytes but the message ends first")
                value, offset = bytes(data[offset : offset + length]), offset + length
            else:
                raise ProtobufError(f"field {field} has unsupported wire type {wire}")
            fields.setdefault(field, []).append((WireType(wire), value))
        return cls(fields)

    def has(self, field: int) -> bool:
        return field in self._fields

    def _last(self, field: int, wire: WireType) -> FieldValue | None:
        values = [v for w, v in self._fields.get(field, ()) if w == wire]
        return values[-1] if values else None

    def uint(self, field: int, default: int = 0) -> int:
        value = self._last(field, WireType.VARINT)
        return default if value is None else int(value)

    def int32(self, field: int, default: int = 0) -> int:
        value = self._last(field, WireType.VARINT)
        return default if value is None else to_signed(int(value), 32)

    def int64(self, field: int, default: int = 0) -> int:
        value = self._last(field, WireType.VARINT)
        return default if value is None else to_signed(int(value), 64)

    def boolean(self, field: int, default: bool = False) -> bool:
        value = self._last(field, WireType.VARINT)
        return default if value is None else value != 0

    def fixed32(self, field: int, default: int = 0) -> int:
        value = self._last(field, WireType.I32)
        return default if value is None else int(value)

    def fixed64(self, field: int, default: int = 0) -> int:
        value = self._last(field, WireType.I64)
        return default if value is None else int(value)

    def blob(self, field: int) -> bytes | None:
        value = self._last(field, WireType.LEN)
        return None if value is None else bytes(value)

    def string(self, field: int, default: str = "") -> str:
        value = self.blob(field)
        if value is None:
            return default
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtobufError(f"field {field} is not valid UTF-8 text") from exc

    def message(self, field: int) -> Message | None:
        value = self.blob(field)
        return None if value is None else Message.parse(value)

    def messages(self, field: int) -> list[Message]:
        return [Message.parse(bytes(v)) for w, v in self._fields.get(field, ()) if w == WireType.LEN]

    def uints(self, field: int) -> list[int]:
        """A repeated varint field, packed or not (a parser must accept both)."""
        out: list[int] = []
        for wire, value in self._fields.get(field, ()):
            if wire == WireType.VARINT:
                out.append(int(value))
            elif wire == WireType.LEN:
                packed, offset = bytes(value), 0
                while offset < len(packed):
                    item, offset = decode_varint(packed, offset)
                    out.append(item)
        return out

    def field_numbers(self) -> list[int]:
        return sorted(self._fields)


def _fixed(data: bytes, offset: int, size: int, field: int) -> tuple[int, int]:
    if offset + size > len(data):
        raise ProtobufError(f"field {field} needs {size} bytes but the message ends first")
    return int.from_bytes(data[offset : offset + size], "little"), offset + size


# ---- Field numbers (device-os-protobuf 2.9.0). One class per message; names follow the .proto files, with the
# package in front (Cloud…, Ctrl…) where the bare message name would clash with a station type. ----


class StringReply:
    """GetDeviceIdReply.id, GetSerialNumberReply.serial, GetSystemVersionReply.version: all field 1."""

    VALUE = 1


class GetDeviceModeReply:
    MODE = 1


class SetDeviceSetupDoneRequest:
    DONE = 1


class IsDeviceSetupDoneReply:
    DONE = 1


class SetClaimCodeRequest:
    CODE = 1


class IsClaimedReply:
    CLAIMED = 1


class GetIccidReply:
    ICCID = 1
    IMEI = 2


class GetModuleInfoReply:
    MODULES_DEPRECATED = 1
    MODULES = 2


class CloudFirmwareModule:
    """particle.cloud.FirmwareModule (the ``modules`` format of request 90)."""

    TYPE = 1
    INDEX = 2
    VERSION = 3
    STORE = 4
    MAX_SIZE = 5
    CHECKED_FLAGS = 6
    PASSED_FLAGS = 7
    HASH = 8
    DEPENDENCIES = 9
    ASSET_DEPENDENCIES = 10
    SIZE = 11
    SECURITY = 12


class CloudFirmwareModuleDependency:
    """particle.cloud.FirmwareModuleDependency."""

    TYPE = 1
    INDEX = 2
    VERSION = 3


class DeprecatedModule:
    """particle.ctrl Module (the deprecated ``modules_deprecated`` format of request 90; ctrl type enum)."""

    TYPE = 1
    INDEX = 2
    VERSION = 3
    SIZE = 4
    VALIDITY = 5
    DEPENDENCIES = 6


class StartFirmwareUpdateRequest:
    SIZE = 1
    FORMAT = 2


class StartFirmwareUpdateReply:
    CHUNK_SIZE = 1


class FirmwareUpdateDataRequest:
    DATA = 1


class FinishFirmwareUpdateRequest:
    VALIDATE_ONLY = 1


class WifiNetworkRequest:
    """wifi.JoinNewNetworkRequest (500) and wifi.SetNetworkCredentialsRequest (507) share these fields."""

    SSID = 1
    BSSID = 2
    SECURITY = 3
    CREDENTIALS = 4
    INTERFACE_CONFIG = 5
    HIDDEN = 6


class CtrlWifiCredentials:
    """particle.ctrl.wifi.Credentials."""

    TYPE = 1
    PASSWORD = 2


class LegacyWifiSetCredentialsRequest:
    """WiFiSetCredentialsRequest (113, Gen 1/2)."""

    AP = 1


class LegacyWifiAccessPoint:
    SSID = 1
    BSSID = 2
    SECURITY = 3
    CIPHER = 4
    CHANNEL = 5
    MAX_DATA_RATE = 6
    RSSI = 7
    PASSWORD = 8


class GetProtectedStateReply:
    """particle.ctrl.GetProtectedStateReply (request 76, control/config.proto)."""

    STATE = 1
    OVERRIDDEN = 2


class SetProtectedStateRequest:
    """particle.ctrl.SetProtectedStateRequest (request 77, control/config.proto): action and the oneof ``data``."""

    ACTION = 1
    PREPARE = 2
    CONFIRM = 3


class SetProtectedStateRequestPrepare:
    SERVER_NONCE = 1


class SetProtectedStateRequestConfirm:
    SERVER_SIGNATURE = 1
    SERVER_PUBLIC_KEY_FINGERPRINT = 2


class SetProtectedStateReply:
    """particle.ctrl.SetProtectedStateReply: ``optional Prepare prepare = 1`` (absent when the device is Open)."""

    PREPARE = 1


class SetProtectedStateReplyPrepare:
    DEVICE_NONCE = 1
    DEVICE_SIGNATURE = 2
    DEVICE_PUBLIC_KEY_FINGERPRINT = 3
