"""The listening-mode console of a simulated device: what each key does and prints (Device OS
``system/src/system_setup.cpp``, ``system_info.cpp``; texts and numbers in ``serial_facts``).

It talks to the device through ``ConsoleDevice`` and to the line through ``ConsoleLink`` (the pty session in
``serial_pty`` is one), so neither the device module nor the pty module is imported here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Protocol

from hardware.identifiers import DeviceId, Iccid, Imei, MobileSecret, SerialNumber
from hardware.simulated import serial_facts as sf
from hardware.simulated.faults import SerialFaults
from hardware.simulated.lifecycle import DeviceMode
from hardware.simulated.module_format import ModuleFunction
from hardware.simulated.module_table import ModuleRecord
from hardware.simulated.platform_facts import Board
from hardware.simulated.versions import version_tuple
from hardware.simulated.wifi import StoredWifiNetwork, WifiStore
from hardware.simulated.ymodem_receiver import YmodemReceive

CELL_RADIO_VERSION = "SIM-MODEM-1.00"
"""``cellfw`` value the simulator reports (its own choice; real ones name the modem firmware)."""
WIFI_SAVED_FIRST_LINE = "Awesome. Now we'll connect!\r\n\r\n"
"""The simulator's wording; only the ending (``serial_facts.WIFI_SAVED_ENDING``) is Device OS's."""


class ConsoleDevice(Protocol):
    """What the console needs of the device it belongs to (``SimulatedDevice`` is one)."""

    startup_listening: bool

    @property
    def board(self) -> Board: ...
    @property
    def device_id(self) -> DeviceId: ...
    @property
    def serial(self) -> SerialNumber | None: ...
    @property
    def mobile_secret(self) -> MobileSecret | None: ...
    @property
    def mac(self) -> bytes: ...
    @property
    def iccid(self) -> Iccid | None: ...
    @property
    def imei(self) -> Imei | None: ...
    @property
    def wifi(self) -> WifiStore: ...
    @property
    def claimed(self) -> bool: ...
    @property
    def present(self) -> bool: ...
    @property
    def mode(self) -> DeviceMode: ...
    @property
    def usb_session(self) -> int: ...
    @property
    def boot_count(self) -> int: ...

    def console_request(self, line: bytes) -> tuple[bytes, float] | None:
        """The running application's answer to a line on its console and the seconds it takes (inf: never); None
        when the application reads no console (not test firmware)."""
        ...
    @property
    def protection(self) -> str: ...
    @property
    def device_os(self) -> str: ...
    @property
    def modules(self) -> tuple[ModuleRecord, ...]: ...

    def start_listening(self) -> None: ...
    def stop_listening(self) -> None: ...
    def enter_dfu(self, delay: float | None = None) -> None: ...
    def reset(self, delay: float | None = ..., mode: DeviceMode = ..., *, safe: bool = ...) -> None: ...
    def set_claim_code(self, code: str) -> None: ...
    def install_module(self, image: bytes) -> ModuleRecord | None: ...


class ConsoleLink(Protocol):
    """The line a console session runs on."""

    faults: SerialFaults
    block_check_errors: int

    def read_byte(self, timeout: float | None = None) -> int | None: ...
    def write(self, data: bytes) -> None: ...
    def reply(self, text: str) -> None:
        """Text output, subject to the reply faults (delay, noise, dribbling)."""

    def pause(self, seconds: float) -> None: ...
    def discard_input(self) -> None: ...


def run_command(link: ConsoleLink, device: ConsoleDevice, key: str) -> None:
    """Carry out one key pressed in listening mode (unknown keys are ignored, as by Device OS)."""
    if key == sf.Key.IDENTIFY.value:
        link.reply(identify_text(device))
    elif key == sf.Key.MAC_ADDRESS.value:
        link.reply(sf.MAC_REPLY.format(mac=device.mac.hex(":")))
    elif key == sf.Key.VERSION.value:
        link.reply(sf.VERSION_REPLY.format(version=device.device_os))
    elif key == sf.Key.SYSTEM_INFO.value:
        link.reply(system_info_text(device))
    elif key == sf.Key.CLAIMED.value:
        link.reply(sf.CLAIMED_REPLY.format(answer="yes" if device.claimed else "no"))
    elif key == sf.Key.SET_CLAIM_CODE.value:
        _claim_code(link, device)
    elif key == sf.Key.DIAGNOSTICS.value:
        diagnostics = {"sys:uptime": 1, "sys:boot_count": device.boot_count}
        link.reply(json.dumps(diagnostics, separators=(",", ":")) + sf.LINE_END)
    elif key == sf.Key.WIFI.value and device.board.wifi:
        _wifi(link, device)
    elif key == sf.Key.SAFE_MODE_LISTEN.value:
        device.startup_listening = True
        device.reset(0.0, safe=True)
    elif key == sf.Key.EXIT.value:
        device.stop_listening()
    elif key == sf.Key.FLASH.value:
        _flash(link, device)


def _key_values(device: ConsoleDevice, *, secrets: bool) -> list[tuple[str, str]]:
    """System key/values in Device OS's order: ``ms`` and ``sn`` (only when provisioned), then the cellular ones."""
    values = []
    if secrets and device.board.gen3_or_later:
        if device.mobile_secret is not None:
            values.append(("ms", device.mobile_secret.value))
        if device.serial is not None:
            values.append(("sn", device.serial.value))
    if device.board.cellular:
        values += [("imei", str(device.imei or "")), ("iccid", str(device.iccid or ""))]
        values.append(("cellfw", CELL_RADIO_VERSION))
    return values


