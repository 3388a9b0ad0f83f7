"""A small proto3 wire-format codec for the device side of the control requests (varint, fixed32, bytes)."""

from __future__ import annotations

import struct
from collections.abc import Iterable

from hardware.simulated.errors import SimulationError

_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5

FieldValue = int | bytes
Fields = dict[int, list[FieldValue]]


class WireError(SimulationError):
    """A request payload is not a valid protobuf message."""


def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64  # proto3 int32/int64: negative numbers are ten-byte two's complement
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def varint_field(number: int, value: int, *, always: bool = False) -> bytes:
    """An int/enum/bool field; proto3 omits the default 0 unless ``always``."""
    if value == 0 and not always:
        return b""
    return _key(number, _VARINT) + _varint(value)


def bool_field(number: int, value: bool) -> bytes:
    return varint_field(number, int(value))


def fixed32_field(number: int, value: int) -> bytes:
    if value == 0:
        return b""
    return _key(number, _FIXED32) + struct.pack("<I", value & 0xFFFFFFFF)


def bytes_field(number: int, value: bytes, *, always: bool = False) -> bytes:
    """A bytes/string/sub-message field; proto3 omits an empty value unless ``always`` (``optional`` fields)."""
    if not value and not always:
        return b""
    return _key(number, _BYTES) + _varint(len(value)) + value


def string_field(number: int, value: str) -> bytes:
    return bytes_field(number, value.encode("utf-8"))


def repeated_messages(number: int, messages: Iterable[bytes]) -> bytes:
    """A repeated sub-message field: every element is written, even an empty one."""
    return b"".join(bytes_field(number, message, always=True) for message in messages)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data):
            raise WireError("truncated varint in protobuf payload")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise WireError("varint longer than 10 bytes in protobuf payload")


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
        if wire_type == _VARINT:
            value, pos = _read_varint(data, pos)
        elif wire_type == _FIXED32:
            if pos + 4 > len(data):
                raise WireError("truncated fixed32 in protobuf payload")
            value = struct.unpack_from("<I", data, pos)[0]
            pos += 4
        elif wire_type == _FIXED64:
            if pos + 8 > len(data):
                raise WireError("truncated fixed64 in protobuf payload")
            value = struct.unpack_from("<Q", data, pos)[0]
            pos += 8
        elif wire_type == _BYTES:
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


def get_signed(fields: Fields, number: int, default: int = 0) -> int:
    value = get_int(fields, number, default)
    return value - (1 << 64) if value >= 1 << 63 else value


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
