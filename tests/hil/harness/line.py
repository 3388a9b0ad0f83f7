"""A station Line for one rig device: a profile written for the rig's product, the application the rig gives (or one
built for the platform on a simulated rig), the device's slot pinned to its id, and the rig's cloud."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cloud_client.client import ParticleCloud
from station.config.profile import ClaimMode, SimActivationPolicy, StationProfile
from station.config.profile_loader import load_profile
from station.workflow.line import Line
from station.workflow.lot import prepare_lot
from station.workflow.usb_link import UsbLink
from tests.hil.harness.bench import DeviceHandle
from tests.hil.harness.cloud import RigCloudHandle

LINE_FIRMWARE_VERSION = 7
"""Product version of the application a simulated rig's line flashes."""


def write_rig_profile(workdir: Path, handle: DeviceHandle, cloud: RigCloudHandle, *, station: str) -> StationProfile:
    """A one-slot station profile under ``workdir`` whose slot takes only ``handle``'s device."""
    product = cloud.product
    workdir.mkdir(parents=True, exist_ok=True)
    firmware = handle.application(product.id, LINE_FIRMWARE_VERSION)
    firmware_path = workdir / f"{handle.name}-application.bin"
    firmware_path.write_bytes(firmware)
    sim_activation = product.sim_activation
    if sim_activation is SimActivationPolicy.ALWAYS and not handle.platform.is_cellular:
        sim_activation = SimActivationPolicy.OFF
    claim = f'claim = "{product.claim.value}"\n' if product.claim is not ClaimMode.OFF else ""
    path = workdir / "station.toml"
    path.write_text(
        f"""# Written by the HIL harness for {handle.describe()}.
[station]
name = "{station}"
log_folder = "station-data"

[product]
id = {product.id}
platform = "{product.platform.name}"

[firmware]
file = "{firmware_path.name}"
sha256 = "{hashlib.sha256(firmware).hexdigest()}"

[steps]
pre_add = true
sim_activation = "{sim_activation.value}"
{claim}
[cloud]
base_url = "{cloud.base_url}"
credentials = "{cloud.credentials_ref}"

[slots]
count = 1
ports = ["{handle.expected_id.value}"]
""",
        encoding="utf-8",
    )
    return load_profile(path)


def build_rig_line(
    workdir: Path,
    handle: DeviceHandle,
    cloud: RigCloudHandle,
    client: ParticleCloud,
    *,
    station: str = "HIL rig",
    operator: str = "hil",
) -> Line:
    """A started Line for ``handle`` over USB, talking to the rig's cloud through ``client``; the caller closes both."""
    profile = write_rig_profile(workdir, handle, cloud, station=station)
    fast = handle.simulated is not None
    return Line(
        prepare_lot(profile, client), link=UsbLink(handle.backend, timing=handle.host_timing), operator=operator,
        find_timeout=2.0 if fast else 10.0, outbox_poll=0.05 if fast else 1.0,
        outbox_base_delay=0.05 if fast else 2.0,
    ).start()
