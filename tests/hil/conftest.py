"""Fixtures of the HIL tests: the rig fixtures come from tests.hil.harness.plugin; these add what several share."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hardware.firmware import FirmwareModule, parse_module
from tests.hil.harness.bench import DeviceHandle, NoFirmwareError
from tests.hil.harness.rig import Rig

ApplicationFor = Callable[[DeviceHandle, int], FirmwareModule]


@pytest.fixture
def unit_timeout(rig: Rig) -> float:
    """Seconds one unit may take through the line: simulated devices run with zero device timing."""
    return 60.0 if rig.simulated else 600.0


@pytest.fixture
def application(rig: Rig) -> ApplicationFor:
    """``application(handle, version)``: the application a destructive test flashes, or a skip saying why not."""

    def make(handle: DeviceHandle, version: int) -> FirmwareModule:
        product_id = rig.product.id if rig.product is not None else 1
        try:
            return parse_module(handle.application(product_id, version))
        except NoFirmwareError as exc:
            pytest.skip(str(exc))

    return make
