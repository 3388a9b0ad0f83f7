"""The Service Mode handshake end to end: a simulated device over the real pyusb code path, the cloud emulator over
real sockets, and the station's handshake between them; then back to protected, and the development flag."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from cloud_client.client import ParticleCloud
from cloud_client.credentials import Credentials
from cloud_client.emulator import EmulatorServer
from cloud_client.emulator.protection_keys import public_key_pem
from hardware.errors import FirmwareError
from hardware.firmware import FirmwareModule, ModuleFunction, parse_module
from hardware.simulated import SimulatedDevice, usb_backend
from hardware.usb.discovery import UsbDevice, open_device
from hardware.usb.flashing import open_control
from hardware.usb.protection import ControlProtection, ProtectionState
from hardware.usb.timing import HostTiming
from station.product.protection import (
    ProtectionError,
    clear_development_flag,
    enter_service_mode,
    protect_open_device,
    return_to_protected,
    status_line,
)

PRODUCT = 31337
OWNER = "factory@example.com"


@dataclass
class Bench:
    emulator: EmulatorServer
    cloud: ParticleCloud
    device: SimulatedDevice
    usb: UsbDevice
    channel: ControlProtection

    @property
    def device_id(self) -> str:
        return self.device.device_id.value

    def unprotect_calls(self) -> list[tuple[str, str, int]]:
        return [entry for entry in self.emulator.request_log if entry[1].endswith("/unprotect")]


def _bench(protection: str) -> Iterator[Bench]:
    device = SimulatedDevice("boron", seed="protection-bench", protection=protection)
    with EmulatorServer() as emulator:
        owned = emulator.add_owned_product(PRODUCT, "boron", OWNER, device_protection="active")
        emulator.add_device(device.device_id.value, "boron", product_id=PRODUCT, protected=protection != "open")
        assert emulator.base_url is not None
        with ParticleCloud(emulator.base_url, Credentials.token(owned.access_token, source="test"),
                           timeout=10.0) as cloud, open_device(backend=usb_backend(device)) as usb:
            channel = ControlProtection(open_control(usb, HostTiming.fast()))
            yield Bench(emulator, cloud, device, usb, channel)


@pytest.fixture
def protected() -> Iterator[Bench]:
    yield from _bench("protected")


@pytest.fixture
def open_device_bench() -> Iterator[Bench]:
    yield from _bench("open")


def test_handshake_puts_a_protected_device_in_service_mode(protected: Bench) -> None:
    steps: list[str] = []
    result = enter_service_mode(protected.channel, protected.cloud, protected.device_id, product_id=PRODUCT,
                                progress=steps.append)
    assert result.entered
    assert (result.before, result.after) == (ProtectionState.PROTECTED, ProtectionState.SERVICE_MODE)
    assert result.message == (f"Device {protected.device_id} is now in Service Mode. A Protected Device stays in "
                              "Service Mode for a total of 20 reboots or 24 hours.")
    assert steps == ["cloud prepare", "device prepare", "cloud confirm", "device confirm"]
    assert protected.device.protection == "service"
    assert [status for _, _, status in protected.unprotect_calls()] == [200, 200]


def test_after_service_mode_enable_returns_the_device_to_protected(protected: Bench) -> None:
    enter_service_mode(protected.channel, protected.cloud, protected.device_id, product_id=PRODUCT)
    message = return_to_protected(protected.channel, protected.device_id)
    assert message == f"Device {protected.device_id} is now a Protected Device."
    assert protected.channel.get_state() is ProtectionState.PROTECTED
    assert protected.device.protection == "protected"
    # The cloud's record is unchanged: the device is still a Protected Device for it.
    device = next(d for d in protected.emulator.snapshot()["devices"] if d["id"] == protected.device_id)
    assert device["protected"] is True


def test_enable_on_a_protected_device_says_it_already_is(protected: Bench) -> None:
    assert return_to_protected(protected.channel, protected.device_id) == (
        f"Device {protected.device_id} is already a Protected Device.")


def test_handshake_runs_again_in_service_mode(protected: Bench) -> None:
    enter_service_mode(protected.channel, protected.cloud, protected.device_id, product_id=PRODUCT)
    again = enter_service_mode(protected.channel, protected.cloud, protected.device_id, product_id=PRODUCT)
    assert again.entered and again.before is ProtectionState.SERVICE_MODE
    assert len(protected.unprotect_calls()) == 4


def test_the_unscoped_form_works_for_the_products_owner(protected: Bench) -> None:
    result = enter_service_mode(protected.channel, protected.cloud, protected.device_id, product_id=None)
    assert result.entered
    assert all(path.startswith("/v1/devices/") for _, path, _ in protected.unprotect_calls())


def test_an_open_device_is_not_a_protected_device_and_the_cloud_is_not_asked(open_device_bench: Bench) -> None:
    result = enter_service_mode(open_device_bench.channel, open_device_bench.cloud, open_device_bench.device_id,
                                product_id=PRODUCT)
    assert not result.entered
    assert result.message == f"Device {open_device_bench.device_id} is not a Protected Device."
    assert open_device_bench.unprotect_calls() == []


def test_an_open_device_cannot_be_enabled_without_a_bootloader(open_device_bench: Bench) -> None:
    with pytest.raises(ProtectionError, match="--file BOOTLOADER.bin"):
        return_to_protected(open_device_bench.channel, open_device_bench.device_id)


def test_a_cloud_without_the_devices_key_is_a_server_key_mismatch(protected: Bench) -> None:
    other = public_key_pem(ec.generate_private_key(ec.SECP256R1()).public_key())
    protected.emulator.set_device_protection(protected.device_id, public_key_pem=other)
    with pytest.raises(ProtectionError) as info:
        enter_service_mode(protected.channel, protected.cloud, protected.device_id, product_id=PRODUCT)
    text = str(info.value)
    assert text.startswith("server key mismatch")
    assert f"check that the device is reachable through {protected.cloud.base_url}" in text
    assert protected.device.protection == "protected"


class LoseFirstConfirmReply(httpx.HTTPTransport):
    """Real sockets; the first reply to an unprotect confirm is lost after the cloud carried it out."""

    def __init__(self) -> None:
        super().__init__()
        self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path.endswith("/unprotect") and b'"confirm"' in request.content and not self.lost:
            response.read()
            response.close()
            self.lost += 1
            raise httpx.ReadError("connection lost before the reply", request=request)
        return response


def test_a_lost_confirm_reply_starts_the_handshake_over_once(protected: Bench) -> None:
    transport = LoseFirstConfirmReply()
    token = protected.emulator.add_access_token("lost-reply-token-0123456789", OWNER).token
    with ParticleCloud(protected.cloud.base_url, Credentials.token(token, source="test"), transport=transport,
                       sleep=lambda _s: None) as cloud:
        steps: list[str] = []
        result = enter_service_mode(protected.channel, cloud, protected.device_id, product_id=PRODUCT,
                                    progress=steps.append)
    assert result.entered and transport.lost == 1
    assert steps == ["cloud prepare", "device prepare", "cloud confirm"] * 2 + ["device confirm"]
    assert [status for _, _, status in protected.unprotect_calls()] == [200, 200, 400, 200, 200]


def test_status_line_reads_as_particles_cli(protected: Bench) -> None:
    state = protected.channel.get_state()
    assert status_line(protected.device_id, PRODUCT, state) == f"[{protected.device_id}] (Product {PRODUCT}): " \
        "Protected Device"
    assert status_line(protected.device_id, None, state).endswith("(Product N/A): Protected Device")


def test_clear_development_flag_unmarks_a_development_device(protected: Bench) -> None:
    protected.cloud.set_development(PRODUCT, protected.device_id, True)
    assert clear_development_flag(protected.cloud, PRODUCT, protected.device_id) == (
        "Device removed from development mode to maintain current settings.")
    assert protected.cloud.get_device(PRODUCT, protected.device_id).development is False


def test_clear_development_flag_leaves_a_production_device_alone(protected: Bench) -> None:
    message = clear_development_flag(protected.cloud, PRODUCT, protected.device_id)
    assert "not a development device" in message


def test_clear_development_flag_of_a_device_outside_the_product_says_what_to_do(protected: Bench) -> None:
    with pytest.raises(ProtectionError, match="Device protection may be disabled on next cloud connection"):
        clear_development_flag(protected.cloud, PRODUCT, "0123456789abcdef01234567")


def bootloader_of(device: SimulatedDevice) -> FirmwareModule:
    """The bootloader the device runs, read from its flash: the bootloader of its Device OS."""
    record = next(m for m in device.modules if m.function.name == "BOOTLOADER" and m.index == 0)
    return parse_module(device.read_flash(record.start, record.size), source="bootloader.bin")


def test_an_open_device_is_protected_with_its_bootloader_and_can_then_be_reworked(open_device_bench: Bench) -> None:
    bench = open_device_bench
    device, message = protect_open_device(bench.usb, bootloader_of(bench.device), HostTiming.fast())
    with device:
        assert message == f"Device {bench.device_id} is now a Protected Device."
        assert bench.device.protection == "protected"
        channel = ControlProtection(open_control(device, HostTiming.fast()))
        assert enter_service_mode(channel, bench.cloud, bench.device_id, product_id=PRODUCT).entered
        assert return_to_protected(channel, bench.device_id).endswith("is now a Protected Device.")


def test_protecting_needs_a_bootloader(open_device_bench: Bench) -> None:
    record = next(m for m in open_device_bench.device.modules if m.function.name == "SYSTEM_PART")
    system = parse_module(open_device_bench.device.read_flash(record.start, record.size), source="system.bin")
    assert system.function is ModuleFunction.SYSTEM_PART
    with pytest.raises(FirmwareError, match="not a bootloader"):
        protect_open_device(open_device_bench.usb, system, HostTiming.fast())
    assert open_device_bench.device.protection == "open"


def test_protecting_refuses_device_os_below_6_1_1() -> None:
    old = SimulatedDevice("boron", seed="old-os", device_os="5.9.0")
    with open_device(backend=usb_backend(old)) as usb, pytest.raises(ProtectionError, match="6.1.1 or later"):
        protect_open_device(usb, bootloader_of(old), HostTiming.fast())
    assert old.protection == "open"
