"""The simulated device model itself: identity per MCU, module table, flash storage, modes and timing."""

from __future__ import annotations

import threading
import time

import pytest

from hardware.firmware_builder import build_module
from hardware.identifiers import DeviceId, Iccid, Imei, LabelScan, luhn_ok
from hardware.platforms import McuFamily
from hardware.simulated import DeviceMode, ModuleFunction, SimulatedDevice, SimulationError, Timing

PAGE = 4096


def test_nrf_device_id_starts_with_the_ficr_prefix(make_device):
    assert make_device("boron").device_id.value.startswith("e00fce68")


def test_rtl_device_id_is_the_fixed_prefix_and_the_wifi_mac(make_device):
    device = make_device("p2")
    assert device.device_id.value == "0a10aced2021" + device.mac.hex()


def test_stm32_device_id_is_12_bytes(make_device):
    assert len(bytes.fromhex(make_device("electron").device_id.value)) == 12


def test_same_seed_gives_the_same_identity(make_device):
    first, second = make_device("boron", seed=5), make_device("boron", seed=5)
    assert (first.device_id, first.serial, first.iccid) == (second.device_id, second.serial, second.iccid)


def test_different_seeds_give_different_device_ids(make_device):
    assert make_device("boron", seed=1).device_id != make_device("boron", seed=2).device_id


def test_given_identity_is_kept(make_device):
    device = make_device("boron", device_id="E00FCE68AAAAAAAAAAAAAAAA", serial="B40TABCDEFGHIJK")
    assert device.device_id == DeviceId("e00fce68aaaaaaaaaaaaaaaa")
    assert device.serial.value == "B40TABCDEFGHIJK"


@pytest.mark.parametrize(("platform", "prefix"), [("p2", "P046"), ("msom", "P054"), ("tracker", "P031")])
def test_serial_number_starts_with_the_sku_prefix(make_device, platform, prefix):
    assert make_device(platform).serial.sku_prefix == prefix


def test_rtl_serial_number_ends_with_the_last_three_mac_bytes(make_device):
    device = make_device("p2")
    assert device.serial.value.endswith(device.mac[3:].hex().upper())


def test_cellular_device_has_luhn_valid_iccid_and_imei(make_device):
    device = make_device("bsom")
    assert Iccid.parse(device.iccid.value).luhn_valid
    assert luhn_ok(Imei.parse(device.imei.value).value)


def test_wifi_only_device_has_no_iccid_or_imei(make_device):
    device = make_device("argon")
    assert (device.iccid, device.imei) == (None, None)


def test_gen3_label_parses_into_serial_and_mobile_secret(make_device):
    device = make_device("boron")
    label = LabelScan.parse(device.label)
    assert (label.serial, label.mobile_secret) == (device.serial, device.mobile_secret)


def test_gen2_device_has_no_mobile_secret(make_device):
    assert make_device("photon").mobile_secret is None


def test_gen2_device_cannot_run_device_os_6(make_device):
    with pytest.raises(SimulationError, match="Gen 2"):
        make_device("photon", device_os="6.2.0")


@pytest.mark.parametrize("platform", ["core", "tachyon"])
def test_platforms_without_a_modelled_flash_are_refused(make_device, platform):
    with pytest.raises(SimulationError, match="cannot be simulated"):
        make_device(platform)


def test_unknown_device_os_version_is_refused(make_device):
    with pytest.raises(SimulationError, match="6.2.0"):
        make_device("boron", device_os="9.9.9")


def test_module_table_versions_follow_the_device_os_lookup(make_device):
    modules = {m.function: m for m in make_device("boron", device_os="5.9.0").modules}
    assert modules[ModuleFunction.SYSTEM_PART].version == 5901
    assert modules[ModuleFunction.BOOTLOADER].version == 2700


def test_nrf_system_part_sits_at_0x28000_from_6_2_0_and_0x30000_before(make_device):
    def system_start(version: str) -> int:
        device = make_device("boron", device_os=version)
        return next(m.start for m in device.modules if m.function is ModuleFunction.SYSTEM_PART)

    assert (system_start("6.2.0"), system_start("6.1.1")) == (0x28000, 0x30000)


def test_argon_reports_an_ncp_module(make_device):
    assert any(m.function is ModuleFunction.NCP for m in make_device("argon").modules)


