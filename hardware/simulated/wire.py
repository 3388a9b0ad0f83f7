"""The device side's proto3 fields for the control requests: defaults omitted when encoding, and a field map when
decoding (varint, fixed32, fixed64, bytes).

The wire primitives (varints, wire types) are the host's ``hardware.usb.protobuf``: an encoding, not protocol
knowledge. The field-level rules here (omitted defaults, last value wins whatever its wire type) are the device's own.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from hardware.simulated.errors import SimulationError
from hardware.usb.protobuf import ProtobufError, WireType, decode_varint, encode_varint

FieldValue = int | bytes
Fields = dict[int, list[FieldValue]]


class WireError(SimulationError):
    """A request payload is not a valid protobuf message."""


def _key(number: int, wire_type: WireType) -> bytes:
    return encode_varint(number << 3 | wire_type)


def varint_field(number: int, value: int, *, always: bool = False) -> bytes:
    """An int/enum/bool field; proto3 omits the default 0 unless ``always``."""
    if value == 0 and not always:
        return b""
    return _key(number, WireType.VARINT) + encode_varint(value)


def bool_field(number: int, value: bool) -> bytes:
    return varint_field(number, int(value))


def fixed32_field(number: int, value: int) -> bytes:
    if value == 0:
        return b""
    return _key(number, WireType.I32) + struct.pack("<I", value & 0xFFFFFFFF)


def bytes_field(number: int, value: bytes, *, always: bool = False) -> bytes:
    """A bytes/string/sub-message field; proto3 omits an empty value unless ``always`` (``optional`` fields)."""
    if not value and not always:
        return b""
    return _key(number, WireType.LEN) + encode_varint(len(value)) + value


def string_field(number: int, value: str) -> bytes:
    return bytes_field(number, value.encode("utf-8"))


def repeated_messages(number: int, messages: Iterable[bytes]) -> bytes:
    """A repeated sub-message field: every element is written, even an empty one."""
    return b"".join(bytes_field(number, message, always=True) for message in messages)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    try:
        return decode_varint(data, pos)
    except ProtobufError as exc:
        raise WireError(f"protobuf payload: {exc}") from None


def decode(data: bytes) -> Fields:
    """Every field of a message by number, in order; unknown fields are kept like known ones."""
    fields: Fields = {}
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise WireError("protobuf field number 0 is invalid")
        value: FieldValue
        if wire_type == WireType.VARINT:
            value, pos = _read_varint(data, pos)
        elif wire_type == WireType.I32:
            if pos + 4 > len(data):
                raise WireError("truncated fixed32 in protobuf payload")
            value = struct.unpack_from("<I", data, pos)[0]
            pos += 4
        elif wire_type == WireType.I64:
            if pos + 8 > len(data):
                raise WireError("truncated fixed64 in protobuf payload")
            value = struct.unpack_from("<Q", data, pos)[0]
            pos += 8
        elif wire_type == WireType.LEN:
            length, pos = _read_varint(data, pos)
            if pos + length > len(data):
                raise WireError("truncated length-delimited field in protobuf payload")
            value = bytes(data[pos : pos + length])
            pos += length
        else:
            raise WireError(f"unsupported protobuf wire type {wire_type}")
        fields.setdefault(number, []).append(value)
    return fields


def get_int(fields: Fields, number: int, default: int = 0) -> int:
    """The last value of an integer field (proto3 semantics: the last one wins)."""
    values = [v for v in fields.get(number, []) if isinstance(v, int)]
    return values[-1] if values else default


def get_bytes(fields: Fields, number: int, default: bytes = b"") -> bytes:
    values = [v for v in fields.get(number, []) if isinstance(v, bytes)]
    return values[-1] if values else default


def get_str(fields: Fields, number: int, default: str = "") -> str:
    raw = get_bytes(fields, number)
    if not raw:
        return default
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise WireError(f"protobuf field {number} is not valid UTF-8") from None


def get_messages(fields: Fields, number: int) -> list[Fields]:
    return [decode(v) for v in fields.get(number, []) if isinstance(v, bytes)]
