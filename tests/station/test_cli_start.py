"""The command line starts at once: building the parser imports none of the heavy packages; ``--version``; and a
missing system library (libdmtx) breaks only the command that needs it, in one line. Each check runs in a fresh
interpreter, since this test process has long imported everything."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from station import cli
from station.commands.decode import DEFAULT_TIME_BUDGET_HELP
from station.commands.hil import DEFAULT_RULES_DIR_HELP

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("openpyxl", "pylibdmtx", "aiohttp", "httpx", "numpy", "PySide6")
FIRMWARE = ROOT / "fixtures" / "firmware" / "boron-user.bin"
LABEL_IMAGE = ROOT / "fixtures" / "labels" / "clean_p2.png"

MISSING_LIBDMTX = """
import sys

class MissingLibdmtx:
    '''pylibdmtx as it fails on a PC without libdmtx.so (its wrapper raises ImportError on import).'''

    def find_spec(self, name, path=None, target=None):
        if name == "pylibdmtx" or name.startswith("pylibdmtx."):
            raise ImportError("Unable to find dmtx shared library")
        return None

sys.meta_path.insert(0, MissingLibdmtx())
"""

RUN_CLI = """
import sys
from station.cli import main
sys.exit(main(sys.argv[1:]))
"""

HEAVY_AT_EXIT = f"""
import atexit, sys
atexit.register(lambda: print("heavy:", sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr))
"""


def python(code: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = dict(os.environ if env is None else env)
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environ.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=environ, capture_output=True,
                          text=True, timeout=120)


def test_building_the_parser_imports_none_of_the_heavy_packages() -> None:
    done = python(
        "import sys\n"
        "from station.cli import build_parser\n"
        "build_parser()\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("argv", [["--help"], ["firmware", "inspect", "--help"], ["decode", "--help"],
                                  ["demo", "--help"], ["run", "--help"], ["tray", "import", "--help"]])
def test_help_imports_none_of_the_heavy_packages(argv: list[str]) -> None:
    done = python(HEAVY_AT_EXIT + RUN_CLI, *argv)
    assert done.returncode == 0, done.stderr
    assert "usage: particle-station" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "heavy: []"


def test_version_prints_the_package_version() -> None:
    done = python(RUN_CLI, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"particle-station {metadata.version('particle-station')}\n"


def test_version_falls_back_to_pyproject_when_the_package_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_installed(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    with (ROOT / "pyproject.toml").open("rb") as file:
        expected = tomllib.load(file)["project"]["version"]
    assert cli.station_version() == expected


def test_help_texts_state_the_real_defaults() -> None:
    from hardware.scanner.datamatrix import STILL_TIME_BUDGET
    from station.host_setup.udev import RULES_DIR

    assert DEFAULT_TIME_BUDGET_HELP.startswith(f"{STILL_TIME_BUDGET:g} s")
    assert Path(DEFAULT_RULES_DIR_HELP) == RULES_DIR


def test_cloud_client_loads_the_http_client_only_when_asked() -> None:
    done = python(
        "import sys\n"
        "import cloud_client.errors\n"
        "print('httpx' in sys.modules)\n"
        "from cloud_client import Credentials, ParticleCloud\n"
        "print('httpx' in sys.modules, ParticleCloud.__module__, Credentials.__module__)\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True", "cloud_client.client", "cloud_client.credentials"]


def test_without_libdmtx_other_commands_still_work() -> None:
    inspect = python(MISSING_LIBDMTX + RUN_CLI, "firmware", "inspect", str(FIRMWARE))
    assert inspect.returncode == 0, inspect.stderr
    assert "OK: complete" in inspect.stdout
    helped = python(MISSING_LIBDMTX + RUN_CLI, "--help")
    assert helped.returncode == 0 and "decode" in helped.stdout, helped.stderr


def test_without_libdmtx_decode_says_what_to_install_in_one_line() -> None:
    done = python(MISSING_LIBDMTX + RUN_CLI, "decode", str(LABEL_IMAGE))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        "particle-station: error: label decoding needs the libdmtx library: sudo apt-get install libdmtx0b\n"
    )


def test_the_line_and_its_workbook_writer_load_without_openpyxl() -> None:
    # openpyxl (with numpy) costs a third of a second: the window must not wait for it, only the first workbook does.
    code = (
        "import sys\n"
        "import station.workflow.line, station.records.sheet_writer, station.trays.reconcile\n"
        "print(sorted(m for m in ('openpyxl', 'numpy') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