def test_rtl_user_part_is_found_at_the_end_anchored_slot(make_device):
    user = make_device("p2").running_user_part
    assert user.start + user.size == 0x08600000


def test_installed_user_part_becomes_the_running_one(make_device):
    device = make_device("boron")
    record = device.install_module(build_module("boron", 5, 2, 99, size=PAGE, dependencies=[(4, 1, 6200)]))
    assert record == device.running_user_part
    assert record.version == 99


def test_valid_legacy_app_at_d4000_wins_over_the_b4000_app(make_device):
    device = make_device("boron")
    legacy = build_module("boron", 5, 1, 3, start_address=0xD4000, size=PAGE, dependencies=[(4, 1, 6200)])
    device.install_module(legacy)
    assert device.running_user_part.start == 0xD4000


def test_user_part_depending_on_a_newer_system_fails_its_dependency_check(make_device):
    device = make_device("boron", device_os="6.1.1")
    record = device.install_module(build_module("boron", 5, 2, 9, size=PAGE, dependencies=[(4, 1, 6200)]))
    assert record is not None and not record.valid
    assert device.safe_mode is False  # the table changes; the running firmware notices at its next boot
    device.reboot()
    assert device.safe_mode


def test_installed_system_part_changes_the_device_os_version(make_device):
    device = make_device("boron", device_os="6.1.1")
    device.install_module(build_module("boron", 4, 1, 6200, start_address=0x28000, size=8 * PAGE))
    assert device.device_os == "6.2.0"


def test_device_without_a_user_part_boots_into_safe_mode(make_device):
    assert make_device("boron", factory_user_part=False).safe_mode


def test_install_module_refuses_bytes_without_a_prefix(make_device):
    with pytest.raises(SimulationError, match="no module prefix"):
        make_device("boron").install_module(b"\x00" * 64)


def test_write_and_read_flash_round_trip(make_device):
    device = make_device("boron")
    device.write_flash(0x1000, b"hello")
    assert device.read_flash(0x1000, 5) == b"hello"


def test_flash_is_stored_sparsely(make_device):
    device = make_device("boron")
    assert device.memory(0).pages_in_use < 16
    assert device.memory(2).pages_in_use == 0


def test_reading_outside_a_memory_raises(make_device):
    with pytest.raises(SimulationError, match="outside"):
        make_device("boron").read_flash(0x100000, 1)


def test_enter_dfu_switches_mode_after_the_reset_delay(make_device):
    device = make_device("boron", timing=Timing.zero().with_changes(reset_s=0.05))
    device.enter_dfu()
    assert device.mode is DeviceMode.NORMAL
    deadline = time.monotonic() + 2
    while device.mode is not DeviceMode.DFU:
        assert time.monotonic() < deadline, "device never entered DFU mode"
        time.sleep(0.005)


def test_startup_listening_flag_makes_the_next_boot_listen(make_device):
    device = make_device("boron")
    device.startup_listening = True
    device.reboot()
    assert device.mode is DeviceMode.LISTENING


def test_listening_mode_cannot_start_in_dfu(make_device):
    device = make_device("boron")
    device.reboot(DeviceMode.DFU)
    with pytest.raises(SimulationError, match="DFU"):
        device.start_listening()


def test_claim_code_longer_than_64_characters_is_refused(make_device):
    with pytest.raises(SimulationError, match="64"):
        make_device("boron").set_claim_code("x" * 65)


def test_state_changes_from_several_threads_stay_consistent(make_device):
    device = make_device("argon")

    def store(n: int) -> None:
        from hardware.simulated import StoredWifiNetwork

        for i in range(50):
            device.wifi.store(StoredWifiNetwork(f"net-{n}-{i}"))

    threads = [threading.Thread(target=store, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(device.wifi.credentials) == 200


def test_realistic_timing_has_nonzero_flash_and_reset_times():
    timing = Timing.realistic(McuFamily.RTL872X)
    assert timing.page_erase_s > 0 and timing.block_write_s > 0 and timing.reset_s == 1.0


def test_simulated_device_accepts_a_platform_object(make_device):
    from hardware.platforms import by_name

    assert SimulatedDevice(by_name("msom"), seed=1).platform.name == "msom"
