"""USB wire facts the simulated devices serve, written from the USB specifications themselves (not imported from the
host's ``hardware.usb``): request-type bits, standard requests, descriptor types, and the class and vendor codes a
Particle device puts in its descriptors.

Keeping the simulator's own copy means a host that gets one of these numbers wrong talks to a device that does not
share the mistake, so the tests catch it.
"""

from __future__ import annotations

import enum

# --- bmRequestType (USB 2.0 §9.3, Table 9-2) -------------------------------------------------------------------------

DIRECTION_IN = 0x80
"""Bit 7: data stage device-to-host."""


class RequestKind(enum.IntEnum):
    """Bits 6..5 of bmRequestType (USB 2.0 Table 9-2)."""

    STANDARD = 0
    CLASS = 1
    VENDOR = 2


class Recipient(enum.IntEnum):
    """Bits 4..0 of bmRequestType (USB 2.0 Table 9-2)."""

    DEVICE = 0
    INTERFACE = 1
    ENDPOINT = 2


def request_kind(bm_request_type: int) -> int:
    return (bm_request_type >> 5) & 0x03


def recipient(bm_request_type: int) -> int:
    return bm_request_type & 0x1F


# --- Standard requests and descriptors (USB 2.0 §9.4, Tables 9-4 and 9-5) ----------------------------------------


class StandardRequest(enum.IntEnum):
    """bRequest of the standard device requests (USB 2.0 Table 9-4)."""

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
    """bDescriptorType, also the high byte of GET_DESCRIPTOR's wValue (USB 2.0 Table 9-5)."""

    DEVICE = 1
    CONFIGURATION = 2
    STRING = 3
    INTERFACE = 4
    ENDPOINT = 5


DEVICE_DESCRIPTOR_LENGTH = 18
CONFIGURATION_DESCRIPTOR_LENGTH = 9
INTERFACE_DESCRIPTOR_LENGTH = 9
ENDPOINT_DESCRIPTOR_LENGTH = 7
"""bLength of the standard descriptors (USB 2.0 Tables 9-8, 9-10, 9-12, 9-13)."""

USB_2_0_BCD = 0x0200
"""bcdUSB of a USB 2.0 device (USB 2.0 Table 9-8)."""
CONFIGURATION_BUS_POWERED = 0x80
"""bmAttributes bit 7, which must be set (USB 2.0 Table 9-10)."""

LANGID_EN_US = 0x0409
"""String descriptor 0 lists the supported languages; English (United States) is 0x0409 (USB-IF "Language
Identifiers (LANGIDs)"). particle-usb reads strings with this wIndex (particle-usb ``src/usb-device-node.js``)."""

ENDPOINT_INTERRUPT = 0x03
ENDPOINT_BULK = 0x02
"""bmAttributes transfer types of an endpoint descriptor (USB 2.0 Table 9-13)."""

# --- Class codes ---------------------------------------------------------------------------------------------------

MISC_DEVICE_CLASS = (0xEF, 0x02, 0x01)
"""bDeviceClass/SubClass/Protocol of a composite device with Interface Association Descriptors (USB-IF "Interface
Association Descriptor" ECN): Particle's normal-mode CDC + vendor device."""

CDC_COMMUNICATION_CLASS = 0x02
CDC_ACM_SUBCLASS = 0x02
CDC_AT_COMMANDS_PROTOCOL = 0x01
CDC_DATA_CLASS = 0x0A
"""USB CDC 1.2 §4.2-4.5 (Communications class, Abstract Control Model subclass, V.250 protocol, Data class)."""
CDC_CS_INTERFACE = 0x24
CDC_HEADER, CDC_CALL_MANAGEMENT, CDC_ACM, CDC_UNION = 0x00, 0x01, 0x02, 0x06
"""Class-specific interface descriptor type and functional-descriptor subtypes (USB CDC 1.2 Tables 12 and 13)."""
CDC_VERSION_BCD = 0x0110
VENDOR_SPECIFIC_CLASS = 0xFF
"""bInterfaceClass of the "<Name> Control Interface" Particle exposes in normal mode (USB-IF class codes;
Device OS ``hal/src/boron/app_usbd_string_config.h`` names it)."""

# --- Microsoft OS descriptors (Windows driver binding) -------------------------------------------------------------

MS_OS_STRING_INDEX = 0xEE
MS_OS_SIGNATURE = "MSFT100"
MS_OS_VENDOR_CODE = 0xEE
"""String 0xEE = "MSFT100" + vendor code (Microsoft OS 1.0 Descriptors Specification); Particle serves it in normal
and DFU mode with vendor code 0xEE (Device OS ``bootloader/src/nRF52840/usbd_dfu.h``,
``hal/src/boron/app_usbd_string_config.h``)."""
