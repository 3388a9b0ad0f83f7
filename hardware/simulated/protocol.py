"""Protocol numbers a simulated Particle device answers to (reference §2, §3, §5), as enums with the spec's values.

The simulator keeps its own copy of these numbers on purpose: it implements the device side independently of the
host code in ``hardware/usb``, so a host that misreads the reference is caught instead of mirrored.
"""

from __future__ import annotations

import enum

# --- USB chapter 9 -------------------------------------------------------------------------------------------------


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


DIRECTION_IN = 0x80
"""Bit 7 of bmRequestType: device-to-host."""


class StandardRequest(enum.IntEnum):
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
    DEVICE = 1
    CONFIGURATION = 2
    STRING = 3
    INTERFACE = 4
    ENDPOINT = 5
    DFU_FUNCTIONAL = 0x21


LANGID_EN_US = 0x0409
MS_OS_STRING_INDEX = 0xEE
"""Microsoft OS string descriptor ("MSFT100" + vendor code), served in normal and DFU mode (§1)."""
MS_OS_VENDOR_CODE = 0xEE
DEVICE_STATE_STRING_INDEX = 0xFA
"""DFU-mode device-state string (``sm=o`` …) served by 6.2.0+ bootloaders (§3.2)."""

# --- Control-request channel (§2) ----------------------------------------------------------------------------------


class ServiceRequest(enum.IntEnum):
    """bRequest of the framing services; 0x01..0x0F are reserved for them."""

    INIT = 1
    CHECK = 2
    SEND = 3
    RECV = 4
    RESET = 5


SERVICE_REQUEST_LAST = 0x0F
RAW_VENDOR_REQUEST = 0x50
"""The only raw (unframed) vendor request; wIndex selects what it does."""


class RawVendorIndex(enum.IntEnum):
    DEVICE_ID = 20
    SYSTEM_VERSION = 30
    RESET = 40
    CLOUD_DISCONNECT = 302


RAW_VENDOR_MAX_LENGTH = 64
"""Raw vendor IN requests need 1 <= wLength <= 64."""

SERVICE_REPLY_MIN_LENGTH = 64
"""INIT, CHECK and RESET stall when wLength is shorter than this."""
MAX_CHUNK_SIZE = 4096
POOLED_PAYLOAD_SIZE = 64
"""Payloads up to this size use a pooled buffer (INIT → OK); larger ones are allocated asynchronously (PENDING)."""
MAX_ACTIVE_REQUESTS = 4


class ServiceStatus(enum.IntEnum):
    OK = 0
    ERROR = 1
    PENDING = 2
    BUSY = 3
    NO_MEMORY = 4
    NOT_FOUND = 5


class ReplyField(enum.IntFlag):
    """Field flags of a service reply: which optional fields follow the u32 flags."""

    STATUS = 0x01
    ID = 0x02
    SIZE = 0x04
    RESULT = 0x08


class Result(enum.IntEnum):
    """Device OS system error codes carried in a service reply's result field."""

    OK = 0
    UNKNOWN = -1
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


class RequestType(enum.IntEnum):
    """Control request types (wIndex of INIT) that the simulator serves (§2.1)."""

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
    WIFI_SET_ANTENNA = 110
    WIFI_GET_ANTENNA = 111
    WIFI_SCAN = 112
    WIFI_SET_CREDENTIALS = 113
    WIFI_GET_CREDENTIALS = 114
    WIFI_CLEAR_CREDENTIALS = 115
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


class DeviceModeField(enum.IntEnum):
    """``particle.ctrl.DeviceMode`` as carried by requests 72 and 75."""

    NORMAL = 0
    LISTENING = 1


FIRMWARE_UPDATE_CHUNK_SIZE = 1024
"""chunk_size a device replies to StartFirmwareUpdate (250) (§2.3)."""

# --- DFU / DfuSe (§3) ----------------------------------------------------------------------------------------------


class DfuRequest(enum.IntEnum):
    DETACH = 0
    DNLOAD = 1
    UPLOAD = 2
    GETSTATUS = 3
    CLRSTATUS = 4
    GETSTATE = 5
    ABORT = 6


class DfuState(enum.IntEnum):
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
    """First byte of a DNLOAD with wValue 0."""

    GET_COMMANDS = 0x00
    SET_ADDRESS = 0x21
    ERASE = 0x41
    READ_UNPROTECT = 0x92
    ENTER_SAFE_MODE = 0xFA
    CLEAR_SECURITY_OVERRIDE = 0xFB


DFU_TRANSFER_SIZE = 4096
"""wTransferSize of the DFU functional descriptor; also the block size of the address formula."""
DFU_FUNCTIONAL_ATTRIBUTES = 0x0B
DFU_DETACH_TIMEOUT_MS = 255
DFU_VERSION_BCD = 0x011A
DFU_INTERFACE_CLASS = (0xFE, 0x01, 0x02)
"""bInterfaceClass, bInterfaceSubClass, bInterfaceProtocol of a DfuSe interface in DFU mode."""
DFU_DATA_FIRST_BLOCK = 2
"""Data DNLOAD/UPLOAD blocks start at wValue 2; address = (wValue − 2) × transfer size + pointer."""

# --- Module binaries (§5) ------------------------------------------------------------------------------------------


class ModuleFunction(enum.IntEnum):
    """``module_function`` of a module prefix; also ``particle.cloud.FirmwareModule.type``."""

    NONE = 0
    RESOURCE = 1
    BOOTLOADER = 2
    MONO_FIRMWARE = 3
    SYSTEM_PART = 4
    USER_PART = 5
    SETTINGS = 6
    NCP_FIRMWARE = 7
    RADIO_STACK = 8
    ASSET = 9


class LegacyModuleType(enum.IntEnum):
    """``particle.ctrl`` module type used by the deprecated module-info field 1 (Device OS below 5.6.0)."""

    INVALID = 0
    BOOTLOADER = 1
    SYSTEM_PART = 2
    USER_PART = 3
    MONO_FIRMWARE = 4
    NCP_FIRMWARE = 5
    RADIO_STACK = 6


class ModuleStore(enum.IntEnum):
    MAIN = 0
    FACTORY = 1
    BACKUP = 2
    SCRATCHPAD = 3


class ModuleCheck(enum.IntFlag):
    """Validity bits of a module (checked_flags / passed_flags)."""

    INTEGRITY = 0x02
    DEPENDENCIES = 0x04
    RANGE = 0x08
    PLATFORM = 0x10


class ModuleFlag(enum.IntFlag):
    DROP_MODULE_INFO = 0x01
    COMPRESSED = 0x02
    COMBINED = 0x04
    ENCRYPTED = 0x08
    PREFIX_EXTENSIONS = 0x10


class SuffixExtension(enum.IntEnum):
    END = 0x0000
    PRODUCT_DATA = 0x0001
    DYNAMIC_LOCATION = 0x0002
    INVALID = 0xFFFF
