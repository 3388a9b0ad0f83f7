"""The pytest plugin of the HIL harness: ``--rig PATH`` and ``--allow-cloud``, the hil/destructive/cloud marker rules,
and the fixtures that hand tests a rig's devices, cloud and station line (simulated rig unless ``--rig`` is given).

Loaded by ``pytest_plugins = ["tests.hil.harness.plugin"]`` in tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cloud_client.client import ParticleCloud
from station.workflow.line import Line
from tests.hil.harness.bench import Bench, DeviceHandle, NoFirmwareError, open_bench
from tests.hil.harness.cloud import RigCloudHandle, open_rig_cloud
from tests.hil.harness.line import build_rig_line
from tests.hil.harness.operator import Operator, person_present
from tests.hil.harness.rig import Rig, RigError, load_rig
from tests.hil.harness.safety import (
    ALLOW_CLOUD_OPTION,
    RigSafetyError,
    check_destructive_target,
    cloud_skip_reason,
    require_sandbox_product,
)

DEFAULT_RIG = Path("fixtures") / "rigs" / "simulated.toml"
"""The rig used without ``--rig``, relative to the project root."""

DEVICE_FIXTURES = ("rig_device", "product_device")
"""Fixtures parametrized over the rig's devices (all of them; those of the product's platform)."""

_RIG = pytest.StashKey[Rig]()
_MARKERS = (
    "hil: hardware-in-the-loop test (runs against the simulated rig unless --rig is given)",
    "destructive: erases or flashes a device",
    "cloud: touches a real cloud (only with --allow-cloud)",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hil", "hardware-in-the-loop tests (tests/hil)")
    group.addoption("--rig", metavar="PATH", default=None,
                    help=f"rig description (TOML) to run the HIL tests against; default: {DEFAULT_RIG} (simulated)")
    group.addoption(ALLOW_CLOUD_OPTION, action="store_true", default=False,
                    help="let HIL tests use the real cloud, through the rig's sandbox product only")


def pytest_configure(config: pytest.Config) -> None:
    for marker in _MARKERS:
        config.addinivalue_line("markers", marker)
    path = config.getoption("--rig")
    if path is None:
        return
    try:
        rig = load_rig(path)
    except RigError as exc:
        raise pytest.UsageError(f"--rig: {exc}") from None
    if rig.touches_real_cloud and config.getoption(ALLOW_CLOUD_OPTION):
        try:
            require_sandbox_product(rig)
        except RigSafetyError as exc:
            raise pytest.UsageError(f"{ALLOW_CLOUD_OPTION} refused: {exc}") from None
    config.stash[_RIG] = rig


def pytest_report_header(config: pytest.Config) -> str | None:
    rig = config.stash.get(_RIG, None)
    if rig is None:
        return None
    cloud = "emulator" if not rig.touches_real_cloud else (
        f"{rig.cloud.base_url} ({'allowed' if config.getoption(ALLOW_CLOUD_OPTION) else 'not allowed'})")
    return f"HIL: {rig.describe()}, {len(rig.devices)} device(s), cloud {cloud}"


def configured_rig(config: pytest.Config) -> Rig:
    """The rig of this run: ``--rig``, else the simulated rig of the project (loaded once, when first needed)."""
    rig = config.stash.get(_RIG, None)
    if rig is None:
        try:
            rig = load_rig(config.rootpath / DEFAULT_RIG)
        except RigError as exc:
            raise pytest.UsageError(f"the default simulated rig cannot be used: {exc}") from None
        config.stash[_RIG] = rig
    return rig


def _device_params(rig: Rig, fixture: str) -> list[object]:
    if fixture == "rig_device":
        return [pytest.param(d.name, id=d.name) for d in rig.devices]
    product = rig.product
    if product is None:
        reason = f"{rig.describe()} names no [product]"
        return [pytest.param(None, id="no-product", marks=pytest.mark.skip(reason=reason))]
    names = [d.name for d in rig.devices if d.platform.id == product.platform.id]
    if not names:
        reason = f"{rig.describe()} has no {product.platform.display_name} for its product {product.id}"
        return [pytest.param(None, id="no-product-device", marks=pytest.mark.skip(reason=reason))]
    return [pytest.param(name, id=name) for name in names]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for fixture in DEVICE_FIXTURES:
        if fixture in metafunc.fixturenames:
            rig = configured_rig(metafunc.config)
            metafunc.parametrize(fixture, _device_params(rig, fixture), indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    allow = bool(config.getoption(ALLOW_CLOUD_OPTION))
    real_cloud: bool | None = None
    for item in items:
        uses_cloud = "rig_cloud" in getattr(item, "fixturenames", ())
        if uses_cloud and real_cloud is None:
            real_cloud = configured_rig(config).touches_real_cloud
        if uses_cloud and real_cloud:
            # On a real rig's cloud, every test that provisions through it touches the real cloud.
            item.add_marker(pytest.mark.cloud)
        if item.get_closest_marker("cloud") is not None:
            reason = cloud_skip_reason(touches_real_cloud=True, allow_cloud=allow)
            if reason is not None:
                item.add_marker(pytest.mark.skip(reason=reason))


def _say(config: pytest.Config) -> Callable[[str], None]:
    """Write a line to the terminal past pytest's output capture (prompts for the person at the rig)."""
    capture = config.pluginmanager.getplugin("capturemanager")
    reporter = config.pluginmanager.getplugin("terminalreporter")

    def say(text: str) -> None:
        if capture is None or reporter is None:
            print(text, flush=True)
            return
        with capture.global_and_fixture_disabled():
            reporter.ensure_newline()
            reporter.write_line(text, bold=True)

    return say


