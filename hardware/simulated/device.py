"""The simulated Particle device model: identity, flash, module table, modes and settings, independent of any
transport, so the pyusb backend and the pty serial console can share one device.

Everything below is safe to call from any thread: each method takes ``device.lock`` (an ``RLock``); the one
exception is the FlashMemory that ``memory(alt)`` returns, which callers use under ``with device.lock:``, as they
do for any several steps that must be atomic.

Identity (read-only): ``platform``, ``device_id``, ``serial`` (None if not provisioned), ``mobile_secret``
(Gen 3+), ``mac``, ``iccid`` / ``imei`` (cellular), ``label`` (the data-matrix text).

Firmware: ``device_os``, ``system_module_version``, ``bootloader_version``, ``modules`` (the module table read at
the last boot), ``running_user_part``, ``ncp_version``; ``install_module(image)`` (write a module at its prefix
address and re-read the table), ``stage_update(image)`` (apply at the next boot, as an OTA does).

Flash: ``memory(alt)``, ``read_flash(address, length, alt=0)``, ``write_flash(address, data, alt=0)`` (test
set-up: stores exactly these bytes), ``erase_flash(address, length, alt=0)``.

Modes: ``mode`` (DeviceMode.NORMAL / LISTENING / DFU), ``safe_mode``, ``start_listening()``,
``stop_listening()``, ``startup_listening`` (75 / serial ``L``), ``reset(delay=None, mode=NORMAL, safe=False)``
(stay on the bus ``delay`` seconds — default ``timing.reset_s`` — then drop off, boot into ``mode`` and re-enumerate
after ``timing.reenumerate_s``), ``enter_dfu(delay=None)``, ``reboot(mode=NORMAL)`` (reset now),
``reset_pending``.

Settings: ``claim_code`` / ``set_claim_code(code)``, ``claimed``, ``setup_done``, ``cloud_connected``, ``wifi``
(a WifiStore: credentials, joined network, scan results).

Bus presence: ``present`` (enumerates now), ``plugged``, ``unplug()``, ``plug()``, ``usb_session`` (changes
whenever the device drops off the bus: a handle from an older session is stale), ``boot_count``,
``busy_remaining()`` / ``occupy(seconds)`` (a busy device NAKs: transfers wait), ``timing``, ``faults``.
"""

from __future__ import annotations

import enum
import random
import threading
import time

from hardware.firmware.format import ModuleFunction
from hardware.firmware.versions import module_version_to_device_os
from hardware.identifiers import DeviceId, Iccid, Imei, MobileSecret, SerialNumber
from hardware.platforms import Platform, parse_platform
from hardware.simulated import memory_map, versions
from hardware.simulated.errors import SimulationError
from hardware.simulated.factory import write_factory_modules
from hardware.simulated.faults import Faults, damage
from hardware.simulated.flash import FlashMemory
from hardware.simulated.identity import make_identity
from hardware.simulated.module_image import ModuleImage
from hardware.simulated.module_table import ModuleRecord, read_module_table
from hardware.simulated.timing import Timing
from hardware.simulated.wifi import WifiStore
from hardware.usb.dfuse_layout import MemoryLayout

MAX_CLAIM_CODE = 64


