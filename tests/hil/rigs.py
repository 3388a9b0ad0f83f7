"""Rig files for the harness's own tests, written into a temporary folder."""

from __future__ import annotations

from pathlib import Path

from tests.hil.harness.rig import Rig, load_rig

PROJECT = Path(__file__).resolve().parents[2]
SIMULATED_RIG = PROJECT / "fixtures" / "rigs" / "simulated.toml"
EXAMPLE_REAL_RIG = PROJECT / "fixtures" / "rigs" / "example-real.toml"

BORON_ID = "e00fce68aaaaaaaaaaaaaaaa"
P2_ID = "0a10aced2021bbbbbbbbbbbb"

REAL_RIG = f"""\
[rig]
name = "bench-t"

[cloud]
base_url = "https://api.particle.io"
credentials = "env:PARTICLE_HIL_TEST"

[product]
id = 4242
platform = "boron"
sandbox = true

[[devices]]
name = "boron-1"
platform = "boron"
id = "{BORON_ID}"
serial = "B40KAB12345ABCD"
slot = 1

[[devices]]
name = "p2-1"
platform = "p2"
id = "{P2_ID}"
slot = 2
"""

SMALL_SIMULATED_RIG = """\
[rig]
name = "one-boron"
simulated = true

[product]
id = 777
platform = "boron"

[[devices]]
name = "boron-1"
platform = "boron"
seed = "small-rig-boron"
"""


def write_rig(folder: Path, text: str, name: str = "rig.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def rig_from(folder: Path, text: str) -> Rig:
    return load_rig(write_rig(folder, text))
