"""The rig's cloud for one test: the cloud emulator on 127.0.0.1, seeded with the rig's product and devices, or the
rig's sandbox product on the real cloud (only when allowed, and only a product the rig marks as a sandbox)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cloud_client.client import ParticleCloud
from cloud_client.credentials import CredentialRef, Credentials
from cloud_client.emulator import EmulatorServer
from hardware.errors import HardwareError
from station.demo.simulated_line import OWNER, register_device
from station.workflow.usb_link import UsbLink
from tests.hil.harness.bench import Bench, DeviceHandle
from tests.hil.harness.rig import RigProduct
from tests.hil.harness.safety import ALLOW_CLOUD_OPTION, RigSafetyError, require_sandbox_product

EMULATOR_CREDENTIALS = "env:PARTICLE_HIL_EMULATOR"
"""The reference written into profiles for the emulator; the harness passes the token itself, never through it."""


@dataclass
class RigCloudHandle:
    """Where the rig's product lives and how to reach it; ``client()`` gives a ParticleCloud the caller closes."""

    base_url: str
    product: RigProduct
    credentials_ref: str
    credentials: Credentials = field(repr=False)
    emulator: EmulatorServer | None = None

    @property
    def is_emulator(self) -> bool:
        return self.emulator is not None

    def client(self, **options: object) -> ParticleCloud:
        return ParticleCloud(self.base_url, self.credentials, **options)  # type: ignore[arg-type]

    def close(self) -> None:
        if self.emulator is not None:
            self.emulator.stop()


def open_rig_cloud(bench: Bench, *, allow_cloud: bool) -> RigCloudHandle:
    """Start the emulator for the rig, or (when allowed) resolve the credentials of the rig's sandbox product."""
    rig = bench.rig
    if rig.touches_real_cloud:
        if not allow_cloud:
            raise RigSafetyError(f"{rig.describe()} uses the real cloud at {rig.cloud.base_url}; pass "
                                 f"{ALLOW_CLOUD_OPTION} to let the tests use its sandbox product")
        product = require_sandbox_product(rig)
        assert rig.cloud.credentials is not None  # the rig parser requires them for a real cloud
        credentials = CredentialRef.parse(rig.cloud.credentials).resolve()
        return RigCloudHandle(rig.cloud.base_url, product, rig.cloud.credentials, credentials)
    if rig.product is None:
        raise LookupError(f"{rig.describe()} names no [product] to provision into")
    emulator = EmulatorServer()
    token = emulator.add_owned_product(rig.product.id, rig.product.platform.name, OWNER,
                                       name=f"HIL sandbox for {rig.name}").access_token
    for handle in bench.handles:
        _register(emulator, handle)
    base_url = emulator.start()
    return RigCloudHandle(base_url, rig.product, rig.cloud.credentials or EMULATOR_CREDENTIALS,
                          Credentials.token(token, source="HIL cloud emulator"), emulator)


def _register(emulator: EmulatorServer, handle: DeviceHandle) -> None:
    """Tell the emulator about a rig device as Particle's factory would (a real one's ICCID is read over USB)."""
    if handle.simulated is not None:
        register_device(emulator, handle.simulated)
        return
    iccid = None
    if handle.platform.is_cellular:
        try:
            facts = UsbLink(handle.backend, timing=handle.host_timing).identify(handle.expected_id)
            iccid = facts.iccid.value if facts.iccid else None
        except HardwareError:
            iccid = None  # not reachable now: the test that needs it reports the device
    serial = handle.expected_serial
    emulator.add_device(handle.expected_id.value, handle.platform.name, serial=serial.value if serial else None,
                        iccid=iccid)
