"""Safety checks of the HIL harness: destructive tests only touch devices the rig file names, and a real cloud only
through a sandbox product the rig names, only when the person running the tests allowed it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hardware.identifiers import DeviceId
from hardware.platforms import Platform
from hardware.usb.discovery import DeviceInfo
from station.errors import StationError
from tests.hil.harness.rig import Rig, RigProduct

ALLOW_CLOUD_OPTION = "--allow-cloud"


class RigSafetyError(StationError):
    """A HIL test was refused because running it could harm a device or a product that is not the rig's."""


def check_destructive_target(
    rig: Rig,
    expected: Mapping[DeviceId, Platform],
    found: Sequence[DeviceInfo],
    target: DeviceId,
) -> None:
    """Refuse a destructive test unless every Particle device on the bus is one the rig names, with the platform the
    rig says, and the target is among them.

    ``expected`` maps the rig's device ids to their platforms; ``found`` is what USB enumeration returned just now.
    """
    where = rig.describe()
    for info in found:
        if info.device_id is None:
            raise RigSafetyError(
                f"{info.describe()} is on USB but its device id cannot be read ({info.problem or 'no serial string'}); "
                f"destructive tests on {where} refuse to run while an unidentified device is connected: unplug it"
            )
        if info.device_id not in expected:
            raise RigSafetyError(
                f"{info.describe()} is on USB but not in {where}; destructive tests refuse to run next to a device "
                "the rig file does not name: unplug it, or add it to the rig file if it is a test device"
            )
        platform = expected[info.device_id]
        if info.platform.id != platform.id:
            raise RigSafetyError(
                f"device {info.device_id} enumerates as a {info.platform.display_name}, but {where} says it is a "
                f"{platform.display_name}; fix the rig file or the wiring before running destructive tests"
            )
    if target not in expected:
        raise RigSafetyError(
            f"device {target} is not in {where}; destructive tests only erase or flash devices the rig file names"
        )
    if not any(info.device_id == target for info in found):
        raise RigSafetyError(
            f"device {target} of {where} is not on USB, so it cannot be confirmed before a destructive test; "
            "check its cable and hub port, then run the tests again"
        )


def cloud_skip_reason(*, touches_real_cloud: bool, allow_cloud: bool) -> str | None:
    """Why a test that touches the real cloud does not run now, or None when it may run."""
    if touches_real_cloud and not allow_cloud:
        return f"touches the real Particle cloud; run with {ALLOW_CLOUD_OPTION} to use the rig's sandbox product"
    return None


def require_sandbox_product(rig: Rig) -> RigProduct:
    """The rig's product, when the rig may use the real cloud with it; RigSafetyError otherwise."""
    where = rig.describe()
    product = rig.product
    if product is None:
        raise RigSafetyError(
            f"{where} names no product; a real cloud is only used through a sandbox product: add [product] with "
            "id, platform and sandbox = true"
        )
    if not product.sandbox:
        raise RigSafetyError(
            f"{where} names product {product.id} without sandbox = true; tests refuse to add, claim or activate "
            "devices in a product that may be a production one: name a sandbox product and mark it sandbox = true"
        )
    return product
