"""USB descriptors of simulated devices as pyusb and a particle-usb-like host read them (Device OS bootloader
usbd_device.cpp; particle-usb src/dfu.js)."""

from __future__ import annotations

import struct

import usb.core
import usb.util

from hardware.simulated import DeviceMode, SimulatedDevice, usb_backend

NRF_ALT0 = "@Internal Flash   /0x00000000/1*004Ka,47*004Kg,192*004Kg,4*004Kg,4*004Kg,8*004Ka"
DFU_FUNCTIONAL = bytes([9, 0x21, 0x0B, 0xFF, 0x00, 0x00, 0x10, 0x1A, 0x01])


def _raw_string(dev: usb.core.Device, index: int, length: int = 255) -> bytes:
    return bytes(dev.ctrl_transfer(0x80, 6, 0x0300 | index, 0x0409, length))


def test_normal_mode_enumerates_with_particle_vendor_and_normal_product_id(host):
    assert (host.dev.idVendor, host.dev.idProduct) == (0x2B04, 0xC00D)


def test_string_descriptors_name_particle_the_product_and_the_lowercase_device_id(host, boron):
    assert host.dev.manufacturer == "Particle"
    assert host.dev.product == "Boron"
    assert host.dev.serial_number == boron.device_id.value
    assert boron.device_id.value == boron.device_id.value.lower()


def test_serial_string_descriptor_holds_exactly_the_id_without_padding(host):
    raw = _raw_string(host.dev, host.dev.iSerialNumber)
    assert raw[0] == 2 + 2 * 24 == len(raw)


def test_string_descriptor_read_with_wlength_1_returns_only_blength(host):
    raw = _raw_string(host.dev, host.dev.iProduct, 1)
    assert raw == bytes([2 + 2 * len("Boron")])


def test_configuration_descriptor_read_with_wlength_4_gives_total_length(host):
    head = bytes(host.dev.ctrl_transfer(0x80, 6, 0x0200, 0, 4))
    total = struct.unpack_from("<H", head, 2)[0]
    full = bytes(host.dev.ctrl_transfer(0x80, 6, 0x0200, 0, total))
    assert len(full) == total == host.dev.get_active_configuration().wTotalLength


def test_normal_mode_exposes_a_vendor_control_interface(host):
    interface = usb.util.find_descriptor(host.dev.get_active_configuration(), bInterfaceClass=0xFF)
    assert usb.util.get_string(host.dev, interface.iInterface) == "Boron Control Interface"


def test_dfu_mode_enumerates_with_dfu_product_id_and_name(dfu_host):
    assert dfu_host.dev.idProduct == 0xD00D
    assert dfu_host.dev.product == "Boron DFU Mode"


def test_dfu_mode_keeps_the_lowercase_device_id_as_serial(dfu_host, boron):
    assert dfu_host.dev.serial_number == boron.device_id.value


def test_nrf_dfu_alt_settings_carry_layout_strings_at_indexes_6_7_8(dfu_host):
    alts = list(dfu_host.dev.get_active_configuration())
    assert [a.iInterface for a in alts] == [6, 7, 8]
    strings = [usb.util.get_string(dfu_host.dev, a.iInterface) for a in alts]
    assert strings == [NRF_ALT0, "@DCT Flash   /0x00000000/1*016Ke", "@External Flash   /0x80000000/1024*004Kg"]


def test_dfu_interfaces_are_dfuse_class_without_endpoints(dfu_host):
    for alt in dfu_host.dev.get_active_configuration():
        assert (alt.bInterfaceNumber, alt.bInterfaceClass, alt.bInterfaceSubClass, alt.bInterfaceProtocol) == (
            0,
            0xFE,
            0x01,
            0x02,
        )
        assert alt.bNumEndpoints == 0


def test_dfu_functional_descriptor_follows_the_last_interface(dfu_host):
    total = dfu_host.dev.get_active_configuration().wTotalLength
    raw = bytes(dfu_host.dev.ctrl_transfer(0x80, 6, 0x0200, 0, total))
    assert raw.endswith(DFU_FUNCTIONAL)
    last = list(dfu_host.dev.get_active_configuration())[-1]
    assert bytes(last.extra_descriptors) == DFU_FUNCTIONAL


def test_rtl_dfu_has_two_alt_settings_at_string_indexes_5_and_6(make_device, connect):
    device = make_device("p2")
    device.reboot(DeviceMode.DFU)
    host = connect(device)
    alts = list(host.dev.get_active_configuration())
    assert [a.iInterface for a in alts] == [5, 6]
    assert usb.util.get_string(host.dev, 5) == "@Internal Flash   /0x08000000/2048*004Kg"


def test_tracker_external_flash_has_2048_pages(make_device, connect):
    device = make_device("tracker")
    device.reboot(DeviceMode.DFU)
    host = connect(device)
    assert usb.util.get_string(host.dev, 8) == "@External Flash   /0x80000000/2048*004Kg"


def test_photon_dfu_layout_has_read_only_bootloader_sectors(make_device, connect):
    device = make_device("photon")
    device.reboot(DeviceMode.DFU)
    host = connect(device)
    alt0 = next(iter(host.dev.get_active_configuration()))
    layout = usb.util.get_string(host.dev, alt0.iInterface)
    assert layout == "@Internal Flash   /0x08000000/03*016Ka,01*016Kg,01*064Kg,07*128Kg"


def test_dfu_mode_serves_the_device_state_string_as_open(dfu_host):
    raw = _raw_string(dfu_host.dev, 0xFA)
    assert raw[2:].decode("utf-16-le").rstrip("\0") == "sm=o"


def test_device_state_string_is_absent_before_the_6_2_0_bootloader(make_device, connect):
    device = make_device("boron", device_os="6.1.1")
    device.reboot(DeviceMode.DFU)
    host = connect(device)
    try:
        _raw_string(host.dev, 0xFA)
    except usb.core.USBError as exc:
        assert exc.errno == 32  # EPIPE: stall
    else:
        raise AssertionError("a 6.1.1 bootloader must not serve string 0xFA")


def test_ms_os_string_descriptor_names_vendor_code_0xee(host):
    raw = _raw_string(host.dev, 0xEE)
    assert raw[2:16].decode("utf-16-le") == "MSFT100"
    assert raw[16] == 0xEE


def test_langid_string_zero_lists_english(host):
    assert host.dev.langids == (0x0409,)


def test_several_devices_enumerate_on_separate_ports(make_device):
    devices = [make_device("boron", seed=n) for n in range(3)]
    found = list(usb.core.find(find_all=True, backend=usb_backend(*devices), idVendor=0x2B04))
    assert sorted(d.serial_number for d in found) == sorted(d.device_id.value for d in devices)
    assert sorted(d.port_number for d in found) == [1, 2, 3]


def test_device_gets_a_new_address_after_reenumeration(host, boron):
    before = host.dev.address
    boron.reboot()
    assert host.reopen().address != before


def test_gen2_normal_mode_uses_its_own_product_id(make_device, connect):
    host = connect(make_device("electron"))
    assert (host.dev.idProduct, host.dev.product) == (0xC00A, "Electron")


def test_simulated_device_repr_does_not_show_the_mobile_secret(boron: SimulatedDevice):
    assert boron.mobile_secret is not None
    assert boron.mobile_secret.value not in repr(boron)
