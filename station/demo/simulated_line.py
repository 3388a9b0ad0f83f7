"""A complete simulated line for the demo, ``--simulate``, tests and benchmarks: a cloud emulator seeded with a
product, simulated devices the cloud knows from manufacturing, product firmware built for the platform, a station
profile pointing at all of it, and the devices coming online in the cloud as real ones would. Everything above (Line,
UsbLink, ParticleCloud) is the real code.

``CloudConnectivity`` connects a device to the emulator ``connect_delay`` seconds after it is ready: plugged, booted
normally (not DFU, listening or safe mode), running product firmware (a user part with product data other than the
factory Tinker app's platform id + ``TINKER_VERSION``; a platform-id product id, as Device OS 4+ ``PRODUCT_VERSION``
builds store, is reported as the line's product), and with connectivity (cellular: its SIM active in the emulator;
Wi-Fi: stored credentials, or ``assume_wifi``). ``EmulatorServer.device_connects`` records online, last handshake,
firmware product id and version and Device OS (and quarantines a device its product never imported). When the cloud
would deliver another version (``EmulatorServer.firmware_update_for``: the lock, else the groups' release, else the
product default; never to development devices) the device gets it over the air: staged, checked by the device
(platform, CRC), rebooted, and it reconnects with the new version. Unplugged, restarted or cut off, it goes offline.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cloud_client.client import ParticleCloud
from cloud_client.credentials import Credentials
from cloud_client.emulator import EmulatorServer
from cloud_client.emulator.errors import EmulatorError
from hardware.firmware import ModuleFunction
from hardware.firmware_builder import build_module
from hardware.platforms import McuFamily, Platform, parse_platform
from hardware.simulated import DeviceMode, ModuleImage, SimulatedDevice, SimulationError, Timing, usb_backend
from hardware.simulated.factory import TINKER_VERSION
from hardware.usb.timing import HostTiming
from station.config.profile import StationProfile
from station.config.profile_loader import load_profile
from station.workflow.usb_link import UsbLink

log = logging.getLogger(__name__)

OWNER = "factory@example.com"
DEFAULT_PRODUCT_ID = 12345
DEFAULT_CONNECT_DELAY_S = 1.0
_PRODUCT_NOT_SET = 0xFFFF


def product_firmware(platform: Platform, product_id: int, version: int, *, size: int = 48 * 1024) -> bytes:
    """A product application (user part) for ``platform`` that a simulated device on its default Device OS accepts."""
    if platform.mcu in (McuFamily.NRF52840, McuFamily.RTL872X):
        index, dependency = (2 if platform.mcu is McuFamily.NRF52840 else 1), (ModuleFunction.SYSTEM_PART, 1, 6100)
    else:
        index, dependency = 1, (ModuleFunction.SYSTEM_PART, 2, 3000)
    return build_module(
        platform, ModuleFunction.USER_PART, index, 6, size=size, dependencies=[dependency],
        product_id=product_id, product_version=version, seed=version,
    )


@dataclass
class SimulatedLine:
    workdir: Path
    emulator: EmulatorServer
    devices: list[SimulatedDevice]
    profile: StationProfile
    access_token: str = field(repr=False)
    host_timing: HostTiming = field(default_factory=HostTiming)
    connectivity: CloudConnectivity | None = None
    """The devices' cloud connections, once ``start_connectivity`` ran (``build_simulated_line`` starts it)."""

    def __post_init__(self) -> None:
        self.backend = usb_backend(*self.devices)

    @property
    def base_url(self) -> str:
        assert self.emulator.base_url is not None
        return self.emulator.base_url

    def cloud(self, **options: object) -> ParticleCloud:
        return ParticleCloud(self.base_url, Credentials.token(self.access_token, source="simulated line"),
                             **options)  # type: ignore[arg-type]

    def link(self) -> UsbLink:
        return UsbLink(self.backend, timing=self.host_timing)

    def add_device(self, **options: object) -> SimulatedDevice:
        """Another unit on the line, known to the cloud from manufacturing."""
        device = SimulatedDevice(self.profile.platform, seed=f"{self.workdir}-{len(self.devices)}",
                                 timing=self.devices[0].timing if self.devices else None, **options)  # type: ignore[arg-type]
        register_device(self.emulator, device)
        self.devices.append(device)
        self.backend.add(device)
        return device

    def start_connectivity(
        self, *, connect_delay: float = DEFAULT_CONNECT_DELAY_S, assume_wifi: bool = True, poll_interval: float = 0.05
    ) -> CloudConnectivity:
        """Let this line's devices come online in the emulator (see ``CloudConnectivity``); stopped by ``close``."""
        if self.connectivity is None:
            self.connectivity = CloudConnectivity(
                self.emulator, lambda: list(self.devices), self.profile.product_id, connect_delay=connect_delay,
                assume_wifi=assume_wifi, poll_interval=poll_interval,
            ).start()
        return self.connectivity

    def close(self) -> None:
        if self.connectivity is not None:
            self.connectivity.stop()
        self.emulator.stop()


