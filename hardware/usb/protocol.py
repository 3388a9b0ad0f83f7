"""Numbers of the Particle USB protocols (USB requests, control-request framing, result codes, request types, DfuSe).

Every value comes from a public source: USB 2.0 ch. 9 for standard requests and descriptors; particle-usb 4.1.0
(src/usb-protocol.js, src/device-base.js, src/result.js) and Device OS 6.2.0 system/src/usb_control_request_channel.cpp
for the control-request channel and its result codes; Device OS system/inc/system_control.h for request types;
USB DFU 1.1, DfuSe 1.1a (ST UM0391) and particle-usb src/dfu.js for DFU/DfuSe.
The host's one home for these numbers. The simulated devices keep their own copy, written from the same sources
(hardware/simulated/*_facts.py), so that a wrong number on either side fails a test instead of passing on both.
"""

from __future__ import annotations

import enum

# --- USB 2.0 chapter 9 ---------------------------------------------------------------------------------------------

DIRECTION_IN = 0x80
"""Bit 7 of bmRequestType: device-to-host."""


class RequestKind(enum.IntEnum):
    """Bits 6..5 of bmRequestType."""

    STANDARD = 0
    CLASS = 1
    VENDOR = 2


class Recipient(enum.IntEnum):
    """Bits 4..0 of bmRequestType."""

    DEVICE = 0
    INTERFACE = 1
    ENDPOINT = 2


def request_type(direction_in: bool, kind: RequestKind, recipient: Recipient) -> int:
    """The bmRequestType byte of a control transfer."""
    return (DIRECTION_IN if direction_in else 0) | kind << 5 | recipient


class StandardRequest(enum.IntEnum):
    """bRequest of the standard requests."""

    GET_STATUS = 0
    CLEAR_FEATURE = 1
    SET_FEATURE = 3
    SET_ADDRESS = 5
    GET_DESCRIPTOR = 6
    SET_DESCRIPTOR = 7
    GET_CONFIGURATION = 8
    SET_CONFIGURATION = 9
    GET_INTERFACE = 10
    SET_INTERFACE = 11


class DescriptorType(enum.IntEnum):
    """bDescriptorType (the high byte of GET_DESCRIPTOR's wValue)."""

    DEVICE = 1
    CONFIGURATION = 2
    STRING = 3
    INTERFACE = 4
    ENDPOINT = 5
    DFU_FUNCTIONAL = 0x21


# bmRequestType values the host sends (particle-usb src/usb-protocol.js, src/dfu.js; USB 2.0 ch. 9 GET_DESCRIPTOR).
VENDOR_IN = request_type(True, RequestKind.VENDOR, Recipient.DEVICE)
VENDOR_OUT = request_type(False, RequestKind.VENDOR, Recipient.DEVICE)
DFU_CLASS_IN = request_type(True, RequestKind.CLASS, Recipient.INTERFACE)
DFU_CLASS_OUT = request_type(False, RequestKind.CLASS, Recipient.INTERFACE)
STANDARD_DEVICE_IN = request_type(True, RequestKind.STANDARD, Recipient.DEVICE)

# Plain-int names the host uses to read strings and the configuration descriptor.
GET_DESCRIPTOR = int(StandardRequest.GET_DESCRIPTOR)
DESCRIPTOR_CONFIGURATION = int(DescriptorType.CONFIGURATION)
DESCRIPTOR_STRING = int(DescriptorType.STRING)
DESCRIPTOR_INTERFACE = int(DescriptorType.INTERFACE)
DESCRIPTOR_DFU_FUNCTIONAL = int(DescriptorType.DFU_FUNCTIONAL)
LANGID_EN_US = 0x0409
STRING_DESCRIPTOR_MAX_LENGTH = 255

# --- Control-request channel (particle-usb src/usb-protocol.js; Device OS system/src/usb_control_request_channel.cpp)

TRANSFER_TIMEOUT_MS = 5000
"""libusb timeout of one control transfer (particle-usb src/usb-device-node.js)."""

SERVICE_REPLY_LENGTH = 64
"""wLength of INIT, CHECK and RESET: the device stalls a shorter buffer (Device OS usb_control_request_channel.cpp)."""

MAX_CHUNK_SIZE = 4096
"""Largest SEND/RECV data stage (particle-usb src/usb-device-node.js, MAX_CONTROL_TRANSFER_DATA_SIZE)."""

MAX_PAYLOAD_SIZE = 65535
"""Largest request payload: INIT carries the size in the 16-bit wValue (particle-usb src/usb-protocol.js)."""

DEFAULT_REQUEST_TIMEOUT_S = 60.0
"""particle-usb's default per-request timeout (src/config.js, requestTimeout)."""

CHECK_DELAYS_S: tuple[float, ...] = (0.05, 0.05, 0.1, 0.1, 0.25, 0.25, 0.5, 0.5, 1.0)
"""particle-usb's CHECK polling back-off; the last delay repeats, the schedule restarts after SEND
(src/device-base.js, DEFAULT_CHECK_INTERVALS)."""


class ServiceRequest(enum.IntEnum):
    """bRequest of the control-request framing services (particle-usb src/usb-protocol.js, ServiceType)."""

    INIT = 1
    CHECK = 2
    SEND = 3
    RECV = 4
    RESET = 5


