"""``hardware.usb.protection``: a device's Device Protection state in normal and DFU mode, the Service Mode handshake
(requests 76/77), DfuSe 0xFA/0xFB, and one error type for a Protected Device's refusals — against simulated devices
over the real pyusb code path."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hardware.simulated import DeviceMode, SimulatedDevice, device_keys
from hardware.usb import DfuSession, HostTiming, UsbDevice
from hardware.usb.discovery import open_device
from hardware.usb.errors import DeviceProtectedError, ServiceModeRefusedError
from hardware.usb.flashing import open_control
from hardware.usb.identify import identify_device
from hardware.usb.protection import (
    ControlProtection,
    DfuProtection,
    ProtectionState,
    read_protection,
)
from hardware.usb.protocol import ResultCode

SERVER_NONCE = bytes(range(100, 132))


def server_answer(device_id: str, reply_nonce: bytes, reply_fingerprint: bytes) -> tuple[bytes, bytes]:
    key = device_keys.server_private_key()
    digest = device_keys.server_hash(device_id, SERVER_NONCE, reply_nonce, reply_fingerprint)
    return device_keys.sign(key, digest), device_keys.fingerprint(key.public_key())


@pytest.fixture
def protection_of(
    open_usb: Callable[[SimulatedDevice], UsbDevice], timing: HostTiming
) -> Callable[[SimulatedDevice], ControlProtection]:
    return lambda device: ControlProtection(open_control(open_usb(device), timing))


def in_dfu(
    device: SimulatedDevice, open_usb: Callable[[SimulatedDevice], UsbDevice], timing: HostTiming
) -> DfuProtection:
    device.reboot(DeviceMode.DFU)
    return DfuProtection(DfuSession(open_usb(device), timing=timing))


def test_display_names_are_particles() -> None:
    assert ProtectionState.OPEN.display_name == "Open Device"
    assert ProtectionState.PROTECTED.display_name == "Protected Device"
    assert ProtectionState.SERVICE_MODE.display_name == "Protected Device (Service Mode)"
    assert ProtectionState.from_flags(state=False, overridden=True) is ProtectionState.SERVICE_MODE
    assert ProtectionState.from_device_state_string("x=1;sm=p\0\0\0\0") is ProtectionState.PROTECTED
    assert ProtectionState.from_device_state_string("") is None


@pytest.mark.parametrize("state", list(ProtectionState)[:3])
def test_state_reads_the_same_in_normal_and_dfu_mode(
    device_factory: Callable[..., SimulatedDevice],
    open_usb: Callable[[SimulatedDevice], UsbDevice],
    timing: HostTiming,
    state: ProtectionState,
) -> None:
    device = device_factory("boron", protection=state.value)
    assert ControlProtection(open_control(open_usb(device), timing)).get_state() is state
    assert in_dfu(device, open_usb, timing).get_state() is state


def test_older_bootloader_falls_back_to_the_memory_map(
    device_factory: Callable[..., SimulatedDevice], open_usb: Callable[[SimulatedDevice], UsbDevice], timing: HostTiming
) -> None:
    protected = device_factory("boron", device_os="6.1.1", protection="protected")
    assert in_dfu(protected, open_usb, timing).get_state() is ProtectionState.PROTECTED
    service = device_factory("boron", device_os="6.1.1", protection="service")
    assert in_dfu(service, open_usb, timing).get_state() is ProtectionState.OPEN_OR_SERVICE_MODE


def test_a_refused_request_is_a_device_protected_error_saying_what_to_do(
    device_factory: Callable[..., SimulatedDevice], open_usb: Callable[[SimulatedDevice], UsbDevice], timing: HostTiming
) -> None:
    control = open_control(open_usb(device_factory("boron", protection="protected")), timing)
    with pytest.raises(DeviceProtectedError) as caught:
        control.module_info()
    assert caught.value.result == ResultCode.DEVICE_PROTECTED
    assert "Protected Device" in str(caught.value) and "protection disable" in str(caught.value)


def test_a_dfu_write_to_a_protected_device_is_the_same_error(
    device_factory: Callable[..., SimulatedDevice], open_usb: Callable[[SimulatedDevice], UsbDevice], timing: HostTiming
) -> None:
    device = device_factory("boron", protection="protected")
    device.reboot(DeviceMode.DFU)
    session = DfuSession(open_usb(device), timing=timing)
    with pytest.raises(DeviceProtectedError) as early:
        session.download(0xF4000, b"\0" * 64)
    assert "Protected Device" in str(early.value)
    with pytest.raises(DeviceProtectedError) as refused:  # no early check on reads: the device says errVENDOR
        session.read(0xF4000, 64)
    assert "Protected Device" in str(refused.value) and "Device is in protected mode" in str(refused.value)


def test_handshake_puts_the_device_in_service_mode_and_reset_ends_it(
    device_factory: Callable[..., SimulatedDevice], protection_of: Callable[[SimulatedDevice], ControlProtection]
) -> None:
    device = device_factory("boron", protection="protected")
    channel = protection_of(device)
    reply = channel.prepare(SERVER_NONCE)
    assert reply is not None and len(reply.device_nonce) == 32
    channel.confirm(*server_answer(device.device_id.value, reply.device_nonce, reply.device_public_key_fingerprint))
    assert channel.get_state() is ProtectionState.SERVICE_MODE
    channel.reset()
    assert channel.get_state() is ProtectionState.PROTECTED


def test_prepare_on_an_open_device_returns_none(
    boron: SimulatedDevice, protection_of: Callable[[SimulatedDevice], ControlProtection]
) -> None:
    assert protection_of(boron).prepare(SERVER_NONCE) is None


def test_forged_signature_is_refused_with_invalid_signature(
    device_factory: Callable[..., SimulatedDevice], protection_of: Callable[[SimulatedDevice], ControlProtection]
) -> None:
    device = device_factory("boron", protection="protected")
    channel = protection_of(device)
    reply = channel.prepare(SERVER_NONCE)
    assert reply is not None
    _, fingerprint = server_answer(device.device_id.value, reply.device_nonce, reply.device_public_key_fingerprint)
    forged = device_keys.sign(device_keys.device_private_key(device.device_id.value), bytes(32))
    with pytest.raises(ServiceModeRefusedError) as caught:
        channel.confirm(forged, fingerprint)
    assert caught.value.result == ResultCode.INVALID_SIGNATURE and "-1803" in str(caught.value)


def test_stale_confirmation_times_out(
    device_factory: Callable[..., SimulatedDevice], protection_of: Callable[[SimulatedDevice], ControlProtection]
) -> None:
    device = device_factory("boron", protection="protected")
    channel = protection_of(device)
    reply = channel.prepare(SERVER_NONCE)
    assert reply is not None
    device.advance_clock(61)
    with pytest.raises(ServiceModeRefusedError) as caught:
        channel.confirm(*server_answer(device.device_id.value, reply.device_nonce, reply.device_public_key_fingerprint))
    assert caught.value.result == ResultCode.TIMEOUT
    with pytest.raises(ServiceModeRefusedError) as again:
        channel.confirm(b"sig", bytes(32))
    assert again.value.result == ResultCode.INVALID_STATE


def test_wrong_server_key_is_a_key_mismatch(
    device_factory: Callable[..., SimulatedDevice], protection_of: Callable[[SimulatedDevice], ControlProtection]
) -> None:
    device = device_factory("boron", protection="protected")
    channel = protection_of(device)
    reply = channel.prepare(SERVER_NONCE)
    assert reply is not None
    signature, _ = server_answer(device.device_id.value, reply.device_nonce, reply.device_public_key_fingerprint)
    with pytest.raises(ServiceModeRefusedError) as caught:
        channel.confirm(signature, bytes(32))
    assert caught.value.result == ResultCode.KEY_MISMATCH


def test_dfuse_fb_ends_service_mode_in_dfu(
    device_factory: Callable[..., SimulatedDevice], open_usb: Callable[[SimulatedDevice], UsbDevice], timing: HostTiming
) -> None:
    device = device_factory("boron", protection="service")
    dfu = in_dfu(device, open_usb, timing)
    dfu.reset()
    assert dfu.get_state() is ProtectionState.PROTECTED and device.mode is DeviceMode.DFU


def test_dfuse_fa_sends_a_protected_device_to_safe_mode(
    device_factory: Callable[..., SimulatedDevice], open_usb: Callable[[SimulatedDevice], UsbDevice], timing: HostTiming
) -> None:
    device = device_factory("boron", protection="protected")
    dfu = in_dfu(device, open_usb, timing)
    dfu.enter_safe_mode()
    reopened = open_device(device.device_id, backend=dfu.session.device.backend)
    assert read_protection(reopened, timing) is ProtectionState.PROTECTED
    assert device.mode is DeviceMode.NORMAL and device.safe_mode
    reopened.close()


def test_identify_of_a_protected_device_reads_id_and_version_only(
    device_factory: Callable[..., SimulatedDevice], open_usb: Callable[[SimulatedDevice], UsbDevice], timing: HostTiming
) -> None:
    device = device_factory("boron", protection="protected")
    found = identify_device(open_usb(device), timing)
    assert found.device_id == device.device_id and found.device_os == device.device_os
    assert found.protection is ProtectionState.PROTECTED and found.details_protected
    assert found.serial is None and found.modules == ()


def test_service_mode_expires_after_20_resets_over_usb(
    device_factory: Callable[..., SimulatedDevice], timing: HostTiming
) -> None:
    from hardware.simulated import usb_backend
    from hardware.usb.discovery import DeviceMode as HostMode
    from hardware.usb.discovery import wait_for_device

    device = device_factory("boron", protection="service")
    backend = usb_backend(device)
    handle = open_device(device.device_id, backend=backend)
    states = []
    for _ in range(20):
        open_control(handle, timing).raw_reset()  # raw request 40, as particle-usb reset({force: true})
        handle.close()
        handle = wait_for_device(device.device_id, HostMode.NORMAL, timeout=5, poll=0.001, backend=backend)
        states.append(ControlProtection(open_control(handle, timing)).get_state())
    handle.close()
    assert states[:19] == [ProtectionState.SERVICE_MODE] * 19
    assert states[19] is ProtectionState.PROTECTED
