"""One meaning per class name across the shipped packages (hardware, cloud_client, station); the simulator's own
copy of the device side is its own namespace."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("hardware", "cloud_client", "station")

SIMULATOR = "hardware/simulated/"
"""The simulator stands for the device: it keeps its own copy of the wire facts, named as the specs name them
(DfuState, Credentials, ...), so a twin with one side there is on purpose and not counted."""

KNOWN_TWINS = {
    # The emulator's server-side state next to the client's models of the same API records.
    "ClaimCode", "Product", "Sim", "ImportReport",
}
"""Names still defined twice; each is a candidate for a rename, none may gain a third meaning."""


def test_no_new_class_name_means_two_things() -> None:
    places: dict[str, list[str]] = defaultdict(list)
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
                if isinstance(node, ast.ClassDef):
                    where = str(path.relative_to(ROOT))
                    if not where.startswith(SIMULATOR):
                        places[node.name].append(where)
    twice = {name: where for name, where in places.items() if len(where) > 1}
    assert {name: where for name, where in twice.items() if name not in KNOWN_TWINS} == {}
    assert all(len(twice.get(name, ())) <= 2 for name in KNOWN_TWINS)