# --- fixtures -------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def rig(pytestconfig: pytest.Config) -> Rig:
    """The rig of this run (``--rig``, else the simulated rig)."""
    return configured_rig(pytestconfig)


@pytest.fixture
def rig_operator(rig: Rig, pytestconfig: pytest.Config) -> Operator | None:
    """The person at a real rig, when ``PARTICLE_HIL_PERSON=1`` says one is there; else None."""
    if rig.simulated or not person_present():
        return None
    return Operator(_say(pytestconfig))


@pytest.fixture
def rig_bench(rig: Rig, rig_operator: Operator | None) -> Iterator[Bench]:
    """The rig's devices for one test: fresh simulated devices each time, or the real ones behind libusb."""
    bench = open_bench(rig, operator=rig_operator)
    try:
        yield bench
    finally:
        bench.close()


@pytest.fixture
def rig_devices(rig_bench: Bench) -> dict[str, DeviceHandle]:
    """Every rig device's handle, by the name the rig file gives it."""
    return {handle.name: handle for handle in rig_bench.handles}


@pytest.fixture
def rig_device(request: pytest.FixtureRequest, rig_bench: Bench) -> DeviceHandle:
    """One rig device (the test runs once per device of the rig)."""
    return rig_bench.handle(str(request.param))


@pytest.fixture
def product_device(request: pytest.FixtureRequest, rig_bench: Bench) -> DeviceHandle:
    """One rig device of the product's platform (the test runs once per such device)."""
    return rig_bench.handle(str(request.param))


@pytest.fixture(autouse=True)
def _hil_destructive_guard(request: pytest.FixtureRequest) -> None:
    """Before a destructive HIL test, the bus must hold only rig devices, the target among them: else fail loudly."""
    node = request.node
    if node.get_closest_marker("destructive") is None or node.get_closest_marker("hil") is None:
        return
    bench: Bench = request.getfixturevalue("rig_bench")
    targets = [request.getfixturevalue(name) for name in DEVICE_FIXTURES if name in request.fixturenames]
    found = bench.list_devices()
    refusal: str | None = None
    try:
        for handle in targets or bench.handles:
            check_destructive_target(bench.rig, bench.expected(), found, handle.expected_id)
    except RigSafetyError as exc:
        refusal = f"REFUSED destructive test {node.nodeid}: {exc}"
    if refusal is not None:
        pytest.fail(refusal, pytrace=False)


@pytest.fixture
def rig_cloud(rig_bench: Bench, pytestconfig: pytest.Config) -> Iterator[RigCloudHandle]:
    """The rig's cloud: the emulator seeded with the rig's product and devices, or (with --allow-cloud) the rig's
    sandbox product on the real cloud."""
    allow = bool(pytestconfig.getoption(ALLOW_CLOUD_OPTION))
    refusal: str | None = None
    reason = cloud_skip_reason(touches_real_cloud=rig_bench.rig.touches_real_cloud, allow_cloud=allow)
    if reason is not None:
        pytest.skip(reason)
    try:
        cloud = open_rig_cloud(rig_bench, allow_cloud=allow)
    except RigSafetyError as exc:
        refusal = f"REFUSED: {exc}"
    except LookupError as exc:
        pytest.skip(str(exc))
    if refusal is not None:
        pytest.fail(refusal, pytrace=False)
    try:
        yield cloud
    finally:
        cloud.close()


@pytest.fixture
def rig_line(rig_cloud: RigCloudHandle, tmp_path: Path) -> Iterator[Callable[[DeviceHandle], Line]]:
    """``rig_line(handle)``: a station Line whose one slot takes that rig device, provisioning into the rig's
    product; closed (with its cloud client) at teardown."""
    opened: list[tuple[Line, ParticleCloud]] = []

    def make(handle: DeviceHandle) -> Line:
        client = rig_cloud.client(max_retries=1)
        try:
            line = build_rig_line(tmp_path / f"line-{handle.name}-{len(opened)}", handle, rig_cloud, client,
                                  station=f"HIL {handle.name}")
        except NoFirmwareError as exc:
            client.close()
            pytest.skip(str(exc))
        opened.append((line, client))
        return line

    yield make
    for line, client in reversed(opened):
        line.close()
        client.close()
