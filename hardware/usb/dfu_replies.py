"""Parsed DFU replies and descriptors: the GETSTATUS reply and what the configuration descriptor says about DFU.

Facts: USB DFU 1.1 (GETSTATUS layout, the DFU functional descriptor); Device OS 6.2.0 bootloader/src/nRF52840/
usbd_dfu.cpp (one interface 0 with an alt setting per memory, the functional descriptor after the last interface);
particle-usb 4.1.0 src/dfu.js (wTransferSize, with its 1024 fallback).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from hardware.usb.errors import DfuError
from hardware.usb.protocol import (
    DESCRIPTOR_DFU_FUNCTIONAL,
    DESCRIPTOR_INTERFACE,
    DFU_DEFAULT_TRANSFER_SIZE,
    DFU_INTERFACE,
    DFU_STATUS_LENGTH,
    DfuState,
    DfuStatus,
)


def enum_name(enum_type: type[DfuState] | type[DfuStatus], value: int) -> str:
    try:
        return enum_type(value).name
    except ValueError:
        return str(value)


@dataclass(frozen=True)
class DfuStatusReply:
    """A GETSTATUS reply: bStatus, bwPollTimeout (ms), bState, iString."""

    status: int
    poll_timeout_ms: int
    state: int
    string_index: int

    @classmethod
    def parse(cls, data: bytes, who: str) -> DfuStatusReply:
        if len(data) != DFU_STATUS_LENGTH:
            raise DfuError(f"{who} sent a {len(data)}-byte DFU status (expected 6); reset it and retry")
        poll = data[1] | (data[2] << 8) | (data[3] << 16)
        return cls(data[0], poll, data[4], data[5])

    def describe(self) -> str:
        return f"{enum_name(DfuStatus, self.status)} in {enum_name(DfuState, self.state)}"


@dataclass(frozen=True)
class DfuDescriptors:
    """What the configuration descriptor says about the DFU interface: alt settings' string indexes, block size."""

    alt_strings: dict[int, int]
    transfer_size: int
    has_functional_descriptor: bool

    @classmethod
    def parse(cls, raw: bytes) -> DfuDescriptors:
        alt_strings: dict[int, int] = {}
        transfer_size, functional = DFU_DEFAULT_TRANSFER_SIZE, False
        offset = 0
        while offset + 2 <= len(raw):
            length, kind = raw[offset], raw[offset + 1]
            if length < 2:
                break
            body = raw[offset : offset + length]
            if kind == DESCRIPTOR_INTERFACE and len(body) >= 9 and body[2] == DFU_INTERFACE:
                alt_strings[body[3]] = body[8]
            elif kind == DESCRIPTOR_DFU_FUNCTIONAL and len(body) >= 7 and alt_strings:
                (size,) = struct.unpack_from("<H", body, 5)
                transfer_size, functional = (size or DFU_DEFAULT_TRANSFER_SIZE), True
            offset += length
        return cls(alt_strings, transfer_size, functional)
