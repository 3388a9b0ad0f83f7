"""Field numbers and enum values of the protobuf messages a simulated device decodes and encodes, one class per
message, from the ``particle.ctrl`` / ``particle.cloud`` schemas of @particle/device-os-protobuf
(``control/{config,storage,cloud,cellular,wifi_new,wifi}.proto``, ``cloud/describe.proto``).

The simulator's own copy: a host that reads a field under the wrong number gets nothing from a simulated device.
"""

from __future__ import annotations

# --- control/config.proto ------------------------------------------------------------------------------------------


class GetDeviceIdReply:
    ID = 1


class GetSerialNumberReply:
    SERIAL = 1


class GetSystemVersionReply:
    VERSION = 1


class GetNcpFirmwareVersionReply:
    VERSION = 1
    MODULE_VERSION = 2


class DeviceMode:
    """Enum ``particle.ctrl.DeviceMode`` (GetDeviceModeReply.mode, SetStartupModeRequest.mode)."""

    NORMAL = 0
    LISTENING = 1


class GetDeviceModeReply:
    MODE = 1


class SetStartupModeRequest:
    MODE = 1


class SetDeviceSetupDoneRequest:
    DONE = 1


class IsDeviceSetupDoneReply:
    DONE = 1


class SetProtectedStateRequest:
    ACTION = 1
    RESET, PREPARE, CONFIRM = 0, 1, 2
    """Values of ``action``."""


class SetClaimCodeRequest:
    CODE = 1
    MAX_LENGTH = 64
    """``code`` holds at most 64 characters (``control/config.proto``)."""


class IsClaimedReply:
    CLAIMED = 1


# --- control/storage.proto -----------------------------------------------------------------------------------------


class StartFirmwareUpdateRequest:
    SIZE = 1
    FORMAT = 2


class StartFirmwareUpdateReply:
    CHUNK_SIZE = 1


class FirmwareUpdateDataRequest:
    DATA = 1


class FinishFirmwareUpdateRequest:
    VALIDATE_ONLY = 1


class GetModuleInfoReply:
    MODULES_DEPRECATED = 1
    """Repeated ``particle.ctrl.Module`` (Device OS below 5.6.0)."""
    MODULES = 2
    """Repeated ``particle.cloud.FirmwareModule`` (Device OS 5.6.0 and later)."""


class LegacyModule:
    """``particle.ctrl.Module`` with its own type enum and a validity bit field."""

    TYPE = 1
    INDEX = 2
    VERSION = 3
    SIZE = 4
    VALIDITY = 5
    DEPENDENCIES = 6
    INTEGRITY_FAILED = 1
    DEPENDENCY_FAILED = 2
    """Bits of ``validity``."""


class LegacyModuleDependency:
    TYPE = 1
    INDEX = 2
    VERSION = 3


class LegacyModuleType:
    """Enum ``particle.ctrl.ModuleType``: not the prefix's module_function numbering."""

    INVALID = 0
    BOOTLOADER = 1
    SYSTEM_PART = 2
    USER_PART = 3
    MONO_FIRMWARE = 4
    NCP_FIRMWARE = 5
    RADIO_STACK = 6


# --- cloud/describe.proto ------------------------------------------------------------------------------------------


class FirmwareModule:
    """``particle.cloud.FirmwareModule``; its ``type`` and ``store`` enums number modules as the binary prefix does
    (FirmwareModuleType 0 INVALID ... 9 ASSET; FirmwareModuleStore 0 MAIN ... 3 SCRATCHPAD)."""

    TYPE = 1
    INDEX = 2
    VERSION = 3
    STORE = 4
    MAX_SIZE = 5
    CHECKED_FLAGS = 6
    PASSED_FLAGS = 7
    HASH = 8
    DEPENDENCIES = 9
    SIZE = 11


class FirmwareModuleDependency:
    TYPE = 1
    INDEX = 2
    VERSION = 3


# --- control/cloud.proto, control/cellular.proto -------------------------------------------------------------------


class GetConnectionStatusReply:
    STATUS = 1
    DISCONNECTED, CONNECTED = 0, 2
    """Values of ``status`` (``particle.ctrl.cloud.ConnectionStatus``)."""


class GetIccidReply:
    ICCID = 1
    IMEI = 2


# --- control/wifi_new.proto (Gen 3+) -------------------------------------------------------------------------------


class JoinNewNetworkRequest:
    """Also SetNetworkCredentialsRequest (507), which has the same fields."""

    SSID = 1
    BSSID = 2
    SECURITY = 3
    CREDENTIALS = 4
    HIDDEN = 6


class Credentials:
    TYPE = 1
    PASSWORD = 2
    TYPE_PASSWORD = 1
    """``CredentialsType.PASSWORD``; 0 is NO_CREDENTIALS."""


class SsidRequest:
    """JoinKnownNetworkRequest (501) and RemoveKnownNetworkRequest (503): ``ssid`` is field 1."""

    SSID = 1


class KnownNetwork:
    """GetKnownNetworksReply (502): ``networks`` = 1, each ssid = 1, security = 2, credentials_type = 3."""

    NETWORKS = 1
    SSID = 1
    SECURITY = 2
    CREDENTIALS_TYPE = 3


class GetCurrentNetworkReply:
    SSID = 1
    BSSID = 2
    CHANNEL = 3
    RSSI = 4


class ScannedNetwork:
    """ScanNetworksReply (506): ``networks`` = 1, each ssid = 1, bssid = 2, security = 3, channel = 4, rssi = 5."""

    NETWORKS = 1
    SSID = 1
    BSSID = 2
    SECURITY = 3
    CHANNEL = 4
    RSSI = 5


SECURITY_VALUES = frozenset(range(7))
"""Enum ``particle.ctrl.wifi.Security``: 0 NO_SECURITY ... 6 WPA2_WPA3_PSK."""

# --- control/wifi.proto (legacy, Gen 1/2) --------------------------------------------------------------------------


class LegacyAntennaMessage:
    """WiFiSetAntennaRequest (110) and WiFiGetAntennaReply (111): ``antenna`` is field 1."""

    ANTENNA = 1


class LegacyAccessPointList:
    """WiFiScanReply (112) and WiFiGetCredentialsReply (114): ``list`` = 1, a WiFiAccessPointList whose ``aps`` = 1."""

    LIST = 1
    APS = 1


class LegacySetCredentialsRequest:
    AP = 1


class LegacyAccessPoint:
    """``WiFiAccessPoint``."""

    SSID = 1
    BSSID = 2
    SECURITY = 3
    CIPHER = 4
    CHANNEL = 5
    RSSI = 7
    PASSWORD = 8


LEGACY_SECURITY_VALUES = frozenset(range(6))
"""``WiFiAccessPoint.security`` 0 UNSEC ... 5 WPA2_ENTERPRISE a Gen 2 device can store (255 UNKNOWN cannot)."""
