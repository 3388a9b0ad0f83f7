"""The Particle USB control-request protocol as a device speaks it: vendor-request framing (INIT/CHECK/SEND/RECV/
RESET), service reply layout and statuses, the raw 0x50 vendor requests, request types and result codes.

Written from the public sources (particle-usb ``src/usb-protocol.js``, ``src/result.js``; Device OS
``system/src/usb_control_request_channel.{h,cpp}``, ``system/inc/system_control.h``, ``services/inc/system_error.h``),
not imported from the host's ``hardware.usb.protocol``: the simulated device is the other end of the wire.
"""

from __future__ import annotations

import enum

# --- Framing (Device OS usb_control_request_channel.h; particle-usb src/usb-protocol.js) ---------------------------


class ServiceRequest(enum.IntEnum):
    """bRequest of the framing services; vendor requests to the device, IN except SEND (usb-protocol.js)."""

    INIT = 1
    CHECK = 2
    SEND = 3
    RECV = 4
    RESET = 5


class ServiceStatus(enum.IntEnum):
    """u16 status of a service reply (usb-protocol.js ``ServiceReplyStatus``)."""

    OK = 0
    ERROR = 1
    PENDING = 2
    BUSY = 3
    NO_MEMORY = 4
    NOT_FOUND = 5


class ReplyField(enum.IntFlag):
    """u32 field flags at the start of a service reply: which fields follow the status (usb-protocol.js)."""

    STATUS = 0x01
    ID = 0x02
    SIZE = 0x04
    RESULT = 0x08


MIN_SERVICE_WLENGTH = 64
"""INIT, CHECK and RESET with a shorter wLength are stalled (usb_control_request_channel.cpp)."""
MAX_CHUNK_SIZE = 4096
"""Largest SEND/RECV data stage (usb_control_request_channel.h; particle-usb usb-protocol.js)."""
MAX_ACTIVE_REQUESTS = 4
"""Requests in flight at once; INIT beyond that answers BUSY (usb_control_request_channel.h)."""
POOLED_PAYLOAD_SIZE = 64
"""Payloads up to this size use a pooled buffer (INIT answers OK at once); larger ones are allocated
asynchronously (INIT answers PENDING) (usb_control_request_channel.cpp)."""
REQUEST_ID_LIMIT = 0x10000
"""Request ids are a 16-bit counter from 1; 0 means "none" (usb_control_request_channel.cpp)."""

# --- Raw vendor requests (usb_control_request_channel.cpp processVendorRequest) ---------------------------------------

RAW_VENDOR_REQUEST = 0x50
"""bRequest of the unframed vendor requests; wIndex selects what they do."""


class RawVendorIndex(enum.IntEnum):
    DEVICE_ID = 20
    """IN: the device id as 24 uppercase hex characters."""
    SYSTEM_VERSION = 30
    """IN: the Device OS version string, no NUL."""
    RESET = 40
    """OUT: reset at once."""
    CLOUD_DISCONNECT = 302
    """OUT: disconnect from the cloud."""


RAW_VENDOR_MAX_LENGTH = 64
"""Raw IN requests need 1 <= wLength <= 64; a wLength shorter than the reply is stalled, not truncated."""

# --- Request types (Device OS system/inc/system_control.h ctrl_request_type) ---------------------------------------


class RequestType(enum.IntEnum):
    """The INIT wIndex of each request a simulated device serves."""

    ECHO = 1
    APP_CUSTOM = 10
    """Raw bytes to and from the application's handler; NOT_SUPPORTED when it has none."""
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
    START_NYAN_SIGNAL = 230
    STOP_NYAN_SIGNAL = 231
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


# --- Result codes (Device OS services/inc/system_error.h; particle-usb src/result.js) ------------------------------


class ResultCode(enum.IntEnum):
    """The i32 result of a finished request."""

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
"""Result of request 21 when the serial number was never written (Device OS
``system/src/system_control_internal.cpp``)."""

FIRMWARE_UPDATE_CHUNK_SIZE = 1024
"""chunk_size a device replies to StartFirmwareUpdate (250) (Device OS ``system/src/control/storage.cpp``)."""
FIRMWARE_UPDATE_FORMAT_BIN = 0
"""StartFirmwareUpdateRequest.format BIN; MINIZ (1) is not supported (``proto/control/storage.proto``,
``system/src/control/storage.cpp``)."""
