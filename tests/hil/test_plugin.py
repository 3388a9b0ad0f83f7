"""The pytest plugin end to end, in a separate pytest process: its refusals, skips and option checks as a person
running the HIL suite sees them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from .rigs import PROJECT, REAL_RIG, SMALL_SIMULATED_RIG, write_rig

pytestmark = pytest.mark.hil

STRANGER_CONFTEST = '''
import pytest
from hardware.simulated import SimulatedDevice
from tests.hil.harness.bench import open_bench

@pytest.fixture
def rig_bench(rig):
    bench = open_bench(rig)
    bench.backend.add(SimulatedDevice("boron", seed="stranger"))  # a device someone left on the hub
    yield bench
    bench.close()
'''

SUITE = '''
import pytest

pytestmark = pytest.mark.hil

@pytest.mark.destructive
def test_erases(rig_device, tmp_path_factory):
    (tmp_path_factory.getbasetemp().parent / "erased").write_text("the destructive body ran")

@pytest.mark.cloud
def test_talks_to_the_real_cloud():
    pass

def test_lists_the_bus(rig_bench):
    assert rig_bench.list_devices()
'''


@dataclass
class Run:
    code: int
    output: str


def _pytest(folder: Path, *args: str) -> Run:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.hil.harness.plugin", "-p", "no:cacheprovider", "-rA",
         "--basetemp", str(folder / "tmp"), *args],
        cwd=folder, capture_output=True, text=True, timeout=120,
        # The harness lives beside the tests (tests/hil/harness), so the project root must be importable there.
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT), os.environ.get("PYTHONPATH")]))},
    )
    return Run(done.returncode, done.stdout + done.stderr)


@pytest.fixture(scope="module")
def stranger_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Path]:
    folder = tmp_path_factory.mktemp("plugin")
    (folder / "conftest.py").write_text(STRANGER_CONFTEST, encoding="utf-8")
    (folder / "test_suite.py").write_text(SUITE, encoding="utf-8")
    rig = write_rig(folder, SMALL_SIMULATED_RIG)
    return _pytest(folder, "--rig", str(rig), "test_suite.py"), folder


def test_destructive_test_next_to_a_device_not_in_the_rig_fails_loudly(stranger_run: tuple[Run, Path]) -> None:
    run, _ = stranger_run
    assert "ERROR test_suite.py::test_erases[boron-1] - Failed: REFUSED destructive test" in run.output
    assert "During handling" not in run.output
    assert "is on USB but not in simulated rig 'one-boron'" in run.output


def test_refused_destructive_test_body_never_runs(stranger_run: tuple[Run, Path]) -> None:
    _, folder = stranger_run
    assert not (folder / "erased").exists()


def test_cloud_test_is_skipped_without_allow_cloud_saying_why(stranger_run: tuple[Run, Path]) -> None:
    run, _ = stranger_run
    assert re.search(r"SKIPPED \[1\] test_suite.py:\d+: touches the real Particle cloud; run with --allow-cloud",
                     run.output)


def test_non_destructive_test_runs_next_to_a_stranger(stranger_run: tuple[Run, Path]) -> None:
    run, _ = stranger_run
    assert "PASSED test_suite.py::test_lists_the_bus" in run.output


def test_broken_rig_file_stops_the_run_naming_the_key(tmp_path: Path) -> None:
    rig = write_rig(tmp_path, REAL_RIG.replace('platform = "p2"', 'platform = "toaster"'))
    run = _pytest(tmp_path, "--rig", str(rig), str(PROJECT / "tests" / "hil" / "test_enumerate.py"))
    assert run.code == pytest.ExitCode.USAGE_ERROR
    assert "--rig:" in run.output and "line 22: devices[2].platform:" in run.output


def test_allow_cloud_with_a_product_not_marked_sandbox_stops_the_run(tmp_path: Path) -> None:
    rig = write_rig(tmp_path, REAL_RIG.replace("sandbox = true", "sandbox = false"))
    run = _pytest(tmp_path, "--rig", str(rig), "--allow-cloud", str(PROJECT / "tests" / "hil" / "test_enumerate.py"))
    assert run.code == pytest.ExitCode.USAGE_ERROR
    assert "--allow-cloud refused" in run.output and "without sandbox = true" in run.output