def register_device(emulator: EmulatorServer, device: SimulatedDevice) -> None:
    """Tell the emulated cloud about a manufactured device, as Particle's factory does."""
    emulator.add_device(
        device.device_id.value, device.platform.name,
        serial=device.serial.value if device.serial else None,
        iccid=device.iccid.value if device.iccid else None,
    )


def build_simulated_line(
    workdir: Path,
    *,
    platform: str | Platform = "boron",
    devices: int = 2,
    slots: int | None = None,
    product_id: int = DEFAULT_PRODUCT_ID,
    firmware_version: int = 7,
    timing: Timing | None = None,
    host_timing: HostTiming | None = None,
    steps: str = 'pre_add = true\nsim_activation = "auto"\nclaim = "product-owner"\ngroups = ["line-a"]\n',
    emulator_port: int = 0,
    station_name: str = "Simulated station",
    connect_delay: float | None = DEFAULT_CONNECT_DELAY_S,
    assume_wifi: bool = True,
) -> SimulatedLine:
    """Start an emulator, create ``devices`` simulated units and write a profile under ``workdir``.

    The units come online in the emulator ``connect_delay`` seconds after they run product firmware and have
    connectivity (``assume_wifi``: Wi-Fi units count as having credentials); ``connect_delay=None`` keeps them offline.
    """
    plat = platform if isinstance(platform, Platform) else parse_platform(platform)
    workdir.mkdir(parents=True, exist_ok=True)
    firmware = product_firmware(plat, product_id, firmware_version)
    firmware_path = workdir / f"{plat.name}-product-v{firmware_version}.bin"
    firmware_path.write_bytes(firmware)
    emulator = EmulatorServer(port=emulator_port)
    token = emulator.add_owned_product(product_id, plat.name, OWNER,
                                       name=f"Simulated {plat.display_name} product").access_token
    base_url = emulator.start()
    profile_path = workdir / "station.toml"
    profile_path.write_text(
        f"""# Written by the simulated line: every device and the cloud here are simulated.
[station]
name = "{station_name}"
log_folder = "station-data"

[product]
id = {product_id}
platform = "{plat.name}"

[firmware]
file = "{firmware_path.name}"
sha256 = "{hashlib.sha256(firmware).hexdigest()}"

[steps]
{steps}
[cloud]
base_url = "{base_url}"
credentials = "env:PARTICLE_SIMULATED"

[slots]
count = {slots or max(devices, 1)}
""",
        encoding="utf-8",
    )
    units = [SimulatedDevice(plat, seed=f"{workdir.name}-{n}", timing=timing) for n in range(devices)]
    for device in units:
        register_device(emulator, device)
    line = SimulatedLine(
        workdir=workdir,
        emulator=emulator,
        devices=units,
        profile=load_profile(profile_path),
        access_token=token,
        host_timing=host_timing or HostTiming.fast(),
    )
    if connect_delay is not None:
        line.start_connectivity(connect_delay=connect_delay, assume_wifi=assume_wifi)
    return line


# --- devices coming online ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectivityEvent:
    """Something that happened to a simulated device's cloud connection."""

    kind: str
    """``connected``, ``disconnected``, ``updating`` (over the air), ``updated``, ``update failed``."""
    device_id: str
    firmware_version: int | None
    detail: str = ""


@dataclass
class _Session:
    online: bool = False
    ready_since: float | None = None
    boot: int = -1
    version: int | None = None
    updating_to: int | None = None
    failed_update: int | None = None
    reason: str = "not looked at yet"


