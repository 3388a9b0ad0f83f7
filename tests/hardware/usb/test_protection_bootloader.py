"""``hardware.firmware.protected_bootloader``: the SECURITY_MODE extension added to a bootloader and the module
resealed; read back by the host's parser and, independently, by the simulated device's own reader."""

from __future__ import annotations

import pytest

from hardware.errors import FirmwareError
from hardware.firmware import ModuleFunction, ProductDataExtension, SecurityModeExtension, parse_module
from hardware.firmware.protected_bootloader import is_protected_bootloader, protect_bootloader
from hardware.firmware_builder import build_module
from hardware.simulated import SimulatedDevice
from hardware.simulated.security_module import security_mode


def bootloader(**options: object) -> bytes:
    return build_module("boron", ModuleFunction.BOOTLOADER, 0, 3100, size=8 * 1024, **options)  # type: ignore[arg-type]


def test_protected_bootloader_reads_back_intact_with_the_extension() -> None:
    plain = parse_module(bootloader(), source="boron-bootloader.bin")
    protected = protect_bootloader(plain)
    assert protected.is_intact and not protected.format_problems
    assert is_protected_bootloader(protected) and not is_protected_bootloader(plain)
    assert protected.file_size == plain.file_size + 5 and protected.end_address == plain.end_address + 5
    assert (protected.version, protected.start_address, protected.platform_id) == (3100, 0xF4000, plain.platform_id)
    assert protected.source == "boron-bootloader-protected.bin"
    assert security_mode(protected.data) == 1  # the simulator's own reader agrees


def test_legacy_product_suffix_becomes_a_product_data_extension() -> None:
    protected = protect_bootloader(parse_module(bootloader(product_id=1234, product_version=5)))
    assert protected.is_intact and (protected.product_id, protected.product_version) == (1234, 5)
    assert any(isinstance(e, ProductDataExtension) for e in protected.suffix_extensions)
    assert any(isinstance(e, SecurityModeExtension) and e.mode == 1 for e in protected.suffix_extensions)


def test_protecting_twice_changes_nothing() -> None:
    once = protect_bootloader(parse_module(bootloader()))
    assert protect_bootloader(once).data == once.data


def test_only_an_intact_bootloader_can_be_protected() -> None:
    app = parse_module(build_module("boron", ModuleFunction.USER_PART, 2, 9, size=8 * 1024))
    with pytest.raises(FirmwareError, match="not a bootloader"):
        protect_bootloader(app)
    damaged = bytearray(bootloader())
    damaged[100] ^= 0xFF
    with pytest.raises(FirmwareError, match="damaged"):
        protect_bootloader(parse_module(bytes(damaged)))


def test_a_simulated_device_installing_the_protected_bootloader_becomes_protected() -> None:
    device = SimulatedDevice("boron", seed="protect-me")
    boot = next(m for m in device.modules if m.function.name == "BOOTLOADER" and m.index == 0)
    protected = protect_bootloader(parse_module(device.read_flash(boot.start, boot.size)))
    device.install_module(protected.data)
    device.reboot()
    assert device.protection == "protected"
