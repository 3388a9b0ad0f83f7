"""The mutation check: the simulated devices keep their own copy of every wire fact, so changing ONE number in the
host code (hardware/usb, hardware/serial, hardware/firmware, hardware/platforms) makes the host's tests against the
simulator fail. Were the two sides to share a constant, the mutant would pass.

Each mutant runs in its own copy of the project (a temporary directory holding hardware/, pyproject.toml and the
focused test directories with their conftest files): one textual change to one host file, then a focused pytest subset
in a subprocess, which must fail with test failures (exit code 1, not a collection error). The unmutated copy must
pass the union of those subsets, so a failure is the mutant's doing. Two runs at a time: about a minute on 2 cores.
"""

from __future__ import annotations

import compileall
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
COPIED = ("hardware", "pyproject.toml", "tests/conftest.py", "tests/hardware/usb", "tests/hardware/serial")
RUN_TIMEOUT_S = 180.0
WORKERS = 2

USB_DFU = "tests/hardware/usb/test_usb_dfu.py"
USB_REQUESTS = "tests/hardware/usb/test_usb_requests.py"
USB_CONTROL = "tests/hardware/usb/test_usb_control.py"
USB_DISCOVERY = "tests/hardware/usb/test_usb_discovery.py"
USB_FLASHING = "tests/hardware/usb/test_usb_flashing.py"
USB_PROTECTION = "tests/hardware/usb/test_protection.py"
SERIAL_YMODEM = "tests/hardware/serial/test_serial_ymodem.py"
SERIAL_CONSOLE = "tests/hardware/serial/test_serial_console.py"


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    old: str
    """Text that occurs exactly once in ``path``."""
    new: str
    tests: tuple[str, ...]


MUTANTS = (
    Mutant(
        "control request GET_PROTECTED_STATE 76 -> 78",
        "hardware/usb/protocol.py",
        "    GET_PROTECTED_STATE = 76\n",
        "    GET_PROTECTED_STATE = 78\n",
        (USB_PROTECTION,),
    ),
    Mutant(
        "result KEY_MISMATCH -1802 -> -1812",
        "hardware/usb/protocol.py",
        "    KEY_MISMATCH = -1802\n",
        "    KEY_MISMATCH = -1812\n",
        (USB_PROTECTION,),
    ),
    Mutant(
        "DfuSe command CLEAR_SECURITY_OVERRIDE 0xFB -> 0xFC",
        "hardware/usb/protocol.py",
        "    CLEAR_SECURITY_OVERRIDE = 0xFB\n",
        "    CLEAR_SECURITY_OVERRIDE = 0xFC\n",
        (USB_PROTECTION,),
    ),
    Mutant(
        "DFU device-state string 0xFA -> 0xFC",
        "hardware/usb/protection.py",
        "DEVICE_STATE_STRING_INDEX = 0xFA\n",
        "DEVICE_STATE_STRING_INDEX = 0xFC\n",
        (USB_PROTECTION,),
    ),
    Mutant(
        "SetProtectedStateRequest.prepare field 2 -> 4",
        "hardware/usb/protobuf.py",
        "    ACTION = 1\n    PREPARE = 2\n",
        "    ACTION = 1\n    PREPARE = 4\n",
        (USB_PROTECTION,),
    ),
    Mutant("DFU request DNLOAD 1 -> 7", "hardware/usb/protocol.py", "    DNLOAD = 1\n", "    DNLOAD = 7\n", (USB_DFU,)),
    Mutant(
        "DFU state dfuDNLOAD_IDLE 5 -> 12",
        "hardware/usb/protocol.py",
        "    DFU_DNLOAD_IDLE = 5\n",
        "    DFU_DNLOAD_IDLE = 12\n",
        (USB_DFU,),
    ),
    Mutant(
        "DfuSe command SET_ADDRESS 0x21 -> 0x23",
        "hardware/usb/protocol.py",
        "    SET_ADDRESS = 0x21\n",
        "    SET_ADDRESS = 0x23\n",
        (USB_DFU,),
    ),
    Mutant(
        "DfuSe command ERASE 0x41 -> 0x42",
        "hardware/usb/protocol.py",
        "    ERASE = 0x41\n",
        "    ERASE = 0x42\n",
        (USB_DFU,),
    ),
    Mutant(
        "control request type DEVICE_ID 20 -> 22",
        "hardware/usb/protocol.py",
        "    ECHO = 1\n    DEVICE_ID = 20\n",
        "    ECHO = 1\n    DEVICE_ID = 22\n",
        (USB_REQUESTS,),
    ),
    Mutant(
        "raw vendor request SYSTEM_VERSION wIndex 30 -> 31",
        "hardware/usb/protocol.py",
        "    DEVICE_ID = 20\n    SYSTEM_VERSION = 30\n    RESET = 40\n",
        "    DEVICE_ID = 20\n    SYSTEM_VERSION = 31\n    RESET = 40\n",
        (USB_REQUESTS,),
    ),
    Mutant(
        "result code NOT_SUPPORTED -120 -> -121",
        "hardware/usb/protocol.py",
        "    NOT_SUPPORTED = -120\n",
        "    NOT_SUPPORTED = -121\n",
        (USB_CONTROL,),
    ),
    Mutant(
        "control framing service CHECK 2 -> 6",
        "hardware/usb/protocol.py",
        "    CHECK = 2\n",
        "    CHECK = 6\n",
        (USB_CONTROL,),
    ),
    Mutant(
        "protobuf FirmwareModule.version field 3 -> 13 (decoded by the host)",
        "hardware/usb/protobuf.py",
        "    INDEX = 2\n    VERSION = 3\n    STORE = 4\n",
        "    INDEX = 2\n    VERSION = 13\n    STORE = 4\n",
        (USB_REQUESTS,),
    ),
    Mutant(
        "protobuf StartFirmwareUpdateRequest.size field 1 -> 3 (encoded by the host)",
        "hardware/usb/protobuf.py",
        "class StartFirmwareUpdateRequest:\n    SIZE = 1\n",
        "class StartFirmwareUpdateRequest:\n    SIZE = 3\n",
        (USB_REQUESTS,),
    ),
    Mutant(
        "USB vendor id 0x2B04 -> 0x2B05",
        "hardware/platforms.py",
        "PARTICLE_VENDOR_ID = 0x2B04\n",
        "PARTICLE_VENDOR_ID = 0x2B05\n",
        (USB_DISCOVERY,),
    ),
    Mutant(
        "platform id of boron 13 -> 99",
        "hardware/platforms.py",
        '_p(13, "boron",',
        '_p(99, "boron",',
        (USB_DISCOVERY,),
    ),
    Mutant(
        "module function USER_PART 5 -> 10",
        "hardware/firmware/format.py",
        "    USER_PART = 5\n",
        "    USER_PART = 10\n",
        (USB_FLASHING,),
    ),
    Mutant(
        "serial console key IDENTIFY 'i' -> 'I'",
        "hardware/serial/protocol.py",
        '    IDENTIFY = "i"\n',
        '    IDENTIFY = "I"\n',
        (SERIAL_CONSOLE,),
    ),
    Mutant(
        "serial console reply layout 'system firmware version: ' -> 'system firmware version '",
        "hardware/serial/protocol.py",
        'VERSION_REPLY_PREFIX = "system firmware version: "',
        'VERSION_REPLY_PREFIX = "system firmware version "',
        (SERIAL_CONSOLE,),
    ),
    Mutant(
        "YMODEM CRC-16 initial value 0 -> 0xFFFF",
        "hardware/serial/ymodem.py",
        "binascii.crc_hqx(data, 0)",
        "binascii.crc_hqx(data, 0xFFFF)",
        (SERIAL_YMODEM,),
    ),
    Mutant(
        "YMODEM ACK 0x06 -> 0x07",
        "hardware/serial/protocol.py",
        "    ACK = 0x06\n",
        "    ACK = 0x07\n",
        (SERIAL_YMODEM,),
    ),
)


