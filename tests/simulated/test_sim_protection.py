"""A simulated device's Device Protection, driven at the wire level by the test host (not hardware.usb): what a
Protected Device refuses, the Service Mode handshake with its error codes, Service Mode's end, and DFU behaviour."""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest
import usb.core

from hardware.simulated import DeviceMode, SimulatedDevice, device_keys
from tests.simulated.conftest import DFU_ERROR, DNLOAD_IDLE, MANIFEST, Host, pb_decode, pb_field

GET, SET = 76, 77
PROTECTED, KEY_MISMATCH, INVALID_SIGNATURE = -1801, -1802, -1803
TIMEOUT, INVALID_STATE, INVALID_ARGUMENT = -160, -210, -270
ERR_VENDOR = 0x0B


def state_of(host: Host) -> tuple[bool, bool]:
    result, data = host.request(GET)
    assert result == 0
    fields = pb_decode(data)
    return bool(fields.get(1, [0])[-1]), bool(fields.get(2, [0])[-1])


def prepare(host: Host, server_nonce: bytes) -> tuple[int, dict[int, bytes]]:
    result, data = host.request(SET, pb_field(1, 1) + pb_field(2, pb_field(1, server_nonce)))
    inner = pb_decode(data).get(1, [b""])[-1]
    return result, {k: v[-1] for k, v in pb_decode(inner).items()}


def confirm(host: Host, signature: bytes, fingerprint: bytes) -> int:
    body = pb_field(1, signature) + pb_field(2, fingerprint)
    return host.request(SET, pb_field(1, 2) + pb_field(3, body))[0]


def server_confirmation(device_id: str, server_nonce: bytes, reply: dict[int, bytes]) -> tuple[bytes, bytes]:
    """What the simulated cloud server answers to a device's prepare (the key rule's server key)."""
    key = device_keys.server_private_key()
    digest = device_keys.server_hash(device_id, server_nonce, reply[1], reply[3])
    return device_keys.sign(key, digest), device_keys.fingerprint(key.public_key())


@pytest.fixture
def protected(make_device: Callable[..., SimulatedDevice]) -> SimulatedDevice:
    return make_device("boron", protection="protected")


def test_open_device_reports_empty_state_and_prepare_without_reply(host: Host) -> None:
    assert host.request(GET) == (0, b"")
    result, reply = prepare(host, bytes(32))
    assert result == 0 and reply == {}


def test_protected_device_answers_only_its_few_requests(
    protected: SimulatedDevice, connect: Callable[..., Host]
) -> None:
    host = connect(protected)
    assert state_of(host) == (True, False)
    assert host.request(20)[0] == 0
    for refused in (21, 30, 40, 50, 72, 90, 200, 554):
        assert host.request(refused)[0] == PROTECTED
    raw_id = bytes(host.dev.ctrl_transfer(0xC0, 0x50, 0, 20, 64)).rstrip(b"\0")
    assert raw_id.decode().lower() == protected.device_id.value


def test_protection_comes_from_the_bootloader_security_mode_extension(protected: SimulatedDevice) -> None:
    from hardware.simulated.security_module import security_mode

    boot = next(m for m in protected.modules if m.function.name == "BOOTLOADER" and m.index == 0)
    assert boot.integrity_ok
    assert security_mode(protected.read_flash(boot.start, boot.size)) == 1
    protected.protection = "open"
    assert protected.protection == "open"
    protected.reboot()
    assert protected.protection == "open"


def test_handshake_enters_service_mode(protected: SimulatedDevice, connect: Callable[..., Host]) -> None:
    host = connect(protected)
    nonce = bytes(range(32))
    result, reply = prepare(host, nonce)
    assert result == 0 and len(reply[1]) == 32 and len(reply[3]) == 32
    device_key = device_keys.device_private_key(protected.device_id.value).public_key()
    assert reply[3] == device_keys.fingerprint(device_key)
    assert device_keys.verify(device_key, reply[2], device_keys.device_hash(protected.device_id.value, reply[1], nonce))
    signature, fingerprint = server_confirmation(protected.device_id.value, nonce, reply)
    assert confirm(host, signature, fingerprint) == 0
    assert state_of(host) == (False, True)
    assert protected.protection == "service"
    assert host.request(21)[0] == 0  # requests work again


def test_forged_signature_is_refused(protected: SimulatedDevice, connect: Callable[..., Host]) -> None:
    host = connect(protected)
    nonce = bytes(32)
    _, reply = prepare(host, nonce)
    forger = device_keys.device_private_key("0123456789abcdef01234567")
    digest = device_keys.server_hash(protected.device_id.value, nonce, reply[1], reply[3])
    fingerprint = device_keys.fingerprint(device_keys.server_public_key())
    assert confirm(host, device_keys.sign(forger, digest), fingerprint) == INVALID_SIGNATURE
    assert protected.protection == "protected"


def test_stale_signature_from_an_earlier_prepare_is_refused(
    protected: SimulatedDevice, connect: Callable[..., Host]
) -> None:
    host = connect(protected)
    _, old = prepare(host, bytes(32))
    stale = server_confirmation(protected.device_id.value, bytes(32), old)
    prepare(host, bytes(32))
    assert confirm(host, *stale) == INVALID_SIGNATURE


