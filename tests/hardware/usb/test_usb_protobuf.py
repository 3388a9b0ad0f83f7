"""The proto3 wire codec: known encodings from the protobuf spec, round trips, and malformed input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.usb.protobuf import Message, MessageWriter, ProtobufError, decode_varint, encode_varint, to_signed

UINT64 = st.integers(min_value=0, max_value=2**64 - 1)
INT32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)
FIELD = st.integers(min_value=1, max_value=2**29 - 1)


def test_varint_150_is_encoded_as_in_the_protobuf_spec() -> None:
    assert encode_varint(150) == b"\x96\x01"


def test_negative_int32_takes_ten_bytes_on_the_wire() -> None:
    assert encode_varint(-1) == b"\xff" * 9 + b"\x01"


def test_explicit_false_bool_is_written_as_particle_usb_does() -> None:
    assert MessageWriter().boolean(1, False).to_bytes() == b"\x08\x00"


def test_string_field_encoding_matches_the_spec_example() -> None:
    assert MessageWriter().string(2, "testing").to_bytes() == b"\x12\x07testing"


@given(UINT64)
def test_varint_round_trips(value: int) -> None:
    decoded, offset = decode_varint(encode_varint(value), 0)
    assert (decoded, offset) == (value, len(encode_varint(value)))


@given(INT32)
def test_int32_round_trips_through_its_sign_extended_varint(value: int) -> None:
    data = MessageWriter().sint(3, value).to_bytes()
    assert Message.parse(data).int32(3) == value


@given(FIELD, UINT64, st.binary(max_size=200), st.text(max_size=50), st.integers(0, 2**32 - 1))
def test_mixed_message_round_trips(field: int, number: int, blob: bytes, text: str, fixed: int) -> None:
    other = field % 1000 + 1 if field % 1000 + 1 != field else field + 1
    data = (
        MessageWriter().uint(field, number).blob(other, blob).string(other + 1, text).fixed32(other + 2, fixed)
    ).to_bytes()
    msg = Message.parse(data)
    assert (msg.uint(field), msg.blob(other), msg.string(other + 1), msg.fixed32(other + 2)) == (
        number,
        blob,
        text,
        fixed,
    )


@given(st.lists(st.tuples(st.integers(0, 2**32), st.binary(max_size=40)), max_size=8))
def test_repeated_nested_messages_round_trip_in_order(items: list[tuple[int, bytes]]) -> None:
    outer = MessageWriter()
    for number, blob in items:
        outer.message(2, MessageWriter().uint(1, number).blob(8, blob))
    decoded = [(m.uint(1), m.blob(8)) for m in Message.parse(outer.to_bytes()).messages(2)]
    assert decoded == items


@given(st.lists(UINT64, max_size=20))
def test_repeated_varints_decode_packed_and_unpacked_alike(values: list[int]) -> None:
    packed = MessageWriter().packed_uints(4, values).to_bytes()
    unpacked = MessageWriter()
    for value in values:
        unpacked.uint(4, value)
    assert Message.parse(packed).uints(4) == Message.parse(unpacked.to_bytes()).uints(4) == values


def test_last_value_of_a_repeated_scalar_wins() -> None:
    data = MessageWriter().uint(1, 5).uint(1, 7).to_bytes()
    assert Message.parse(data).uint(1) == 7


def test_missing_fields_read_as_proto3_defaults() -> None:
    msg = Message.parse(b"")
    assert (msg.uint(1), msg.boolean(2), msg.string(3), msg.blob(4), msg.messages(5)) == (0, False, "", None, [])


def test_unknown_fields_of_every_wire_type_are_skipped() -> None:
    data = MessageWriter().fixed64(9, 1).fixed32(10, 2).blob(11, b"x").uint(1, 42).to_bytes()
    assert Message.parse(data).uint(1) == 42


def test_to_signed_reinterprets_the_low_32_bits() -> None:
    assert to_signed(0xFFFFFFFF, 32) == -1


@pytest.mark.parametrize(
    "data",
    [b"\x08", b"\x08\x80", b"\x12\x05abc", b"\x0d\x01\x02", b"\x0b", b"\x00\x01", b"\x08" + b"\xff" * 11],
    ids=["no-value", "cut-varint", "short-bytes", "short-fixed32", "group-wire-type", "field-zero", "long-varint"],
)
def test_malformed_messages_raise_protobuf_error(data: bytes) -> None:
    with pytest.raises(ProtobufError):
        Message.parse(data)


def test_invalid_utf8_in_a_string_field_raises_protobuf_error() -> None:
    msg = Message.parse(MessageWriter().blob(1, b"\xff\xfe").to_bytes())
    with pytest.raises(ProtobufError):
        msg.string(1)