@dataclass(frozen=True)
class Run:
    returncode: int
    output: str

    @property
    def summary(self) -> str:
        lines = [line for line in self.output.strip().splitlines() if line.strip()]
        return lines[-1] if lines else "(no output)"


def _copy_project(destination: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", Path(__file__).name)
    for item in COPIED:
        source, target = ROOT / item, destination / item
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=ignore)
        else:
            shutil.copy2(source, target)


def _mutate(tree: Path, mutant: Mutant) -> None:
    path = tree / mutant.path
    text = path.read_text(encoding="utf-8")
    assert text.count(mutant.old) == 1, f"{mutant.name}: {mutant.old!r} is not exactly once in {mutant.path}"
    path.write_text(text.replace(mutant.old, mutant.new), encoding="utf-8")


def _pytest(tree: Path, tests: tuple[str, ...]) -> Run:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "COV_"))}
    env |= {"PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1", "QT_QPA_PLATFORM": "offscreen"}
    # The subsets use neither Hypothesis nor the HIL rig plugin (tests.hil.harness.plugin, named by the root conftest);
    # not loading them saves about two seconds per run, and station/ need not be copied.
    plugins = ["-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:tests.hil.harness.plugin"]
    command = [sys.executable, "-m", "pytest", *tests, "-x", "-q", *plugins]
    try:
        done = subprocess.run(
            command, cwd=tree, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        return Run(-1, f"timed out after {RUN_TIMEOUT_S} s\n{exc.stdout or ''}")
    return Run(done.returncode, done.stdout + done.stderr)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run]]:
    """The pristine copy's run of every subset, then each mutant's run, two at a time."""
    base = tmp_path_factory.mktemp("wire-mutations")
    pristine = base / "pristine"
    _copy_project(pristine)
    # Byte-compile once: the copies keep the sources' timestamps, so only a mutated module is compiled again.
    compileall.compile_dir(pristine, quiet=1, workers=WORKERS)
    subsets = tuple(dict.fromkeys(test for mutant in MUTANTS for test in mutant.tests))

    def run_mutant(index: int, mutant: Mutant) -> Run:
        tree = base / f"mutant-{index}"
        shutil.copytree(pristine, tree)
        _mutate(tree, mutant)
        return _pytest(tree, mutant.tests)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        baseline = pool.submit(_pytest, pristine, subsets)
        mutants = {m.name: pool.submit(run_mutant, i, m) for i, m in enumerate(MUTANTS)}
        results = {name: future.result() for name, future in mutants.items()}
        results[""] = baseline.result()
    yield results
    shutil.rmtree(base, ignore_errors=True)


def test_the_unmutated_copy_passes_every_subset(runs: dict[str, Run]) -> None:
    run = runs[""]
    assert run.returncode == 0, f"the unmutated copy fails, so no mutant result means anything:\n{run.output[-3000:]}"
    assert re.search(r"\d+ passed", run.summary), run.summary


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_the_host_tests_catch_the_mutant(runs: dict[str, Run], mutant: Mutant) -> None:
    run = runs[mutant.name]
    assert "error during collection" not in run.output and "ERROR collecting" not in run.output, (
        f"{mutant.name}: the subset did not even collect:\n{run.output[-3000:]}"
    )
    assert run.returncode == 1, f"{mutant.name} was NOT caught (exit {run.returncode}): {run.summary}"
    assert re.search(r"\d+ (failed|error)", run.summary), run.summary
