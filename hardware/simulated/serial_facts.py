"""What a simulated device's USB serial (CDC) console says and expects: line-coding triggers, listening-mode keys,
reply texts and prompts, and YMODEM's control bytes, block sizes, CRC-16 and checksum.

Written from Device OS ``system/src/system_setup.cpp``, ``system_listening_mode.cpp``, ``system_update.cpp`` (HEAD
6.2.0 and @v5.9.0), ``system/src/system_ymodem.cpp`` @v5.9.0 and the YMODEM specification (Chuck Forsberg, "XMODEM/
YMODEM Protocol Reference", 1988); not imported from the host's ``hardware.serial``, so a host that expects a
different byte or text is caught.
"""

from __future__ import annotations

import enum

# --- Line-coding triggers (Device OS system_listening_mode.cpp, system_update.cpp) ---------------------------------

DFU_TRIGGER_BAUD = 14400
"""Setting this rate resets the device into DFU mode (every Device OS version)."""
LISTENING_TRIGGER_BAUD = 28800
"""Setting this rate enters listening mode; removed in Device OS 6.0.0."""
LISTENING_TRIGGER_REMOVED_IN = (6, 0, 0)

# --- Listening-mode console (system_setup.cpp) ---------------------------------------------------------------------


class Key(enum.Enum):
    """One-character commands; the console reads a character at a time, no newline."""

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


LINE_END = "\r\n"
IDENTIFY_PLAIN = "Your device id is {device_id}\r\n"
"""``i`` on a platform without key/values."""
IDENTIFY_DEVICE_ID = "Device ID"
IDENTIFY_NAMES = {
    "ms": "Device Secret",
    "sn": "Serial Number",
    "imei": "IMEI",
    "iccid": "ICCID",
    "cellfw": "Cell Radio Version",
}
"""``i`` prints ``<Name>: <value>`` per system key/value, in this order after ``Device ID``."""
MAC_REPLY = "Your device MAC address is\r\n{mac}\r\n"
"""``m``: the MAC as lowercase ``xx:xx:xx:xx:xx:xx``."""
VERSION_REPLY = "system firmware version: {version}\n\r\n"
CLAIMED_REPLY = "Device claimed: {answer}\r\n"

CLAIM_CODE_LENGTH = 63
CLAIM_CODE_PROMPT = "Enter 63-digit claim code: "
CLAIM_CODE_SET = "Claim code set to: {code}\r\n"
CLAIM_CODE_REJECTED = "Sorry, claim code is not 63 characters long. Claim code unchanged.\r\n"

WIFI_SSID_PROMPT = "SSID: "
WIFI_SECURITY_PROMPT = "Security 0=unsecured, 1=WEP, 2=WPA, 3=WPA2: "
WIFI_SECURITY_ANSWERS = {"0": 0, "1": 1, "2": 2, "3": 3, "6": 5}
"""Accepted answers (6 = WPA3, though the prompt does not list it) -> ``wifi.Security`` stored (WPA3_PSK = 5)."""
WIFI_CIPHER_PROMPT = "Security Cipher 1=AES, 2=TKIP, 3=AES+TKIP: "
WIFI_CIPHER_ANSWERS = ("1", "2", "3")
WIFI_PASSWORD_PROMPT = "Password: "
WIFI_SAVING = "Thanks! Wait while I save those credentials...\r\n\r\n"
WIFI_SAVED_ENDING = "    Particle <3 you!\r\n\r\n"
WIFI_FAILURE = "Derp. Sorry, we couldn't save the credentials.\r\n\r\n"

SYSTEM_INFO_FUNCTION_LETTERS = {0: "n", 1: "r", 2: "b", 3: "m", 4: "s", 5: "u", 7: "c", 8: "a"}
"""``s`` reply: module_function -> ``f`` letter; any other function prints ``_`` (system_info.cpp)."""
SYSTEM_INFO_OTHER_FUNCTION = "_"
SYSTEM_INFO_STORE_LETTERS = {0: "m", 1: "f", 2: "b", 3: "t"}
"""``s`` reply: module store -> ``l`` letter (main, factory, backup, scratchpad)."""

# --- YMODEM (Device OS <= 5.9.x; the YMODEM specification) ---------------------------------------------------------

YMODEM_REMOVED_IN = (6, 0, 0)
YMODEM_WAITING = "Waiting for the binary file to be sent ... (press 'a' to abort)\r\n"
YMODEM_SUCCESS = "Downloaded file successfully!\r\n"
YMODEM_UNSUPPORTED = "Serial/YModem flashing is no longer supported\r\n"
YMODEM_REFUSAL_CANS = 4
"""From 6.0.0 ``f`` answers the waiting line, then four CAN and the unsupported line."""

SOH = 0x01
"""Start of a 128-byte block."""
STX = 0x02
"""Start of a 1024-byte block."""
EOT = 0x04
ACK = 0x06
NAK = 0x15
"""Also what a receiver sends to ask for 8-bit checksum blocks."""
CAN = 0x18
CRC_REQUEST = ord("C")
"""What a receiver sends to ask for CRC-16 blocks."""
ABORT_KEYS = (ord("A"), ord("a"))
"""Device OS aborts a receive when one of these arrives where a block should start."""
SMALL_BLOCK = 128
LARGE_BLOCK = 1024

CRC16_POLYNOMIAL = 0x1021
CRC16_INITIAL = 0x0000
"""YMODEM's CRC-16 is CRC-16/XMODEM (CCITT polynomial, initial value 0, no reflection, no final XOR), sent
high byte first (YMODEM specification, "CRC calculation")."""


def _crc16_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = (crc << 1) ^ CRC16_POLYNOMIAL if crc & 0x8000 else crc << 1
        table.append(crc & 0xFFFF)
    return tuple(table)


_CRC16_TABLE = _crc16_table()


def crc16(data: bytes) -> int:
    crc = CRC16_INITIAL
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC16_TABLE[(crc >> 8) ^ byte]
    return crc


def checksum8(data: bytes) -> int:
    """The original XMODEM block check: the sum of the data bytes, modulo 256."""
    return sum(data) & 0xFF
