"""Device-side numbers of a simulated Particle device that the host never needs: descriptor values, buffer limits and
the deprecated module-type enum it reports (reference §1, §2, §3.2).

The protocol's shared numbers (request types, result codes, statuses, DFU states and commands, module functions) come
from ``hardware.usb.protocol`` and ``hardware.firmware.format``: host and simulator spell every number in one place,
while the simulator implements the device's behaviour on its own, so a host that misreads the reference is caught.
"""

from __future__ import annotations

import enum

# --- Descriptors (§1, §3.2) ----------------------------------------------------------------------------------------

MS_OS_STRING_INDEX = 0xEE
"""Microsoft OS string descriptor ("MSFT100" + vendor code), served in normal and DFU mode (§1)."""
MS_OS_VENDOR_CODE = 0xEE
DEVICE_STATE_STRING_INDEX = 0xFA
"""DFU-mode device-state string (``sm=o`` …) served by 6.2.0+ bootloaders (§3.2)."""

DFU_TRANSFER_SIZE = 4096
"""wTransferSize of the DFU functional descriptor; also the block size of the address formula."""
DFU_FUNCTIONAL_ATTRIBUTES = 0x0B
DFU_DETACH_TIMEOUT_MS = 255
DFU_VERSION_BCD = 0x011A
DFU_INTERFACE_CLASS = (0xFE, 0x01, 0x02)
"""bInterfaceClass, bInterfaceSubClass, bInterfaceProtocol of a DfuSe interface in DFU mode."""

# --- Control-request channel (§2) ----------------------------------------------------------------------------------

POOLED_PAYLOAD_SIZE = 64
"""Payloads up to this size use a pooled buffer (INIT → OK); larger ones are allocated asynchronously (PENDING)."""
MAX_ACTIVE_REQUESTS = 4
FIRMWARE_UPDATE_CHUNK_SIZE = 1024
"""chunk_size a device replies to StartFirmwareUpdate (250) (§2.3)."""

# --- Module info (§2.2) --------------------------------------------------------------------------------------------


class LegacyModuleType(enum.IntEnum):
    """``particle.ctrl`` module type used by the deprecated module-info field 1 (Device OS below 5.6.0)."""

    INVALID = 0
    BOOTLOADER = 1
    SYSTEM_PART = 2
    USER_PART = 3
    MONO_FIRMWARE = 4
    NCP_FIRMWARE = 5
    RADIO_STACK = 6
