"""A complete simulated line for the demo, ``--simulate``, tests and benchmarks: a cloud emulator seeded with a
product, simulated devices the cloud knows from manufacturing, product firmware built for the platform, and a
station profile pointing at all of it. Everything above (Line, UsbLink, ParticleCloud) is the real code.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cloud_client.client import ParticleCloud
from cloud_client.credentials import Credentials
from cloud_client.emulator import EmulatorServer
from hardware.firmware import ModuleFunction
from hardware.firmware_builder import build_module
from hardware.platforms import McuFamily, Platform, parse_platform
from hardware.simulated import SimulatedDevice, Timing, usb_backend
from hardware.usb.timing import HostTiming
from station.profile import StationProfile, load_profile
from station.workflow.usb_link import UsbLink

OWNER = "factory@example.com"
DEFAULT_PRODUCT_ID = 12345


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

    def close(self) -> None:
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
) -> SimulatedLine:
    """Start an emulator, create ``devices`` simulated units and write a profile under ``workdir``."""
    plat = platform if isinstance(platform, Platform) else parse_platform(platform)
    workdir.mkdir(parents=True, exist_ok=True)
    firmware = product_firmware(plat, product_id, firmware_version)
    firmware_path = workdir / f"{plat.name}-product-v{firmware_version}.bin"
    firmware_path.write_bytes(firmware)
    emulator = EmulatorServer(port=emulator_port)
    token = secrets.token_hex(20)
    emulator.add_user(OWNER, secrets.token_hex(8))
    emulator.add_access_token(token, user=OWNER)
    emulator.add_product(product_id, plat.name, owner=OWNER, name=f"Simulated {plat.display_name} product")
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
    return SimulatedLine(
        workdir=workdir,
        emulator=emulator,
        devices=units,
        profile=load_profile(profile_path),
        access_token=token,
        host_timing=host_timing or HostTiming.fast(),
    )
