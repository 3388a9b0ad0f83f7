"""The simulated Particle device: one object tying together its parts, independent of any transport, so the pyusb
backend and the pty serial console share one device.

Parts, by responsibility: ``identity`` (who it is, ``identity.py``), ``firmware`` (flash memories, module table,
staged update: ``firmware_store.py``), ``lifecycle`` (cable, USB sessions, resets, modes, busy time:
``lifecycle.py``), ``faults`` (``faults.py``), ``wifi`` (``wifi.py``), ``console`` (its USB serial console on a pty:
``serial_pty.py``), and the few settings kept here (claim code, claimed, setup done, cloud connection, start in
listening mode). ``board`` holds the simulator's own platform facts (ids on the wire); ``platform`` is the host's
Platform of the same name, for callers.

Every public member is safe to call from any thread: each takes ``device.lock`` (an ``RLock``) and first carries out
a reset whose time has come. The parts are not locked themselves: the transports use them under ``with device.lock``,
as callers do for several steps that must be atomic (the FlashMemory ``memory(alt)`` returns included).

Identity (read-only): ``platform``, ``device_id``, ``serial`` (None if not provisioned), ``mobile_secret`` (Gen 3+),
``mac``, ``iccid`` / ``imei`` (cellular), ``label`` (the data-matrix text).

Firmware: ``device_os``, ``system_module_version``, ``bootloader_version``, ``modules`` (the module table read at
the last boot), ``running_user_part``; ``install_module(image)`` (write a module at its prefix address and re-read
the table), ``stage_update(image)`` (apply at the next boot, as an OTA does); ``memory(alt)``,
``read_flash(address, length, alt=0)``, ``write_flash(address, data, alt=0)`` (test set-up: stores exactly these
bytes), ``erase_flash(address, length, alt=0)``.

Modes: ``mode`` (DeviceMode.NORMAL / LISTENING / DFU), ``safe_mode``, ``start_listening()``, ``stop_listening()``,
``startup_listening`` (75 / serial ``L``), ``reset(delay=None, mode=NORMAL, safe=False)`` (stay on the bus ``delay``
seconds — default ``timing.reset_s`` — then drop off, boot into ``mode`` and re-enumerate after
``timing.reenumerate_s``), ``enter_dfu(delay=None)``, ``reboot(mode=NORMAL)`` (reset now), ``reset_pending``.

Settings: ``claim_code`` / ``set_claim_code(code)``, ``claimed``, ``setup_done``, ``cloud_connected``, ``wifi``,
``signalling`` (the rainbow LED of requests 230/231; off after a boot).

Test firmware: ``test_firmware`` (the running user part's manifest when it carries the ``PSTEST-FW1`` marker, else
None: request 10 then answers the fixture protocol's ops, see ``test_personality.py``), ``test_faults`` (per-op
faults, e.g. ``{"battery": "out_of_range", "vin": "slow:2"}``; settable, kept until withdrawn).

Bus presence: ``present`` (enumerates now), ``plugged``, ``unplug()``, ``plug()``, ``usb_session`` (changes whenever
the device drops off the bus: a handle from an older session is stale), ``boot_count``, ``timing``, ``faults``.

Serial: ``serial_port()`` (the pty path of its CDC console, started on first use), ``console`` (the handle that owns
the console: its live session, faults, ``close()``).
"""

from __future__ import annotations

import random
import threading

from hardware.identifiers import DeviceId, Iccid, Imei, MobileSecret, SerialNumber
from hardware.platforms import Platform, parse_platform
from hardware.simulated import versions
from hardware.simulated.control_messages import SetClaimCodeRequest
from hardware.simulated.errors import SimulationError
from hardware.simulated.faults import Faults, TestFault
from hardware.simulated.firmware_store import FirmwareStore
from hardware.simulated.flash import FlashMemory
from hardware.simulated.identity import make_identity
from hardware.simulated.lifecycle import DeviceMode, Lifecycle
from hardware.simulated.module_image import ModuleImage
from hardware.simulated.module_table import ModuleRecord
from hardware.simulated.platform_facts import board as board_named
from hardware.simulated.protection import PROTECTION_STATES, SecurityMode, SimulatedClock
from hardware.simulated.protection_facts import SECURITY_MODE_PROTECTED
from hardware.simulated.security_module import security_mode, with_security_mode
from hardware.simulated.serial_pty import SerialConsolePort
from hardware.simulated.test_firmware import TestFirmwareManifest
from hardware.simulated.timing import Timing
from hardware.simulated.wifi import WifiStore

