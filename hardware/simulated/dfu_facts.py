"""DFU 1.1 and DfuSe 1.1a wire facts the simulated bootloader serves: class requests, states, statuses, DfuSe
commands, the functional descriptor, and Particle's additions (commands 0xFA/0xFB, the 0xFA device-state string).

Written from the USB DFU 1.1 specification, ST's DfuSe 1.1a extension (UM0424 / AN3156) and Particle's bootloaders
(Device OS ``bootloader/src/nRF52840/usbd_dfu.{h,cpp}``, ``bootloader/src/rtl872x/usbd_dfu.{h,cpp}``), as particle-usb
drives them (``src/dfu.js``), not imported from the host's ``hardware.usb.protocol``.
"""

from __future__ import annotations

import enum


class DfuRequest(enum.IntEnum):
    """bRequest of the DFU class requests, recipient interface (DFU 1.1 §3, Table 3.2)."""

    DETACH = 0
    DNLOAD = 1
    UPLOAD = 2
    GETSTATUS = 3
    CLRSTATUS = 4
    GETSTATE = 5
    ABORT = 6


DIRECTION_IN_REQUESTS = frozenset({DfuRequest.UPLOAD, DfuRequest.GETSTATUS, DfuRequest.GETSTATE})
"""The requests with a device-to-host data stage (DFU 1.1 Table 3.2)."""


class DfuState(enum.IntEnum):
    """bState (DFU 1.1 §6.1.2)."""

    APP_IDLE = 0
    APP_DETACH = 1
    DFU_IDLE = 2
    DFU_DNLOAD_SYNC = 3
    DFU_DNBUSY = 4
    DFU_DNLOAD_IDLE = 5
    DFU_MANIFEST_SYNC = 6
    DFU_MANIFEST = 7
    DFU_MANIFEST_WAIT_RESET = 8
    DFU_UPLOAD_IDLE = 9
    DFU_ERROR = 10


class DfuStatus(enum.IntEnum):
    """bStatus (DFU 1.1 §6.1.2); the simulated bootloader reports the ones Particle's bootloaders use."""

    OK = 0x00
    ERR_TARGET = 0x01
    ERR_FILE = 0x02
    ERR_WRITE = 0x03
    ERR_ERASE = 0x04
    ERR_CHECK_ERASED = 0x05
    ERR_PROG = 0x06
    ERR_VERIFY = 0x07
    ERR_ADDRESS = 0x08
    ERR_NOTDONE = 0x09
    ERR_FIRMWARE = 0x0A
    ERR_VENDOR = 0x0B
    ERR_USBR = 0x0C
    ERR_POR = 0x0D
    ERR_UNKNOWN = 0x0E
    ERR_STALLEDPKT = 0x0F


class DfuseCommand(enum.IntEnum):
    """First byte of a DNLOAD with wBlockNum 0 (DfuSe 1.1a "Special commands"); 0xFA and 0xFB are Particle's
    (particle-usb ``src/dfu.js``, Device OS ``bootloader/src/nRF52840/usbd_dfu.h``)."""

    GET_COMMANDS = 0x00
    SET_ADDRESS = 0x21
    ERASE = 0x41
    READ_UNPROTECT = 0x92
    ENTER_SAFE_MODE = 0xFA
    CLEAR_SECURITY_OVERRIDE = 0xFB


COMMAND_WITH_ADDRESS_LENGTH = 5
"""Set-address and erase carry the command byte and a u32 little-endian address (DfuSe 1.1a)."""
COMMAND_BLOCK = 0
"""wBlockNum of DfuSe commands (DNLOAD) and of the command list (UPLOAD) (DfuSe 1.1a)."""
FIRST_DATA_BLOCK = 2
"""Data blocks start at wBlockNum 2: address = (wBlockNum - 2) x wTransferSize + address pointer (DfuSe 1.1a);
block 1 is reserved (Particle's bootloaders answer errTARGET)."""

STATUS_LENGTH = 6
"""GETSTATUS reply: bStatus u8, bwPollTimeout u24 LE (ms), bState u8, iString u8 (DFU 1.1 §6.1.2)."""

# --- Descriptors (DFU 1.1 §4.2; DfuSe 1.1a) ------------------------------------------------------------------------

INTERFACE_CLASS = (0xFE, 0x01, 0x02)
"""bInterfaceClass application-specific, subclass DFU (DFU 1.1 §4.2.3), protocol 2 = DFU mode (DFU 1.1 §4.2.3)."""
FUNCTIONAL_DESCRIPTOR_TYPE = 0x21
FUNCTIONAL_DESCRIPTOR_LENGTH = 9
"""DFU functional descriptor (DFU 1.1 §4.1.3, Table 4.2)."""
FUNCTIONAL_ATTRIBUTES = 0x0B
"""bitCanDnload | bitCanUpload | bitWillDetach, as Particle's nRF/RTL bootloaders declare (usbd_dfu.h)."""
DETACH_TIMEOUT_MS = 255
TRANSFER_SIZE = 4096
"""wTransferSize of Particle's bootloaders; also the block size of the DfuSe address formula."""
DFUSE_VERSION_BCD = 0x011A
"""bcdDFUVersion of a DfuSe device (DfuSe 1.1a)."""

DEVICE_STATE_STRING_INDEX = 0xFA
DEVICE_STATE_OPEN = "sm=o"
"""String 0xFA of 6.2.0+ bootloaders: ``sm=o`` (open), ``sm=s`` (service mode), ``sm=p`` (protected), padded with
four NULs (Device OS ``bootloader/src/nRF52840/usbd_dfu.cpp``; particle-usb ``src/dfu.js``). The letter follows the
device's protection state at request time (``dfu.DfuBootloader.string_override``)."""
DEVICE_STATE_PADDING = "\0" * 4