def test_wrong_server_key_fingerprint_is_a_key_mismatch(
    protected: SimulatedDevice, connect: Callable[..., Host]
) -> None:
    host = connect(protected)
    _, reply = prepare(host, bytes(32))
    signature, _ = server_confirmation(protected.device_id.value, bytes(32), reply)
    assert confirm(host, signature, bytes(32)) == KEY_MISMATCH


def test_confirm_after_60_simulated_seconds_times_out(protected: SimulatedDevice, connect: Callable[..., Host]) -> None:
    host = connect(protected)
    _, reply = prepare(host, bytes(32))
    protected.advance_clock(60)
    assert confirm(host, *server_confirmation(protected.device_id.value, bytes(32), reply)) == TIMEOUT
    assert confirm(host, b"x", bytes(32)) == INVALID_STATE  # the context was dropped


def test_confirm_without_prepare_and_bad_nonce(protected: SimulatedDevice, connect: Callable[..., Host]) -> None:
    host = connect(protected)
    assert confirm(host, b"sig", bytes(32)) == INVALID_STATE
    assert prepare(host, bytes(31))[0] == INVALID_ARGUMENT


def test_service_mode_ends_after_20_resets(make_device: Callable[..., SimulatedDevice]) -> None:
    device = make_device("boron", protection="service")
    for _ in range(19):
        device.reboot()
    assert device.protection == "service"
    device.reboot()
    assert device.protection == "protected"


def test_service_mode_ends_after_24_hours_of_run_time(make_device: Callable[..., SimulatedDevice]) -> None:
    device = make_device("boron", protection="service")
    device.advance_clock(24 * 3600 - 1)
    assert device.protection == "service"
    device.advance_clock(1)
    assert device.protection == "protected"


def test_reset_action_ends_service_mode(
    make_device: Callable[..., SimulatedDevice], connect: Callable[..., Host]
) -> None:
    device = make_device("boron", protection="service")
    host = connect(device)
    assert host.request(SET, b"")[0] == 0
    assert device.protection == "protected"


def _dfu(device: SimulatedDevice, connect: Callable[..., Host]) -> Host:
    device.reboot(DeviceMode.DFU)
    host = connect(device)
    host.select_alt(0)
    return host


def _string(host: Host, index: int) -> str:
    raw = bytes(host.dev.ctrl_transfer(0x80, 6, 0x0300 | index, 0x0409, 255))
    return raw[2 : raw[0]].decode("utf-16-le")


@pytest.mark.parametrize(("state", "letter"), [("open", "o"), ("protected", "p"), ("service", "s")])
def test_dfu_state_string(
    make_device: Callable[..., SimulatedDevice], connect: Callable[..., Host], state: str, letter: str
) -> None:
    host = _dfu(make_device("boron", protection=state), connect)
    assert _string(host, 0xFA).rstrip("\0") == f"sm={letter}"


def test_protected_dfu_refuses_with_errvendor_and_protected_memory_map(
    protected: SimulatedDevice, connect: Callable[..., Host]
) -> None:
    host = _dfu(protected, connect)
    assert host.set_address(0xB4000)[0] == ERR_VENDOR
    status, _, state, i_string = host.status()
    assert (status, state) == (ERR_VENDOR, DFU_ERROR)
    assert _string(host, i_string) == "Device is in protected mode"
    host.clrstatus()
    assert host.erase(0xB4000)[0] == ERR_VENDOR
    host.clrstatus()
    host.dnload(2, b"\0" * 16)
    assert host.settle()[0] == ERR_VENDOR
    host.clrstatus()
    assert host.upload(0, 16)[:5] == bytes([0x00, 0x21, 0x41, 0xFA, 0xFB])
    host.abort()
    assert host.upload(2, 16) == b""
    assert host.status()[0] == ERR_VENDOR
    layout = _string(host, 6)
    assert layout.endswith("/1*004Kb,47*004Kb,192*004Kb,4*004Kb,4*004Kb,8*004Kb"), layout


def test_dfuse_fb_clears_service_mode_and_stays_in_dfu(
    make_device: Callable[..., SimulatedDevice], connect: Callable[..., Host]
) -> None:
    device = make_device("boron", protection="service")
    host = _dfu(device, connect)
    assert host.dfuse(b"\xfb" + struct.pack("<I", 0))[:3:2] == (0, DNLOAD_IDLE)
    assert device.protection == "protected" and device.mode is DeviceMode.DFU


def test_dfuse_fa_resets_a_protected_device_into_safe_mode(
    protected: SimulatedDevice, connect: Callable[..., Host]
) -> None:
    host = _dfu(protected, connect)
    host.dnload(0, b"\xfa")
    assert host.status()[2] == MANIFEST
    with pytest.raises(usb.core.USBError):
        host.status()
    host.reopen()
    assert protected.mode is DeviceMode.NORMAL and protected.safe_mode