class CloudConnectivity:
    """Connects simulated devices to the emulator as they would connect to the cloud (see the module docstring)."""

    def __init__(
        self,
        emulator: EmulatorServer,
        devices: Callable[[], Iterable[SimulatedDevice]],
        product_id: int,
        *,
        connect_delay: float = DEFAULT_CONNECT_DELAY_S,
        assume_wifi: bool = True,
        poll_interval: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.emulator = emulator
        self.devices = devices
        self.product_id = product_id
        self.connect_delay = connect_delay
        self.assume_wifi = assume_wifi
        self.poll_interval = poll_interval
        self.clock = clock
        self._sessions: dict[str, _Session] = {}
        self._events: list[ConnectivityEvent] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> CloudConnectivity:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="simulated-connectivity", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def events(self) -> list[ConnectivityEvent]:
        with self._lock:
            return list(self._events)

    def is_online(self, device_id: str) -> bool:
        with self._lock:
            session = self._sessions.get(device_id.lower())
            return session is not None and session.online

    def reason(self, device_id: str) -> str:
        """Why the device is offline (or ``online``), as last seen."""
        with self._lock:
            session = self._sessions.get(device_id.lower())
            return "online" if session is not None and session.online else session.reason if session else "unknown"

    def wait_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Poll ``condition`` until it holds or ``timeout`` seconds pass; True when it held."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(self.poll_interval, 0.02))
        return True

    def product_firmware(self, device: SimulatedDevice) -> tuple[int, int] | None:
        """(product id as reported, product version) of the product firmware the device runs, or None."""
        running = device.running_user_part
        if running is None or running.product is None:
            return None
        product_id, version = running.product
        if product_id == _PRODUCT_NOT_SET or (product_id == device.platform.id and version == TINKER_VERSION):
            return None  # no PRODUCT_VERSION in the build, or the factory Tinker app
        return (self.product_id if product_id == device.platform.id else product_id), version

    def offline_reason(self, device: SimulatedDevice) -> str | None:
        """Why the device cannot connect now, in plain words; None when it can."""
        if not device.plugged:
            return "unplugged (no power)"
        mode = device.mode
        if mode is not DeviceMode.NORMAL:
            return f"in {mode.value} mode"
        if device.safe_mode:
            return "in safe mode"
        if self.product_firmware(device) is None:
            return "runs no product firmware"
        if device.platform.is_cellular:
            if device.iccid is None:
                return "has no SIM card"
            status = self.emulator.sim_status(device.iccid.value)
            if status != "active":
                return f"its SIM {device.iccid.value} is not active ({status or 'unknown to the cloud'})"
        elif not self.assume_wifi and not device.wifi.credentials:
            return "has no Wi-Fi credentials"
        return None

    def poll(self) -> None:
        """Look at every device once: connect, disconnect or update it as due."""
        for device in self.devices():
            try:
                self._poll_device(device)
            except (EmulatorError, SimulationError) as exc:
                with self._lock:
                    self._sessions.setdefault(device.device_id.value, _Session()).reason = str(exc)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:  # a simulator fault must not silently end every device's connectivity
                log.exception("simulated connectivity: poll failed")
            self._stop.wait(self.poll_interval)

    def _record(self, kind: str, device_id: str, version: int | None, detail: str = "") -> None:
        with self._lock:
            self._events.append(ConnectivityEvent(kind, device_id, version, detail))

    def _poll_device(self, device: SimulatedDevice) -> None:
        device_id = device.device_id.value
        with self._lock:
            session = self._sessions.setdefault(device_id, _Session())
        reason = self.offline_reason(device)
        boot = device.boot_count
        if session.online:
            if reason is None and boot == session.boot:
                return
            session.online = False
            with device.lock:
                device.cloud_connected = False
            self.emulator.device_disconnects(device_id)
            self._record("disconnected", device_id, session.version, reason or "restarted")
        if reason is not None:
            session.ready_since, session.reason = None, reason
            return
        now = self.clock()
        if session.ready_since is None or boot != session.boot:
            session.ready_since, session.boot = now, boot
            session.reason = f"connecting ({self.connect_delay:g} s after it became ready)"
        if now - session.ready_since < self.connect_delay:
            return
        firmware = self.product_firmware(device)
        assert firmware is not None  # offline_reason checked it
        product_id, version = firmware
        self.emulator.device_connects(device_id, product_id, version, device.device_os)
        with device.lock:
            device.cloud_connected = True
        session.online, session.version = True, version
        self._record("connected", device_id, version)
        if session.updating_to is not None:
            target, session.updating_to = session.updating_to, None
            if version == target:
                self._record("updated", device_id, version, f"updated over the air to v{target}")
            else:
                session.failed_update = target
                self._record("update failed", device_id, version, f"still runs v{version} after the update to "
                             f"v{target}")
        update = self.emulator.firmware_update_for(device_id)
        if update is not None and update[0] != session.failed_update:
            self._update(device, session, version, *update)

    def _update(self, device: SimulatedDevice, session: _Session, version: int, target: int, binary: bytes) -> None:
        device_id = device.device_id.value
        problem = _update_problem(binary, device)
        if problem:
            # A device validates an update before applying it, and keeps running what it has.
            session.failed_update = target
            self._record("update failed", device_id, version, f"refused v{target}: {problem}")
            return
        session.updating_to = target
        self._record("updating", device_id, version, f"v{version} -> v{target} over the air")
        device.stage_update(binary)
        device.reboot()


def _update_problem(binary: bytes, device: SimulatedDevice) -> str:
    try:
        image = ModuleImage.parse(binary)
    except SimulationError as exc:
        return str(exc)
    if image.prefix.platform_id != device.platform.id:
        return f"it is built for platform {image.prefix.platform_id}"
    return "" if image.crc_ok else "its CRC-32 does not match"