RAW_VENDOR_REQUEST = 0x50
"""bRequest of the raw (unframed) vendor requests (particle-usb src/usb-protocol.js, PARTICLE_BREQUEST)."""


class RawVendorIndex(enum.IntEnum):
    """wIndex of the raw 0x50 vendor requests (Device OS usb_control_request_channel.cpp, processVendorRequest)."""

    DEVICE_ID = 20
    SYSTEM_VERSION = 30
    RESET = 40
    CLOUD_DISCONNECT = 302


RAW_VENDOR_MAX_LENGTH = 64
"""Raw vendor IN requests need 1 <= wLength <= 64; the device stalls rather than truncate its reply
(Device OS system/src/usb_control_request_channel.cpp, processVendorRequest)."""
RAW_VENDOR_REPLY_LENGTH = RAW_VENDOR_MAX_LENGTH
"""wLength the host asks raw IN requests with: the most allowed, as particle-usb does (src/device-base.js)."""


class ServiceStatus(enum.IntEnum):
    """Status field of a service reply (particle-usb src/usb-protocol.js, Status)."""

    OK = 0
    ERROR = 1
    PENDING = 2
    BUSY = 3
    NO_MEMORY = 4
    NOT_FOUND = 5


class ReplyField(enum.IntFlag):
    """Field flags of a service reply: which optional fields follow the status (particle-usb src/usb-protocol.js)."""

    STATUS = 0x01
    ID = 0x02
    SIZE = 0x04
    RESULT = 0x08


class ResultCode(enum.IntEnum):
    """System result codes a request can finish with (particle-usb src/result.js)."""

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
"""Result of request 21 on a device whose serial number was never written (Device OS system_control_internal.cpp)."""


class RequestType(enum.IntEnum):
    """Control request types (wIndex of INIT; Device OS system/inc/system_control.h): those the station sends and those
a simulated device serves."""

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
    SET_STARTUP_MODE = 75
    GET_PROTECTED_STATE = 76
    SET_PROTECTED_STATE = 77
    GET_MODULE_INFO = 90
    WIFI_LEGACY_SET_ANTENNA = 110
    WIFI_LEGACY_GET_ANTENNA = 111
    WIFI_LEGACY_SCAN = 112
    WIFI_LEGACY_SET_CREDENTIALS = 113
    WIFI_LEGACY_GET_CREDENTIALS = 114
    WIFI_LEGACY_CLEAR_CREDENTIALS = 115
    SET_CLAIM_CODE = 200
    IS_CLAIMED = 201
    START_FIRMWARE_UPDATE = 250
    FINISH_FIRMWARE_UPDATE = 251
    CANCEL_FIRMWARE_UPDATE = 252
    FIRMWARE_UPDATE_DATA = 253
    CLOUD_GET_STATUS = 300
    CLOUD_CONNECT = 301
    CLOUD_DISCONNECT = 302
    WIFI_JOIN_NEW_NETWORK = 500
    WIFI_JOIN_KNOWN_NETWORK = 501
    WIFI_GET_KNOWN_NETWORKS = 502
    WIFI_REMOVE_KNOWN_NETWORK = 503
    WIFI_CLEAR_KNOWN_NETWORKS = 504
    WIFI_GET_CURRENT_NETWORK = 505
    WIFI_SCAN_NETWORKS = 506
    WIFI_SET_NETWORK_CREDENTIALS = 507
    CELLULAR_GET_ICCID = 554


class DeviceModeValue(enum.IntEnum):
    """``particle.ctrl.DeviceMode`` of requests 72 (reply) and 75 (request) (device-os-protobuf config.proto)."""

    NORMAL = 0
    LISTENING = 1


# --- DFU / DfuSe (USB DFU 1.1; DfuSe 1.1a, ST UM0391; particle-usb src/dfu.js) ---------------------------------------


class DfuRequest(enum.IntEnum):
    """DFU class requests, recipient interface 0 (USB DFU 1.1; particle-usb src/dfu.js)."""

    DETACH = 0
    DNLOAD = 1
    UPLOAD = 2
    GETSTATUS = 3
    CLRSTATUS = 4
    GETSTATE = 5
    ABORT = 6


class DfuState(enum.IntEnum):
    """bState of a DFU GETSTATUS reply (USB DFU 1.1)."""

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
    """bStatus of a DFU GETSTATUS reply (USB DFU 1.1)."""

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
    """First byte of a DfuSe command download (wValue 0; DfuSe 1.1a; Particle's 0xFA/0xFB: particle-usb src/dfu.js)."""

    GET_COMMANDS = 0x00
    SET_ADDRESS = 0x21
    ERASE = 0x41
    READ_UNPROTECT = 0x92
    ENTER_SAFE_MODE = 0xFA
    CLEAR_SECURITY_OVERRIDE = 0xFB


DFU_STATUS_LENGTH = 6
DFU_COMMAND_BLOCK = 0
DFU_FIRST_DATA_BLOCK = 2
"""Data blocks start at wBlockNum 2: address = (block − 2) × transfer size + pointer (DfuSe 1.1a, ST UM0391)."""
DFU_DEFAULT_TRANSFER_SIZE = 1024
"""particle-usb's wTransferSize when the device has no DFU functional descriptor (src/dfu.js)."""
DFU_INTERFACE = 0
