"""The device side's protobuf codec for the control requests, as nanopb in Device OS encodes and decodes them:
proto3 defaults omitted when encoding, a field map when decoding (varint, fixed32, fixed64, length-delimited).

Written from the Protocol Buffers encoding specification (protobuf.dev "Encoding": base-128 varints, field key =
number << 3 | wire type), not the host's ``hardware.usb.protobuf``: the two codecs check each other.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Iterable

from hardware.simulated.errors import SimulationError

FieldValue = int | bytes
Fields = dict[int, list[FieldValue]]


class WireError(SimulationError):
    """A request payload is not a valid protobuf message."""


class WireType(enum.IntEnum):
    """The low three bits of a field key (protobuf encoding spec, "Message Structure")."""

    VARINT = 0
    I64 = 1
    LEN = 2
    I32 = 5


_MAX_VARINT_BYTES = 10
_UINT64 = (1 << 64) - 1


def encode_varint(value: int) -> bytes:
    """Seven bits per byte, least significant group first, high bit set on every byte but the last; negative
    int32/int64 values go out as their 64-bit two's complement (ten bytes)."""
    value &= _UINT64
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_varint(data: bytes, pos: int) -> tuple[int, int]:
    """The varint at ``pos`` and the position after it."""
    value = 0
    for count in range(_MAX_VARINT_BYTES):
        if pos >= len(data):
            raise WireError("protobuf payload ends inside a varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << (7 * count)
        if not byte & 0x80:
            return value & _UINT64, pos
    raise WireError(f"protobuf varint longer than {_MAX_VARINT_BYTES} bytes")


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


def decode(data: bytes) -> Fields:
    """Every field of a message by number, in order; unknown fields are kept like known ones."""
    fields: Fields = {}
    pos = 0
    while pos < len(data):
        key, pos = decode_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise WireError("protobuf field number 0 is invalid")
        value: FieldValue
        if wire_type == WireType.VARINT:
            value, pos = decode_varint(data, pos)
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
            length, pos = decode_varint(data, pos)
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