def identify_text(device: ConsoleDevice) -> str:
    values = _key_values(device, secrets=True)
    if not values:
        return sf.IDENTIFY_PLAIN.format(device_id=device.device_id)
    lines = [f"{sf.IDENTIFY_DEVICE_ID}: {device.device_id}"]
    lines += [f"{sf.IDENTIFY_NAMES[key]}: {value}" for key, value in values]
    return "".join(line + sf.LINE_END for line in lines)


def _letter(function: int) -> str:
    return sf.SYSTEM_INFO_FUNCTION_LETTERS.get(int(function), sf.SYSTEM_INFO_OTHER_FUNCTION)


def _dependencies(module: ModuleRecord) -> Sequence[dict[str, object]]:
    return [{"f": _letter(d.function), "n": str(d.index), "v": d.version} for d in module.dependencies]


def system_info_text(device: ConsoleDevice) -> str:
    """``s``: one JSON line with the platform id, key/values (no secrets) and the module table."""
    document: dict[str, object] = {"p": device.board.id}
    document.update(_key_values(device, secrets=False))
    modules = []
    for module in device.modules:
        entry: dict[str, object] = {
            "s": module.max_size,
            "l": sf.SYSTEM_INFO_STORE_LETTERS[int(module.store)],
            "vc": int(module.checked),
            "vv": int(module.passed),
        }
        if module.function is ModuleFunction.USER_PART:
            entry["u"] = module.sha256.hex().upper()
        entry |= {"f": _letter(module.function), "n": str(module.index), "v": module.version}
        entry["d"] = _dependencies(module)
        modules.append(entry)
    document["m"] = modules
    return json.dumps(document, separators=(",", ":")) + sf.LINE_END


def read_line(link: ConsoleLink) -> str:
    """A prompt's answer: echo each character, end at CR or LF, print CR LF, discard pending input."""
    received = bytearray()
    while (byte := link.read_byte()) not in (0x0D, 0x0A):
        assert byte is not None
        received.append(byte)
        link.write(bytes((byte,)))
    link.write(sf.LINE_END.encode())
    link.discard_input()
    return received.decode("utf-8", errors="replace")


def prompt(link: ConsoleLink, text: str) -> str:
    link.reply(text)
    return read_line(link)


def _claim_code(link: ConsoleLink, device: ConsoleDevice) -> None:
    code = prompt(link, sf.CLAIM_CODE_PROMPT)
    if len(code) == sf.CLAIM_CODE_LENGTH:
        device.set_claim_code(code)
        link.write(sf.CLAIM_CODE_SET.format(code=code).encode())
    else:
        link.write(sf.CLAIM_CODE_REJECTED.encode())


def _wifi(link: ConsoleLink, device: ConsoleDevice) -> None:
    ssid = ""
    while not ssid:
        ssid = prompt(link, sf.WIFI_SSID_PROMPT)
    visible = next((n for n in device.wifi.visible if n.ssid == ssid), None)
    cipher = 0
    if visible is not None:
        security = visible.security
    else:
        answer = ""
        while answer not in sf.WIFI_SECURITY_ANSWERS:
            answer = prompt(link, sf.WIFI_SECURITY_PROMPT)
        security = sf.WIFI_SECURITY_ANSWERS[answer]
        # Gen 2 (WICED) needs the cipher of a network it could not scan; Gen 3+ radios work it out.
        if not device.board.gen3_or_later and answer in sf.WIFI_CIPHER_ANSWERS:
            answer = ""
            while answer not in sf.WIFI_CIPHER_ANSWERS:
                answer = prompt(link, sf.WIFI_CIPHER_PROMPT)
            cipher = int(answer)
    password = prompt(link, sf.WIFI_PASSWORD_PROMPT) if security != 0 else ""
    link.write(sf.WIFI_SAVING.encode())
    if link.faults.wifi_save_fails:
        link.write(sf.WIFI_FAILURE.encode())
        return
    device.wifi.store(StoredWifiNetwork(ssid, security, password, cipher=cipher, credentials_type=int(bool(password))))
    link.write((WIFI_SAVED_FIRST_LINE + sf.WIFI_SAVED_ENDING).encode())
    device.stop_listening()


def _flash(link: ConsoleLink, device: ConsoleDevice) -> None:
    """``f``: YMODEM receive up to 5.9.x; from 6.0.0 the waiting line, four CAN and a refusal."""
    link.reply(sf.YMODEM_WAITING)
    if version_tuple(device.device_os) >= sf.YMODEM_REMOVED_IN:
        link.pause(0.1)
        link.write(bytes([sf.CAN] * sf.YMODEM_REFUSAL_CANS) + sf.YMODEM_UNSUPPORTED.encode())
        return
    YmodemReceive(link, device).run()