MAX_CLAIM_CODE = SetClaimCodeRequest.MAX_LENGTH

__all__ = ["MAX_CLAIM_CODE", "DeviceMode", "SimulatedDevice"]


class SimulatedDevice:
    """One simulated device. ``platform`` is a Platform or a name (``"boron"``, ``"p2"``, ``"photon2"``…).

    ``device_os`` defaults to 6.2.0 (3.3.1 on Gen 2, whose support ends with 3.x). ``seed`` makes the generated
    identity and module contents repeatable. ``factory_user_part=False`` ships no user part (the device then
    boots into safe mode). ``serial_provisioned=False`` leaves the serial number unset.
    """

    def __init__(
        self,
        platform: Platform | str,
        device_id: DeviceId | str | None = None,
        serial: SerialNumber | str | None = None,
        mobile_secret: MobileSecret | str | None = None,
        iccid: Iccid | str | None = None,
        imei: Imei | str | None = None,
        device_os: str | None = None,
        timing: Timing | None = None,
        seed: int | str | None = None,
        *,
        serial_provisioned: bool = True,
        factory_user_part: bool = True,
        protection: str = "open",
    ) -> None:
        self.platform = platform if isinstance(platform, Platform) else parse_platform(platform)
        self.board = board_named(self.platform.name)  # raises for platforms the simulator does not model
        if device_os is None:
            device_os = "6.2.0" if self.board.gen3_or_later else "3.3.1"
        if not self.board.gen3_or_later and versions.version_tuple(device_os) >= (4, 0, 0):
            raise SimulationError(f"{self.platform} cannot run Device OS {device_os}: Gen 2 support ends with 3.x")
        self.lock = threading.RLock()
        self.timing = timing if timing is not None else Timing.zero()
        self.faults = Faults()
        self.wifi = WifiStore()
        self.identity = make_identity(
            self.board,
            random.Random(seed),
            device_id=device_id,
            serial=serial,
            serial_provisioned=serial_provisioned,
            mobile_secret=mobile_secret,
            iccid=iccid,
            imei=imei,
        )
        self.device_id = self.identity.device_id
        self.serial = self.identity.serial
        self.mobile_secret = self.identity.mobile_secret
        self.mac = self.identity.mac
        self.iccid = self.identity.iccid
        self.imei = self.identity.imei
        label = f"{self.platform.display_name} {self.device_id}"
        self.firmware = FirmwareStore(self.board, device_os, user_part=factory_user_part, seed=str(seed), label=label)
        self.lifecycle = Lifecycle(self.timing)
        self.console = SerialConsolePort(self)
        self.startup_listening = False
        self.claimed = False
        self.cloud_connected = False
        self.signalling = False
        self._claim_code = ""
        self._setup_done = False
        self.clock = SimulatedClock()
        self.security = SecurityMode(self.device_id.value, self.clock)
        self._boot(DeviceMode.NORMAL, safe=False)
        if protection != "open":
            self.protection = protection

    def __repr__(self) -> str:
        return f"SimulatedDevice({self.platform.name}, {self.device_id}, {self.mode.value})"

    @property
    def label(self) -> str:
        """The data-matrix label text: ``<serial> <mobile secret>`` (Gen 3+) or the serial alone."""
        return self.identity.label

    # --- firmware ------------------------------------------------------------------------------------------------

    @property
    def device_os(self) -> str:
        with self.lock:
            self._advance()
            return self.firmware.device_os

    @property
    def system_module_version(self) -> int:
        return versions.system_module_version(self.device_os)

    @property
    def modules(self) -> tuple[ModuleRecord, ...]:
        with self.lock:
            self._advance()
            return self.firmware.modules

    @property
    def bootloader_version(self) -> int | None:
        with self.lock:
            self._advance()
            return self.firmware.bootloader_version

    @property
    def running_user_part(self) -> ModuleRecord | None:
        """The user part that boots: intact, and on nRF52840 the 0xD4000 app wins over the 0xB4000 one."""
        with self.lock:
            self._advance()
            return self.firmware.running_user_part

    def install_module(self, image: bytes) -> ModuleRecord | None:
        """Write a module binary at its prefix address (as a factory programmer would) and re-read the table.

        Returns the module's row in the table, or None if the device does not list it (e.g. a corrupt image in a
        slot that an intact module wins).
        """
        parsed = ModuleImage.parse(image)
        with self.lock:
            self._advance()
            self.firmware.install(parsed)
            self.firmware.scan()
            p = parsed.prefix
            return next(
                (m for m in self.firmware.modules if (m.function, m.index, m.start) == (p.function, p.index, p.start)),
                None,
            )

    @property
    def test_firmware(self) -> TestFirmwareManifest | None:
        with self.lock:
            self._advance()
            return self.firmware.test_firmware

    def console_request(self, line: bytes) -> tuple[bytes, float] | None:
        """Test firmware answers a JSON request line on its serial console as it answers request 10 (the same ops,
        faults and measuring time); other firmware reads no console (None)."""
        if self.test_firmware is None:
            return None
        from hardware.simulated.test_personality import TestPersonality  # it imports this module

        reply = TestPersonality(self).handle(line)
        return reply.data, reply.delay_s

    @property
    def test_faults(self) -> dict[str, str]:
        """Per-op faults of the test firmware (the live dict: changes apply to the next request)."""
        return self.faults.test_ops

    @test_faults.setter
    def test_faults(self, faults: dict[str, str]) -> None:
        for text in faults.values():
            TestFault.parse(text)
        self.faults.test_ops.clear()
        self.faults.test_ops.update(faults)

    def stage_update(self, image: bytes) -> None:
        """Keep a validated module to apply at the next boot (a normal-mode or over-the-air update)."""
        parsed = ModuleImage.parse(image)
        with self.lock:
            self.firmware.pending_update = parsed

    def memory(self, alt: int = 0) -> FlashMemory:
        return self.firmware.memory(alt)

    def read_flash(self, address: int, length: int, alt: int = 0) -> bytes:
        with self.lock:
            return self.firmware.memory(alt).read(address, length)

    def write_flash(self, address: int, data: bytes, alt: int = 0) -> None:
        with self.lock:
            self.firmware.memory(alt).overwrite(address, data)

    def erase_flash(self, address: int, length: int, alt: int = 0) -> None:
        with self.lock:
            self.firmware.memory(alt).erase_covering(address, length)

    # --- modes ---------------------------------------------------------------------------------------------------

    @property
    def mode(self) -> DeviceMode:
        with self.lock:
            self._advance()
            return self.lifecycle.mode

    @property
    def safe_mode(self) -> bool:
        with self.lock:
            self._advance()
            return self.lifecycle.safe_mode

    def start_listening(self) -> None:
        with self.lock:
            self._advance()
            if self.lifecycle.firmware is DeviceMode.DFU:
                raise SimulationError(f"{self.device_id} is in DFU mode and cannot enter listening mode")
            self.lifecycle.listening = True

    def stop_listening(self) -> None:
        with self.lock:
            self.lifecycle.listening = False

    def reset(self, delay: float | None = None, mode: DeviceMode = DeviceMode.NORMAL, *, safe: bool = False) -> None:
        with self.lock:
            self._advance()
            self.lifecycle.schedule_reset(self.timing.reset_s if delay is None else delay, mode, safe=safe)

    def enter_dfu(self, delay: float | None = None) -> None:
        self.reset(delay, DeviceMode.DFU)

    def reboot(self, mode: DeviceMode = DeviceMode.NORMAL) -> None:
        """Reset now: drop off the bus at once and boot into ``mode``."""
        with self.lock:
            self.reset(0.0, mode)
            self._advance()

    @property
    def reset_pending(self) -> bool:
        with self.lock:
            self._advance()
            return self.lifecycle.reset_pending

    # --- Device Protection -----------------------------------------------------------------------------------------

    @property
    def protection(self) -> str:
        """"open", "protected" or "service" (Protected Device in Service Mode)."""
        with self.lock:
            self._advance()
            return self.security.state

    @protection.setter
    def protection(self, state: str) -> None:
        """Make the device Open or Protected by rewriting its bootloader's SECURITY_MODE extension, as a factory
        programmer would; "service" is a Protected Device that has just entered Service Mode."""
        if state not in PROTECTION_STATES:
            raise SimulationError(f"protection is one of {', '.join(PROTECTION_STATES)}, not {state!r}")
        with self.lock:
            self._advance()
            boot = self._bootloader_image()
            if boot is None:
                raise SimulationError(f"{self.device_id} has no intact bootloader to carry a security mode")
            start, image = boot
            self.firmware.memory(0).overwrite(start, with_security_mode(image, state != "open"))
            self.firmware.scan()
            self.security.bootloader_protected = state != "open"
            self.security.clear_override()
            if state == "service":
                self.security.enter_service_mode()

    def advance_clock(self, seconds: float) -> None:
        """Let ``seconds`` of simulated run time pass (Service Mode's 24 hours, the handshake's 60 s)."""
        with self.lock:
            self.clock.advance(seconds)

    def _bootloader_image(self) -> tuple[int, bytes] | None:
        from hardware.simulated.module_format import ModuleFunction

        record = next(
            (m for m in self.firmware.modules if m.function is ModuleFunction.BOOTLOADER and m.index == 0), None
        )
        if record is None or not record.integrity_ok:
            return None
        return record.start, self.firmware.memory(0).read(record.start, record.size)

    # --- settings ------------------------------------------------------------------------------------------------

    @property
    def claim_code(self) -> str:
        with self.lock:
            return self._claim_code

    def set_claim_code(self, code: str) -> None:
        if len(code) > MAX_CLAIM_CODE:
            raise SimulationError(f"claim code has {len(code)} characters; a device stores at most {MAX_CLAIM_CODE}")
        with self.lock:
            self._claim_code = code

    @property
    def setup_done(self) -> bool:
        with self.lock:
            return self._setup_done

    @setup_done.setter
    def setup_done(self, done: bool) -> None:
        with self.lock:
            self._setup_done = done

    # --- bus presence --------------------------------------------------------------------------------------------

    @property
    def plugged(self) -> bool:
        with self.lock:
            return self.lifecycle.plugged

    @property
    def present(self) -> bool:
        with self.lock:
            self._advance()
            return self.lifecycle.present

    @property
    def usb_session(self) -> int:
        with self.lock:
            self._advance()
            return self.lifecycle.session

    @property
    def boot_count(self) -> int:
        with self.lock:
            self._advance()
            return self.lifecycle.boot_count

    def unplug(self) -> None:
        """Pull the cable: the device loses power and vanishes from the bus; open handles go stale."""
        with self.lock:
            self._advance()
            self.lifecycle.unplug()

    def plug(self) -> None:
        """Plug the cable in: the device boots normally and enumerates after ``timing.reenumerate_s``."""
        with self.lock:
            if self.lifecycle.plug():
                self._boot(DeviceMode.NORMAL, safe=False)

    def serial_port(self) -> str:
        """Path of a pty that pyserial opens, serving this device's USB serial (CDC) console."""
        return self.console.open()

    # --- booting -------------------------------------------------------------------------------------------------

    def _advance(self) -> None:
        """Carry out a reset whose time has come (state changes are applied lazily, on the next access)."""
        boot = self.lifecycle.due_reset()
        if boot is not None:
            self._boot(boot.mode, safe=boot.safe)

    def _boot(self, requested: DeviceMode, *, safe: bool) -> None:
        firmware = self.firmware
        if firmware.pending_update is not None:
            firmware.apply_pending(corrupt=self.faults.take_corrupt_write())
        firmware.scan()
        boot = self._bootloader_image()
        self.security.on_boot(boot is not None and security_mode(boot[1]) == SECURITY_MODE_PROTECTED)
        # Without an intact system part the bootloader stays in DFU mode.
        dfu = requested is DeviceMode.DFU or not firmware.system_ok
        self.lifecycle.booted(
            DeviceMode.DFU if dfu else DeviceMode.NORMAL,
            safe_mode=safe or not firmware.user_ok,
            listening=self.startup_listening,
        )
        self.cloud_connected = False
        self.signalling = False
