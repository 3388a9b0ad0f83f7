"""The packages' import directions: hardware and cloud_client stand alone, and station's records never reach up."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    "hardware": ("station", "cloud_client"),
    "cloud_client": ("station", "hardware"),
    "station/records": ("station.trays", "station.workflow", "station.ui", "station.commands", "station.demo",
                        "station.product"),
}
"""Folder -> module prefixes no file below it may import (at module level or inside a function)."""


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_a_package_imports_only_what_is_below_it(folder: str) -> None:
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / folder).rglob("*.py"))
        for name in sorted(_imports(path))
        if any(name == prefix or name.startswith(prefix + ".") for prefix in FORBIDDEN[folder])
    ]
    assert wrong == []
