"""Recognising test firmware in a simulated device's flash: the ASCII marker ``PSTEST-FW1`` followed by a JSON
manifest (at least ``name`` and ``version``) somewhere in the user part's body (the fixture protocol,
docs/fixture-protocol.md). The device switches to its test personality when the user part that boots carries it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

TEST_FIRMWARE_MARKER = b"PSTEST-FW1"
MANIFEST_MAX_LENGTH = 1024
"""The manifest is read from at most this many bytes after the marker."""


@dataclass(frozen=True)
class TestFirmwareManifest:
    """What a test firmware says about itself."""

    __test__ = False  # not a pytest test class, despite the name

    name: str
    version: int
    ops: tuple[str, ...] = ()
    """The ops it lists (informative; the simulated firmware answers every op of the protocol)."""


def find_manifest(image: bytes) -> TestFirmwareManifest | None:
    """The manifest of a test firmware image, or None when ``image`` carries no (readable) marker and manifest."""
    at = image.find(TEST_FIRMWARE_MARKER)
    while at >= 0:
        manifest = _parse(image[at + len(TEST_FIRMWARE_MARKER) : at + len(TEST_FIRMWARE_MARKER) + MANIFEST_MAX_LENGTH])
        if manifest is not None:
            return manifest
        at = image.find(TEST_FIRMWARE_MARKER, at + 1)
    return None


def _parse(tail: bytes) -> TestFirmwareManifest | None:
    text = tail.decode("latin-1")
    try:
        value, _ = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(value, dict):
        return None
    fields: dict[str, Any] = value
    name, version = fields.get("name"), fields.get("version")
    if not isinstance(name, str) or not name or not isinstance(version, int) or isinstance(version, bool):
        return None
    ops = fields.get("ops", [])
    listed = tuple(op for op in ops if isinstance(op, str)) if isinstance(ops, list) else ()
    return TestFirmwareManifest(name, version, listed)
