"""The simulator's own wire facts: it imports none of the host's protocol modules (and the host none of the
simulator's), and the facts it writes out match the published values."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import usb.util

from hardware.simulated import DeviceMode
from hardware.simulated.flash_layout import READ_ERASE_WRITE, layout
from hardware.simulated.module_format import PREFIX_SIZE
from hardware.simulated.module_image import ModuleImage, dynamic_start
from hardware.simulated.module_writer import ModuleSpec, write_module
from hardware.simulated.serial_facts import checksum8, crc16

ROOT = Path(__file__).resolve().parents[2]
HOST_PROTOCOL_PACKAGES = ("hardware.usb", "hardware.serial", "hardware.firmware", "hardware.firmware_builder")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def _is_in(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


@pytest.mark.parametrize("path", sorted((ROOT / "hardware" / "simulated").glob("*.py")), ids=lambda p: p.name)
def test_the_simulator_imports_none_of_the_host_protocol_modules(path: Path) -> None:
    assert not [m for m in _imports(path) if _is_in(m, HOST_PROTOCOL_PACKAGES)]


@pytest.mark.parametrize("package", ["usb", "serial", "firmware"])
def test_the_host_protocol_modules_import_nothing_from_the_simulator(package: str) -> None:
    for path in sorted((ROOT / "hardware" / package).glob("*.py")):
        assert not [m for m in _imports(path) if _is_in(m, ("hardware.simulated",))], path


def test_crc16_is_crc16_xmodem():
    # The catalogued check value of CRC-16/XMODEM (poly 0x1021, init 0) over "123456789".
    assert crc16(b"123456789") == 0x31C3
    assert crc16(b"") == 0


def test_checksum8_is_the_byte_sum_modulo_256():
    assert checksum8(bytes([0xFF, 0x02, 0x10])) == 0x11


def test_layout_strings_pad_stm32_counts_to_two_digits_and_name_units():
    assert layout("DCT Flash", 0, [(1, 16 * 1024, READ_ERASE_WRITE)], count_digits=2).describe() == (
        "@DCT Flash   /0x00000000/01*016Kg"
    )
    assert layout("Serial Flash", 0, [(256, 4096, READ_ERASE_WRITE)], count_digits=2).describe() == (
        "@Serial Flash   /0x00000000/256*004Kg"
    )


def test_p1_dfu_mode_lists_dct_and_serial_flash(make_device, connect):
    device = make_device("p1")
    device.reboot(DeviceMode.DFU)
    host = connect(device)
    strings = [usb.util.get_string(host.dev, alt.iInterface) for alt in host.dev.get_active_configuration()]
    assert strings[1:] == ["@DCT Flash   /0x00000000/01*016Kg", "@Serial Flash   /0x00000000/256*004Kg"]


def test_a_written_module_reads_back_with_its_crc_product_and_dynamic_location():
    spec = ModuleSpec(
        platform_id=32,
        function=5,
        index=1,
        version=6,
        start=0x085FD000,
        size=12 * 1024,
        dependencies=[(4, 1, 6200)],
        product=(32, 6),
        dynamic_location=True,
    )
    data = write_module(spec, seed=b"test")
    image = ModuleImage.parse(data)
    assert len(data) == spec.size and image.crc_ok
    assert (image.prefix.start, image.prefix.end, image.prefix.platform_id) == (0x085FD000, 0x08600000 - 4, 32)
    assert image.suffix_size == 62 and image.product == (32, 6)
    assert dynamic_start(data[-128:]) == spec.start
    assert data[PREFIX_SIZE - 8 : PREFIX_SIZE - 4] == bytes([4, 1]) + (6200).to_bytes(2, "little")
