"""USB descriptors a simulated device presents in normal and in DFU mode: device, configuration (interfaces, alt
settings, endpoints, DFU functional descriptor) and string descriptors, as objects and as wire bytes.

Layouts from USB 2.0 §9.6, USB CDC 1.2 and DFU 1.1 §4; what Particle puts in them from Device OS
``bootloader/src/{nRF52840,rtl872x}/usbd_device.cpp``, ``usbd_dfu.{h,cpp}`` and ``hal/src/rtl872x/usbd_device.cpp``
(manufacturer "Particle", product "<Name>" / "<Name> DFU Mode", serial = lowercase device id). Every number comes from
the simulator's own ``usb_facts``, ``dfu_facts`` and ``platform_facts``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from hardware.simulated import dfu_facts, memory_map
from hardware.simulated import usb_facts as usb
from hardware.simulated.platform_facts import Board
from hardware.simulated.usb_facts import DescriptorType
from hardware.simulated.versions import BOOTLOADER_6_2_0

MANUFACTURER, PRODUCT, SERIAL_NUMBER = 1, 2, 3
CONTROL_INTERFACE_STRING = 4
CONFIGURATION_VALUE = 1
MANUFACTURER_NAME = "Particle"
DFU_PRODUCT_SUFFIX = " DFU Mode"


@dataclass(frozen=True)
class EndpointDescriptor:
    bEndpointAddress: int
    bmAttributes: int
    wMaxPacketSize: int
    bInterval: int = 0
    bLength: int = usb.ENDPOINT_DESCRIPTOR_LENGTH
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
    bLength: int = usb.INTERFACE_DESCRIPTOR_LENGTH
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
    bmAttributes: int = usb.CONFIGURATION_BUS_POWERED
    bMaxPower: int = 250
    bLength: int = usb.CONFIGURATION_DESCRIPTOR_LENGTH
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
    bcdUSB: int = usb.USB_2_0_BCD
    bMaxPacketSize0: int = 64
    iManufacturer: int = MANUFACTURER
    iProduct: int = PRODUCT
    iSerialNumber: int = SERIAL_NUMBER
    bNumConfigurations: int = 1
    bLength: int = usb.DEVICE_DESCRIPTOR_LENGTH
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
    """UTF-16LE text with bLength = 2 + 2 × characters exactly: no NUL padding (USB 2.0 §9.6.7; Particle's
    bootloaders send the serial unpadded, and particle-usb ``openDeviceById`` compares it as is)."""
    encoded = text.encode("utf-16-le")
    return bytes([2 + len(encoded), DescriptorType.STRING]) + encoded


def ms_os_string_descriptor() -> bytes:
    """Microsoft OS 1.0 string descriptor: "MSFT100", the vendor code, a pad byte."""
    body = usb.MS_OS_SIGNATURE.encode("utf-16-le") + bytes([usb.MS_OS_VENDOR_CODE, 0])
    return bytes([2 + len(body), DescriptorType.STRING]) + body


@dataclass(frozen=True)
class UsbDescriptors:
    """Everything a host can read about the device in one mode."""

    device: DeviceDescriptor
    configuration: ConfigurationDescriptor
    strings: dict[int, str] = field(default_factory=dict)

    def string_bytes(self, index: int) -> bytes | None:
        if index == 0:
            return bytes([4, DescriptorType.STRING]) + struct.pack("<H", usb.LANGID_EN_US)
        if index == usb.MS_OS_STRING_INDEX:
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
    """Header, call management, ACM and union functional descriptors (USB CDC 1.2 §5.2.3, PSTN 1.2 §5.3)."""
    header = bytes([5, usb.CDC_CS_INTERFACE, usb.CDC_HEADER]) + struct.pack("<H", usb.CDC_VERSION_BCD)
    call_management = bytes([5, usb.CDC_CS_INTERFACE, usb.CDC_CALL_MANAGEMENT, 0x00, data])
    acm = bytes([4, usb.CDC_CS_INTERFACE, usb.CDC_ACM, 0x02])
    union = bytes([5, usb.CDC_CS_INTERFACE, usb.CDC_UNION, control, data])
    return header + call_management + acm + union


def normal_mode(board: Board, device_id: str) -> UsbDescriptors:
    """CDC ACM serial (interfaces 0 and 1) and the vendor "<Name> Control Interface" (interface 2)."""
    comm = InterfaceDescriptor(
        0,
        0,
        usb.CDC_COMMUNICATION_CLASS,
        usb.CDC_ACM_SUBCLASS,
        usb.CDC_AT_COMMANDS_PROTOCOL,
        endpoints=(EndpointDescriptor(0x82, usb.ENDPOINT_INTERRUPT, 8, 16),),
        extra=_cdc_functional(0, 1),
    )
    bulk = (EndpointDescriptor(0x81, usb.ENDPOINT_BULK, 64), EndpointDescriptor(0x01, usb.ENDPOINT_BULK, 64))
    data = InterfaceDescriptor(1, 0, usb.CDC_DATA_CLASS, 0x00, 0x00, endpoints=bulk)
    vendor = usb.VENDOR_SPECIFIC_CLASS
    control = InterfaceDescriptor(2, 0, vendor, vendor, vendor, iInterface=CONTROL_INTERFACE_STRING)
    device_class, device_subclass, device_protocol = usb.MISC_DEVICE_CLASS
    return UsbDescriptors(
        device=DeviceDescriptor(
            board.vendor_id,
            board.product_id,
            0x0250,
            bDeviceClass=device_class,
            bDeviceSubClass=device_subclass,
            bDeviceProtocol=device_protocol,
        ),
        configuration=ConfigurationDescriptor(((comm,), (data,), (control,))),
        strings={
            MANUFACTURER: MANUFACTURER_NAME,
            PRODUCT: board.product,
            SERIAL_NUMBER: device_id,
            CONTROL_INTERFACE_STRING: f"{board.product} Control Interface",
        },
    )


def dfu_functional_descriptor() -> bytes:
    """bLength, bDescriptorType, bmAttributes, wDetachTimeOut, wTransferSize, bcdDFUVersion (DFU 1.1 Table 4.2)."""
    return struct.pack(
        "<BBBHHH",
        dfu_facts.FUNCTIONAL_DESCRIPTOR_LENGTH,
        dfu_facts.FUNCTIONAL_DESCRIPTOR_TYPE,
        dfu_facts.FUNCTIONAL_ATTRIBUTES,
        dfu_facts.DETACH_TIMEOUT_MS,
        dfu_facts.TRANSFER_SIZE,
        dfu_facts.DFUSE_VERSION_BCD,
    )


def dfu_mode(board: Board, device_id: str, bootloader_version: int | None) -> UsbDescriptors:
    """One DfuSe interface with an alt setting per memory; the functional descriptor follows the last one."""
    indexes = memory_map.dfu_strings(board)
    layouts = [memory.describe() for memory in memory_map.dfu_layouts(board)]
    cls, sub, proto = dfu_facts.INTERFACE_CLASS
    alts = [
        InterfaceDescriptor(0, alt, cls, sub, proto, iInterface=indexes.first_interface + alt)
        for alt in range(len(layouts))
    ]
    last = alts[-1]
    alts[-1] = InterfaceDescriptor(
        0, last.bAlternateSetting, cls, sub, proto, iInterface=last.iInterface, extra=dfu_functional_descriptor()
    )
    strings = {MANUFACTURER: MANUFACTURER_NAME, PRODUCT: board.product + DFU_PRODUCT_SUFFIX, SERIAL_NUMBER: device_id}
    strings.update({indexes.first_interface + alt: text for alt, text in enumerate(layouts)})
    if board.gen3_or_later and (bootloader_version or 0) >= BOOTLOADER_6_2_0:
        strings[dfu_facts.DEVICE_STATE_STRING_INDEX] = dfu_facts.DEVICE_STATE_OPEN + dfu_facts.DEVICE_STATE_PADDING
    return UsbDescriptors(
        device=DeviceDescriptor(board.vendor_id, board.dfu_product_id, 0x0251),
        configuration=ConfigurationDescriptor((tuple(alts),)),
        strings=strings,
    )
