"""USB descriptors a simulated device presents in normal and in DFU mode: device, configuration (interfaces, alt
settings, endpoints, DFU functional descriptor) and string descriptors, as objects and as wire bytes (§1, §3.2)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from hardware.platforms import Platform
from hardware.simulated import memory_map
from hardware.simulated.protocol import (
    DEVICE_STATE_STRING_INDEX,
    DFU_DETACH_TIMEOUT_MS,
    DFU_FUNCTIONAL_ATTRIBUTES,
    DFU_INTERFACE_CLASS,
    DFU_TRANSFER_SIZE,
    DFU_VERSION_BCD,
    MS_OS_STRING_INDEX,
    MS_OS_VENDOR_CODE,
)
from hardware.simulated.versions import BOOTLOADER_6_2_0
from hardware.usb.protocol import LANGID_EN_US, DescriptorType

MANUFACTURER, PRODUCT, SERIAL_NUMBER = 1, 2, 3
CONTROL_INTERFACE_STRING = 4
CONFIGURATION_VALUE = 1
DEVICE_STATE_OPEN = "sm=o"
"""Device Protection is not simulated: every 6.2.0+ bootloader reports an open device."""


@dataclass(frozen=True)
class EndpointDescriptor:
    bEndpointAddress: int
    bmAttributes: int
    wMaxPacketSize: int
    bInterval: int = 0
    bLength: int = 7
    bDescriptorType: int = DescriptorType.ENDPOINT
    bRefresh: int = 0
    bSynchAddress: int = 0
    extra: bytes = b""

    def to_bytes(self) -> bytes:
        head = struct.pack(
            "<BBBBHB",
            self.bLength,
            self.bDescriptorType,
            self.bEndpointAddress,
            self.bmAttributes,
            self.wMaxPacketSize,
            self.bInterval,
        )
        return head + self.extra


@dataclass(frozen=True)
class InterfaceDescriptor:
    bInterfaceNumber: int
    bAlternateSetting: int
    bInterfaceClass: int
    bInterfaceSubClass: int
    bInterfaceProtocol: int
    iInterface: int = 0
    endpoints: tuple[EndpointDescriptor, ...] = ()
    extra: bytes = b""
    """Class-specific descriptors that follow this interface (libusb reports them as the alt setting's extra)."""
    bLength: int = 9
    bDescriptorType: int = DescriptorType.INTERFACE

    @property
    def bNumEndpoints(self) -> int:
        return len(self.endpoints)

    def to_bytes(self) -> bytes:
        head = struct.pack(
            "<BBBBBBBBB",
            self.bLength,
            self.bDescriptorType,
            self.bInterfaceNumber,
            self.bAlternateSetting,
            self.bNumEndpoints,
            self.bInterfaceClass,
            self.bInterfaceSubClass,
            self.bInterfaceProtocol,
            self.iInterface,
        )
        return head + self.extra + b"".join(e.to_bytes() for e in self.endpoints)


@dataclass(frozen=True)
class ConfigurationDescriptor:
    interfaces: tuple[tuple[InterfaceDescriptor, ...], ...]
    """Per interface number, its alternate settings in order."""
    bConfigurationValue: int = CONFIGURATION_VALUE
    iConfiguration: int = 0
    bmAttributes: int = 0x80
    bMaxPower: int = 250
    bLength: int = 9
    bDescriptorType: int = DescriptorType.CONFIGURATION
    extra: bytes = b""

    @property
    def bNumInterfaces(self) -> int:
        return len(self.interfaces)

    @property
    def wTotalLength(self) -> int:
        return len(self.to_bytes())

    def to_bytes(self) -> bytes:
        body = self.extra + b"".join(alt.to_bytes() for alts in self.interfaces for alt in alts)
        head = struct.pack(
            "<BBHBBBBB",
            self.bLength,
            self.bDescriptorType,
            self.bLength + len(body),
            self.bNumInterfaces,
            self.bConfigurationValue,
            self.iConfiguration,
            self.bmAttributes,
            self.bMaxPower,
        )
        return head + body


@dataclass(frozen=True)
class DeviceDescriptor:
    idVendor: int
    idProduct: int
    bcdDevice: int
    bDeviceClass: int = 0
    bDeviceSubClass: int = 0
    bDeviceProtocol: int = 0
    bcdUSB: int = 0x0200
    bMaxPacketSize0: int = 64
    iManufacturer: int = MANUFACTURER
    iProduct: int = PRODUCT
    iSerialNumber: int = SERIAL_NUMBER
    bNumConfigurations: int = 1
    bLength: int = 18
    bDescriptorType: int = DescriptorType.DEVICE

    def to_bytes(self) -> bytes:
        return struct.pack(
            "<BBHBBBBHHHBBBB",
            self.bLength,
            self.bDescriptorType,
            self.bcdUSB,
            self.bDeviceClass,
            self.bDeviceSubClass,
            self.bDeviceProtocol,
            self.bMaxPacketSize0,
            self.idVendor,
            self.idProduct,
            self.bcdDevice,
            self.iManufacturer,
            self.iProduct,
            self.iSerialNumber,
            self.bNumConfigurations,
        )


def string_descriptor(text: str) -> bytes:
    """bLength = 2 + 2 × characters exactly: no NUL padding (§8)."""
    encoded = text.encode("utf-16-le")
    return bytes([2 + len(encoded), DescriptorType.STRING]) + encoded


def ms_os_string_descriptor() -> bytes:
    return bytes([18, DescriptorType.STRING]) + "MSFT100".encode("utf-16-le") + bytes([MS_OS_VENDOR_CODE, 0])


@dataclass(frozen=True)
class UsbDescriptors:
    """Everything a host can read about the device in one mode."""

    device: DeviceDescriptor
    configuration: ConfigurationDescriptor
    strings: dict[int, str] = field(default_factory=dict)

    def string_bytes(self, index: int) -> bytes | None:
        if index == 0:
            return bytes([4, DescriptorType.STRING]) + struct.pack("<H", LANGID_EN_US)
        if index == MS_OS_STRING_INDEX:
            return ms_os_string_descriptor()
        text = self.strings.get(index)
        return None if text is None else string_descriptor(text)

    def interface(self, number: int, alt: int) -> InterfaceDescriptor | None:
        for alts in self.configuration.interfaces:
            for candidate in alts:
                if candidate.bInterfaceNumber == number and candidate.bAlternateSetting == alt:
                    return candidate
        return None


def _cdc_functional(control: int, data: int) -> bytes:
    header = bytes([5, 0x24, 0x00]) + struct.pack("<H", 0x0110)
    call_management = bytes([5, 0x24, 0x01, 0x00, data])
    acm = bytes([4, 0x24, 0x02, 0x02])
    union = bytes([5, 0x24, 0x06, control, data])
    return header + call_management + acm + union


def normal_mode(platform: Platform, device_id: str) -> UsbDescriptors:
    """CDC ACM serial (interfaces 0 and 1) and the vendor "<Name> Control Interface" (interface 2)."""
    comm = InterfaceDescriptor(
        0, 0, 0x02, 0x02, 0x01, endpoints=(EndpointDescriptor(0x82, 0x03, 8, 16),), extra=_cdc_functional(0, 1)
    )
    data = InterfaceDescriptor(
        1, 0, 0x0A, 0x00, 0x00, endpoints=(EndpointDescriptor(0x81, 0x02, 64), EndpointDescriptor(0x01, 0x02, 64))
    )
    control = InterfaceDescriptor(2, 0, 0xFF, 0xFF, 0xFF, iInterface=CONTROL_INTERFACE_STRING)
    return UsbDescriptors(
        device=DeviceDescriptor(
            platform.usb_vendor_id,
            platform.usb_product_id,
            0x0250,
            bDeviceClass=0xEF,
            bDeviceSubClass=0x02,
            bDeviceProtocol=0x01,
        ),
        configuration=ConfigurationDescriptor(((comm,), (data,), (control,))),
        strings={
            MANUFACTURER: "Particle",
            PRODUCT: platform.display_name,
            SERIAL_NUMBER: device_id,
            CONTROL_INTERFACE_STRING: f"{platform.display_name} Control Interface",
        },
    )


def dfu_functional_descriptor() -> bytes:
    return struct.pack(
        "<BBBHHH",
        9,
        DescriptorType.DFU_FUNCTIONAL,
        DFU_FUNCTIONAL_ATTRIBUTES,
        DFU_DETACH_TIMEOUT_MS,
        DFU_TRANSFER_SIZE,
        DFU_VERSION_BCD,
    )


def dfu_mode(platform: Platform, device_id: str, bootloader_version: int | None) -> UsbDescriptors:
    """One DfuSe interface with an alt setting per memory; the functional descriptor follows the last one."""
    assert platform.dfu_product_id is not None
    indexes = memory_map.dfu_strings(platform)
    layouts = memory_map.dfu_layouts(platform)
    cls, sub, proto = DFU_INTERFACE_CLASS
    alts = [
        InterfaceDescriptor(0, alt, cls, sub, proto, iInterface=indexes.first_interface + alt)
        for alt in range(len(layouts))
    ]
    last = alts[-1]
    alts[-1] = InterfaceDescriptor(
        0, last.bAlternateSetting, cls, sub, proto, iInterface=last.iInterface, extra=dfu_functional_descriptor()
    )
    strings = {MANUFACTURER: "Particle", PRODUCT: f"{platform.display_name} DFU Mode", SERIAL_NUMBER: device_id}
    strings.update({indexes.first_interface + alt: text for alt, text in enumerate(layouts)})
    if platform.gen3_or_later and (bootloader_version or 0) >= BOOTLOADER_6_2_0:
        strings[DEVICE_STATE_STRING_INDEX] = DEVICE_STATE_OPEN + "\0" * 4
    return UsbDescriptors(
        device=DeviceDescriptor(platform.usb_vendor_id, platform.dfu_product_id, 0x0251),
        configuration=ConfigurationDescriptor((tuple(alts),)),
        strings=strings,
    )
