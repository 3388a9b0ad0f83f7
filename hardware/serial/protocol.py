"""The listening-mode console's protocol constants: baud-rate triggers, command keys, reply texts and YMODEM bytes.

Facts: Device OS 6.2.0 system/src/system_setup.cpp (keys and texts), system/src/system_update.cpp and
build/module-defaults.mk (baud-rate triggers), system/src/system_info.cpp (``s`` reply); Device OS v5.9.0
system/src/system_ymodem.cpp (YMODEM bytes); particle-cli 3.43.1 src/cmd/serial.js. The host's one home for these;
the simulated console keeps its own copy (hardware/simulated/serial_facts.py), so a wrong key, text or byte on either
side fails a test.
"""

from __future__ import annotations

import enum

CONSOLE_BAUD = 9600
"""particle-cli opens Particle CDC ports at 9600 baud; the rate itself means nothing to the USB device."""


class TriggerBaud(enum.IntEnum):
    """Line-coding rates that make Device OS change mode when the host sets them (SET_LINE_CODING)."""

    DFU = 14400
    """Reset into DFU mode (every Device OS version)."""
    LISTENING = 28800
    """Enter listening mode (removed in Device OS 6.0.0)."""


LISTENING_TRIGGER_REMOVED_IN = (6, 0, 0)
"""First Device OS version without the 28800-baud listening trigger."""

YMODEM_REMOVED_IN = (6, 0, 0)
"""First Device OS version that refuses YMODEM flashing with ``f``."""


class ConsoleKey(enum.Enum):
    """One-character commands of the listening-mode console (no newline is sent after them)."""

    IDENTIFY = "i"
    MAC_ADDRESS = "m"
    VERSION = "v"
    SYSTEM_INFO = "s"
    CLAIMED = "c"
    SET_CLAIM_CODE = "C"
    DIAGNOSTICS = "d"
    WIFI = "w"
    SAFE_MODE_LISTEN = "L"
    EXIT = "x"
    FLASH = "f"

    @property
    def byte(self) -> bytes:
        return self.value.encode("ascii")


class IdentifyKey(enum.Enum):
    """Key/value lines of the ``i`` reply, in the order the device prints them, with the system key behind each."""

    DEVICE_ID = "Device ID"
    DEVICE_SECRET = "Device Secret"
    """The mobile secret (system key ``ms``), printed only when the device is provisioned."""
    SERIAL_NUMBER = "Serial Number"
    """System key ``sn``, printed only when the device is provisioned."""
    IMEI = "IMEI"
    ICCID = "ICCID"
    CELL_RADIO_VERSION = "Cell Radio Version"
    """System key ``cellfw``."""


IDENTIFY_PLAIN_PREFIX = "Your device id is "
"""The ``i`` reply of a platform without key/values."""

MAC_REPLY_PREFIX = "Your device MAC address is"
VERSION_REPLY_PREFIX = "system firmware version: "
CLAIMED_REPLY_PREFIX = "Device claimed: "

CLAIM_CODE_LENGTH = 63
CLAIM_CODE_PROMPT = "Enter 63-digit claim code: "
CLAIM_CODE_SET_PREFIX = "Claim code set to: "
CLAIM_CODE_REJECTED = "Sorry, claim code is not 63 characters long. Claim code unchanged."

WIFI_SSID_PROMPT = "SSID: "
WIFI_SECURITY_PROMPT_PREFIX = "Security 0=unsecured"
WIFI_SECURITY_PROMPT = "Security 0=unsecured, 1=WEP, 2=WPA, 3=WPA2: "
WIFI_CIPHER_PROMPT = "Security Cipher 1=AES, 2=TKIP, 3=AES+TKIP: "
WIFI_PASSWORD_PROMPT = "Password: "
WIFI_EAP_PROMPT_PREFIX = "EAP Type"
WIFI_SAVING = "Thanks! Wait while I save those credentials...\r\n\r\n"
WIFI_SUCCESS_MARKERS = ("Particle <3 you!", "Spark <3 you!")
WIFI_FAILURE = "Derp. Sorry, we couldn't save the credentials.\r\n\r\n"


class ConsoleWifiSecurity(enum.IntEnum):
    """Answers to the console's security prompt (6 = WPA3 is accepted though the prompt does not list it)."""

    UNSECURED = 0
    WEP = 1
    WPA = 2
    WPA2 = 3
    WPA3 = 6


class ConsoleWifiCipher(enum.IntEnum):
    """Answers to the console's cipher prompt, asked only when the network was not found by a scan."""

    AES = 1
    TKIP = 2
    AES_TKIP = 3


YMODEM_WAITING = "Waiting for the binary file to be sent ... (press 'a' to abort)"
YMODEM_SUCCESS = "Downloaded file successfully!"
YMODEM_UNSUPPORTED = "Serial/YModem flashing is no longer supported"
YMODEM_VALIDATION_FAILED = "Validation failed"
YMODEM_HEADER_FILENAME = "binary"
"""particle-cli named the file ``binary`` in the header block: ``binary\\0<decimal length> `` zero padded."""


class YmodemByte(enum.IntEnum):
    """YMODEM control characters."""

    SOH = 0x01
    """Start of a 128-byte block."""
    STX = 0x02
    """Start of a 1024-byte block."""
    EOT = 0x04
    ACK = 0x06
    NAK = 0x15
    CAN = 0x18
    CRC_REQUEST = 0x43
    """``C``: the receiver asks for CRC-16 blocks (a NAK instead asks for 8-bit checksums)."""
    ABORT_UPPER = 0x41
    """``A``: aborts a Device OS receive when sent where a block should start."""
    ABORT_LOWER = 0x61
    """``a``: same as ``A``."""
    PAD = 0x1A
    """Pads the last data block; the receiver truncates to the length from the header."""


YMODEM_SMALL_BLOCK = 128
YMODEM_LARGE_BLOCK = 1024


class ModuleFunctionLetter(enum.Enum):
    """The ``f`` letter of a module in the ``s`` reply (Device OS system/inc/system_info.h, module_function_string)."""

    NONE = "n"
    RESOURCE = "r"
    BOOTLOADER = "b"
    MONOLITHIC = "m"
    SYSTEM_PART = "s"
    USER_PART = "u"
    NCP = "c"
    RADIO_STACK = "a"
    OTHER = "_"
    """Settings, assets and any function without its own letter."""


class ModuleStoreLetter(enum.Enum):
    """The ``l`` letter of a module in the ``s`` reply: where the module is stored."""

    MAIN = "m"
    FACTORY = "f"
    BACKUP = "b"
    SCRATCHPAD = "t"


MODULE_FUNCTION_LETTERS: dict[int, ModuleFunctionLetter] = {
    0: ModuleFunctionLetter.NONE,
    1: ModuleFunctionLetter.RESOURCE,
    2: ModuleFunctionLetter.BOOTLOADER,
    3: ModuleFunctionLetter.MONOLITHIC,
    4: ModuleFunctionLetter.SYSTEM_PART,
    5: ModuleFunctionLetter.USER_PART,
    7: ModuleFunctionLetter.NCP,
    8: ModuleFunctionLetter.RADIO_STACK,
}
"""module_function numbers of the binary prefix (Device OS module_info.h) that have a letter; every other number
prints as ``_``."""

MODULE_STORE_LETTERS: dict[int, ModuleStoreLetter] = {
    0: ModuleStoreLetter.MAIN,
    1: ModuleStoreLetter.FACTORY,
    2: ModuleStoreLetter.BACKUP,
    3: ModuleStoreLetter.SCRATCHPAD,
}
