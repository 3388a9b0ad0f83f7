"""Numbers of the Particle USB protocols (control-request framing, result codes, request types, DfuSe), in one place.

Every value is written from reference/particle-device-protocol.md: §2 for the control-request channel and its result
codes, §2.1 for request types, §3.1 for DFU/DfuSe. Host code and simulators use these enums; nothing else in the
package spells these numbers.
"""

from __future__ import annotations

import enum

# bmRequestType values (§2, §3.1, §1 "how the host reads them").
VENDOR_IN = 0xC0
VENDOR_OUT = 0x40
DFU_CLASS_IN = 0xA1
DFU_CLASS_OUT = 0x21
STANDARD_DEVICE_IN = 0x80

# Standard requests and descriptor types (USB 2.0 ch. 9) used to read strings and the configuration descriptor.
GET_DESCRIPTOR = 6
DESCRIPTOR_CONFIGURATION = 2
DESCRIPTOR_STRING = 3
DESCRIPTOR_INTERFACE = 4
DESCRIPTOR_DFU_FUNCTIONAL = 0x21
LANGID_EN_US = 0x0409
STRING_DESCRIPTOR_MAX_LENGTH = 255

TRANSFER_TIMEOUT_MS = 5000
"""libusb timeout of one control transfer (§2)."""

SERVICE_REPLY_LENGTH = 64
"""wLength of INIT, CHECK and RESET: the device stalls a shorter buffer (§2)."""

MAX_CHUNK_SIZE = 4096
"""Largest SEND/RECV data stage (§2)."""

MAX_PAYLOAD_SIZE = 65535
"""Largest request payload: INIT carries the size in the 16-bit wValue (§2)."""

DEFAULT_REQUEST_TIMEOUT_S = 60.0
"""particle-usb's default per-request timeout (§2)."""

CHECK_DELAYS_S: tuple[float, ...] = (0.05, 0.05, 0.1, 0.1, 0.25, 0.25, 0.5, 0.5, 1.0)
"""particle-usb's CHECK polling back-off; the last delay repeats, the schedule restarts after SEND (§2)."""


class ServiceRequest(enum.IntEnum):
    """bRequest of the control-request framing services (§2)."""

    INIT = 1
    CHECK = 2
    SEND = 3
    RECV = 4
    RESET = 5


RAW_VENDOR_REQUEST = 0x50
"""bRequest of the raw (unframed) vendor requests (§2)."""


class RawVendorIndex(enum.IntEnum):
    """wIndex of the raw 0x50 vendor requests (§2)."""

    DEVICE_ID = 20
    SYSTEM_VERSION = 30
    RESET = 40
    CLOUD_DISCONNECT = 302


RAW_VENDOR_REPLY_LENGTH = 64
"""wLength of raw IN requests; the device stalls when shorter than its reply (§8)."""


class ServiceStatus(enum.IntEnum):
    """Status field of a service reply (§2)."""

    OK = 0
    ERROR = 1
    PENDING = 2
    BUSY = 3
    NO_MEMORY = 4
    NOT_FOUND = 5


class ReplyField(enum.IntFlag):
    """Field flags of a service reply: which optional fields follow the status (§2)."""

    STATUS = 0x01
    ID = 0x02
    SIZE = 0x04
    RESULT = 0x08


class ResultCode(enum.IntEnum):
    """System result codes a request can finish with (§2, particle-usb ``result.js``)."""

    OK = 0
    ERROR = -100
    BUSY = -110
    NOT_SUPPORTED = -120
    NOT_ALLOWED = -130
    CANCELLED = -140
    ABORTED = -150
    TIMEOUT = -160
    NOT_FOUND = -170
    ALREADY_EXISTS = -180
    TOO_LARGE = -190
    LIMIT_EXCEEDED = -200
    INVALID_STATE = -210
    IO = -220
    NETWORK = -230
    PROTOCOL = -240
    INTERNAL = -250
    NO_MEMORY = -260
    INVALID_ARGUMENT = -270
    BAD_DATA = -280
    OUT_OF_RANGE = -290
    DEVICE_PROTECTED = -1801
    KEY_MISMATCH = -1802
    INVALID_SIGNATURE = -1803


SERIAL_NUMBER_NOT_PROVISIONED = -1
"""Result of request 21 on a device whose serial number was never written (§2.1)."""


class RequestType(enum.IntEnum):
    """Control request types the station sends (§2.1)."""

    ECHO = 1
    DEVICE_ID = 20
    SERIAL_NUMBER = 21
    SYSTEM_VERSION = 30
    NCP_FIRMWARE_VERSION = 31
    RESET = 40
    FACTORY_RESET = 41
    DFU_MODE = 50
    SAFE_MODE = 60
    START_LISTENING = 70
    STOP_LISTENING = 71
    GET_DEVICE_MODE = 72
    SET_DEVICE_SETUP_DONE = 73
    IS_DEVICE_SETUP_DONE = 74
    GET_PROTECTED_STATE = 76
    GET_MODULE_INFO = 90
    WIFI_LEGACY_SET_CREDENTIALS = 113
    SET_CLAIM_CODE = 200
    IS_CLAIMED = 201
    START_FIRMWARE_UPDATE = 250
    FINISH_FIRMWARE_UPDATE = 251
    CANCEL_FIRMWARE_UPDATE = 252
    FIRMWARE_UPDATE_DATA = 253
    WIFI_JOIN_NEW_NETWORK = 500
    WIFI_SET_NETWORK_CREDENTIALS = 507
    CELLULAR_GET_ICCID = 554


class DfuRequest(enum.IntEnum):
    """DFU class requests, recipient interface 0 (§3.1)."""

    DETACH = 0
    DNLOAD = 1
    UPLOAD = 2
    GETSTATUS = 3
    CLRSTATUS = 4
    GETSTATE = 5
    ABORT = 6


class DfuState(enum.IntEnum):
    """bState of a DFU GETSTATUS reply (§3.1)."""

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
    """bStatus of a DFU GETSTATUS reply (DFU 1.1, §3.1)."""

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
    """First byte of a DfuSe command download (wValue 0, §3.1)."""

    GET_COMMANDS = 0x00
    SET_ADDRESS = 0x21
    ERASE = 0x41
    READ_UNPROTECT = 0x92
    ENTER_SAFE_MODE = 0xFA
    CLEAR_SECURITY_OVERRIDE = 0xFB


DFU_STATUS_LENGTH = 6
DFU_COMMAND_BLOCK = 0
DFU_FIRST_DATA_BLOCK = 2
"""Data blocks start at wBlockNum 2: address = (block − 2) × transfer size + pointer (§3.1)."""
DFU_DEFAULT_TRANSFER_SIZE = 1024
"""particle-usb's wTransferSize when the device has no DFU functional descriptor (§3.2)."""
DFU_INTERFACE = 0


class DeviceModeValue(enum.IntEnum):
    """DeviceMode enum of request 72 (§2.2)."""

    NORMAL = 0
    LISTENING = 1