class DeviceMode(enum.Enum):
    NORMAL = "normal"
    LISTENING = "listening"
    DFU = "dfu"


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
    ) -> None:
        self.platform = platform if isinstance(platform, Platform) else parse_platform(platform)
        layouts = memory_map.dfu_layouts(self.platform)  # raises for platforms the simulator does not model
        if device_os is None:
            device_os = "6.2.0" if self.platform.gen3_or_later else "3.3.1"
        if not self.platform.gen3_or_later and versions.version_tuple(device_os) >= (4, 0, 0):
            raise SimulationError(f"{self.platform} cannot run Device OS {device_os}: Gen 2 support ends with 3.x")
        self.lock = threading.RLock()
        self.timing = timing if timing is not None else Timing.zero()
        self.faults = Faults()
        self.wifi = WifiStore()
        rng = random.Random(seed)
        identity = make_identity(
            self.platform,
            rng,
            device_id=device_id,
            serial=serial,
            serial_provisioned=serial_provisioned,
            mobile_secret=mobile_secret,
            iccid=iccid,
            imei=imei,
        )
        self.device_id = identity.device_id
        self.serial = identity.serial
        self.mobile_secret = identity.mobile_secret
        self.mac = identity.mac
        self.iccid = identity.iccid
        self.imei = identity.imei
        self._memories = {alt: FlashMemory(MemoryLayout.parse(text), nor=alt != 1) for alt, text in enumerate(layouts)}
        self._device_os = device_os
        self._ncp_version = versions.NCP_MODULE_VERSION if memory_map.has_ncp(self.platform) else None
        self._modules: tuple[ModuleRecord, ...] = ()
        write_factory_modules(self._memories[0], self.platform, device_os, factory_user_part, str(seed))
        self._pending_update: ModuleImage | None = None
        self._listening = False
        self._safe_mode = False
        self._safe_boot = False
        self.startup_listening = False
        self._claim_code = ""
        self.claimed = False
        self._setup_done = False
        self.cloud_connected = False
        self._plugged = True
        self._present_at = 0.0
        self._session = 1
        self.boot_count = 0
        self._busy_until = 0.0
        self._reset_at: float | None = None
        self._reset_mode = DeviceMode.NORMAL
        self._firmware = DeviceMode.NORMAL
        self._boot(DeviceMode.NORMAL)

    def __repr__(self) -> str:
        return f"SimulatedDevice({self.platform.name}, {self.device_id}, {self.mode.value})"

    # --- identity ------------------------------------------------------------------------------------------------

    @property
    def label(self) -> str:
        """The data-matrix label text: ``<serial> <mobile secret>`` (Gen 3+) or the serial alone."""
        serial = self.serial.value if self.serial else ""
        return f"{serial} {self.mobile_secret.value}" if self.mobile_secret else serial

    # --- firmware ------------------------------------------------------------------------------------------------

    @property
    def device_os(self) -> str:
        with self.lock:
            self._advance()
            return self._device_os

    @property
    def system_module_version(self) -> int:
        return versions.system_module_version(self.device_os)

    @property
    def modules(self) -> tuple[ModuleRecord, ...]:
        with self.lock:
            self._advance()
            return self._modules

    @property
    def bootloader_version(self) -> int | None:
        return next((m.version for m in self.modules if m.function is ModuleFunction.BOOTLOADER and m.index == 0), None)

    @property
    def running_user_part(self) -> ModuleRecord | None:
        """The user part that boots: intact, and on nRF52840 the 0xD4000 app wins over the 0xB4000 one (§3.4)."""
        return next((m for m in self.modules if m.function is ModuleFunction.USER_PART and m.integrity_ok), None)

    @property
    def ncp_version(self) -> int | None:
        return self._ncp_version

    def install_module(self, image: bytes) -> ModuleRecord | None:
        """Write a module binary at its prefix address (as a factory programmer would) and re-read the table.

        Returns the module's row in the table, or None if the device does not list it (e.g. a corrupt image in a
        slot that an intact module wins).
        """
        parsed = ModuleImage.parse(image)
        with self.lock:
            self._install(parsed, corrupt=False)
            self._scan()
            p = parsed.prefix
            return next(
                (m for m in self._modules if m.function == p.function and m.index == p.index and m.start == p.start),
                None,
            )

    def stage_update(self, image: bytes) -> None:
        """Keep a validated module to apply at the next boot (normal-mode update, §2.3)."""
        parsed = ModuleImage.parse(image)
        with self.lock:
            self._pending_update = parsed

    # --- flash ---------------------------------------------------------------------------------------------------

    def memory(self, alt: int = 0) -> FlashMemory:
        try:
            return self._memories[alt]
        except KeyError:
            raise SimulationError(
                f"{self.platform.display_name} {self.device_id} has DFU alt settings 0..{len(self._memories) - 1}, "
                f"not {alt}"
            ) from None

    @property
    def memory_count(self) -> int:
        return len(self._memories)

    def read_flash(self, address: int, length: int, alt: int = 0) -> bytes:
        with self.lock:
            return self.memory(alt).read(address, length)

    def write_flash(self, address: int, data: bytes, alt: int = 0) -> None:
        with self.lock:
            self.memory(alt).overwrite(address, data)

    def erase_flash(self, address: int, length: int, alt: int = 0) -> None:
        with self.lock:
            self.memory(alt).erase_covering(address, length)

    # --- modes ---------------------------------------------------------------------------------------------------

    @property
    def mode(self) -> DeviceMode:
        with self.lock:
            self._advance()
            if self._firmware is DeviceMode.DFU:
                return DeviceMode.DFU
            return DeviceMode.LISTENING if self._listening else DeviceMode.NORMAL

    @property
    def safe_mode(self) -> bool:
        with self.lock:
            self._advance()
            return self._safe_mode

    @property
    def listening(self) -> bool:
        return self.mode is DeviceMode.LISTENING

    def start_listening(self) -> None:
        with self.lock:
            self._advance()
            if self._firmware is DeviceMode.DFU:
                raise SimulationError(f"{self.device_id} is in DFU mode and cannot enter listening mode")
            self._listening = True

    def stop_listening(self) -> None:
        with self.lock:
            self._listening = False

    def reset(self, delay: float | None = None, mode: DeviceMode = DeviceMode.NORMAL, *, safe: bool = False) -> None:
        with self.lock:
            self._advance()
            wait = self.timing.reset_s if delay is None else delay
            self._reset_at = time.monotonic() + wait
            self._reset_mode = DeviceMode.DFU if mode is DeviceMode.DFU else DeviceMode.NORMAL
            self._safe_boot = safe

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
            return self._reset_at is not None

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
            return self._plugged

    @property
    def present(self) -> bool:
        with self.lock:
            self._advance()
            return self._plugged and time.monotonic() >= self._present_at

    @property
    def usb_session(self) -> int:
        with self.lock:
            self._advance()
            return self._session

    def unplug(self) -> None:
        """Pull the cable: the device loses power and vanishes from the bus; open handles go stale."""
        with self.lock:
            self._advance()
            if self._plugged:
                self._plugged = False
                self._session += 1
                self._reset_at = None
                self._busy_until = 0.0

    def plug(self) -> None:
        """Plug the cable in: the device boots normally and enumerates after ``timing.reenumerate_s``."""
        with self.lock:
            if not self._plugged:
                self._plugged = True
                self._boot(DeviceMode.NORMAL)
                self._present_at = time.monotonic() + self.timing.reenumerate_s

    def busy_remaining(self) -> float:
        with self.lock:
            return max(0.0, self._busy_until - time.monotonic())

    def occupy(self, seconds: float) -> None:
        """The device is busy (flash work) for ``seconds`` more: the next transfer waits for it."""
        with self.lock:
            self._busy_until = max(self._busy_until, time.monotonic()) + seconds

    def serial_port(self) -> str:
        """Path of a pty that pyserial opens, serving this device's USB serial (CDC) console."""
        from hardware.simulated.serial_pty import open_serial_console

        return open_serial_console(self)

    # --- internals -----------------------------------------------------------------------------------------------

    def _advance(self) -> None:
        """Carry out a reset whose time has come (state changes are applied lazily, on the next access)."""
        if self._reset_at is None or time.monotonic() < self._reset_at:
            return
        at, self._reset_at = self._reset_at, None
        if not self._plugged:
            return
        self._session += 1
        self._boot(self._reset_mode)
        self._present_at = at + self.timing.reenumerate_s

    def _boot(self, requested: DeviceMode) -> None:
        self.boot_count += 1
        if self._pending_update is not None:
            self._install(self._pending_update, corrupt=self.faults.take_corrupt_write())
            self._pending_update = None
        self._scan()
        system_ok = any(m.function is ModuleFunction.SYSTEM_PART and m.valid for m in self._modules)
        # Without an intact system part the bootloader stays in DFU mode.
        self._firmware = DeviceMode.DFU if requested is DeviceMode.DFU or not system_ok else DeviceMode.NORMAL
        normal = self._firmware is DeviceMode.NORMAL
        user = next((m for m in self._modules if m.function is ModuleFunction.USER_PART and m.integrity_ok), None)
        self._safe_mode = normal and (self._safe_boot or user is None or not user.valid)
        self._safe_boot = False
        self._listening = normal and self.startup_listening
        self._busy_until = 0.0
        self.cloud_connected = False

    def _install(self, image: ModuleImage, *, corrupt: bool) -> None:
        prefix = image.prefix
        if prefix.function == ModuleFunction.NCP:
            self._ncp_version = prefix.version
            return
        if prefix.function in (ModuleFunction.ASSET, ModuleFunction.RADIO_STACK):
            return  # kept outside the modelled flash
        memory = self._memories[0]
        memory.erase_covering(prefix.start, len(image.data))
        memory.program(prefix.start, damage(image.data) if corrupt else image.data)

    def _scan(self) -> None:
        self._modules = read_module_table(self._memories[0].read, self.platform, self._ncp_version)
        intact = [m for m in self._modules if m.function is ModuleFunction.SYSTEM_PART and m.integrity_ok]
        if intact:
            known = module_version_to_device_os(min(intact, key=lambda m: m.index).version)
            self._device_os = known or self._device_os
