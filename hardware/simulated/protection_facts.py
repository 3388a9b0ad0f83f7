"""Device Protection facts as a simulated device implements them: which requests a Protected Device still answers,
the Service Mode handshake's sizes and limits, its protobuf field numbers, the DFU device-state string and error text,
and the bootloader's SECURITY_MODE module extension.

Written from Device OS (services/src/security_mode.cpp, system/src/control/config.cpp, system/inc/system_control.h,
services/inc/system_error.h, dynalib/inc/module_info.h, bootloader/src/nRF52840/usbd_dfu.cpp) and
device-os-protobuf control/config.proto; not imported from the host's hardware.usb.
"""

from __future__ import annotations

import enum

GET_PROTECTED_STATE = 76
SET_PROTECTED_STATE = 77
DEVICE_ID = 20
APP_CUSTOM = 10
ALLOWED_WHILE_PROTECTED = frozenset({GET_PROTECTED_STATE, SET_PROTECTED_STATE, DEVICE_ID, APP_CUSTOM})
"""USB requests a Protected Device still serves (security_mode_check_control_request, Device OS 6.1.1 and later);
every other one answers SYSTEM_ERROR_PROTECTED. The raw 0x50 vendor requests bypass the check."""
SET_PROTECTED_STATE_FROM = (6, 1, 1)
"""Request 77 and Service Mode exist from 6.1.1 (Device OS CHANGELOG, #2770)."""

PROTECTED_MIN_SYSTEM_MODULE = 6000
"""Local OTA on a Protected Device refuses system parts below 6.0.0 (hal/src/nRF52840/ota_flash_hal.cpp)."""

DEVICE_PROTECTED = -1801
KEY_MISMATCH = -1802
INVALID_SIGNATURE = -1803
"""services/inc/system_error.h."""

NONCE_LENGTH = 32
FINGERPRINT_LENGTH = 32
CONFIRM_TIMEOUT_S = 60.0
"""CONFIRM 60 000 ms or more after PREPARE answers TIMEOUT and drops the context (config.cpp)."""
SERVICE_MODE_RESETS = 20
SERVICE_MODE_SECONDS = 24 * 60 * 60
"""Entering Service Mode sets reset_count 20 and timeout 24 h of run time (security_mode.cpp)."""


class Action(enum.IntEnum):
    """SetProtectedStateRequest.Action."""

    RESET = 0
    PREPARE = 1
    CONFIRM = 2


class GetReply:
    STATE = 1
    OVERRIDDEN = 2


class SetRequest:
    ACTION = 1
    PREPARE = 2
    CONFIRM = 3
    PREPARE_SERVER_NONCE = 1
    CONFIRM_SERVER_SIGNATURE = 1
    CONFIRM_SERVER_KEY_FINGERPRINT = 2


class SetReply:
    PREPARE = 1
    DEVICE_NONCE = 1
    DEVICE_SIGNATURE = 2
    DEVICE_KEY_FINGERPRINT = 3


SECURITY_MODE_EXTENSION = 0x0013
"""MODULE_INFO_EXTENSION_SECURITY_MODE: type u16, length u16, mode u8, optional DER certificate (module_info.h)."""
SECURITY_MODE_NONE = 0
SECURITY_MODE_PROTECTED = 1

DEVICE_STATE_LETTERS = {"open": "o", "protected": "p", "service": "s"}
"""String descriptor 0xFA: ``sm=<letter>`` (bootloader usbd_device.cpp)."""
PROTECTED_ERROR_TEXT = "Device is in protected mode"
"""The DFU error string iString points at when a Protected Device refuses a request (usbd_dfu.cpp)."""
