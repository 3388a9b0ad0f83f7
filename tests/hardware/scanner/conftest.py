"""Fixtures for the label-scanning tests: the committed label images (fixtures/labels) and what each one holds."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

LABELS = Path(__file__).resolve().parents[3] / "fixtures" / "labels"


@dataclass(frozen=True)
class LabelImage:
    """One fixture image and the payloads the manifest says it holds."""

    path: Path
    kind: str
    labels: tuple[tuple[str, str | None], ...]
    """(serial, mobile secret or None) per Particle label."""
    rejections: tuple[tuple[str, str], ...]
    """(payload, text the rejection reason must contain) per non-Particle code."""
    positions: tuple[list[float] | None, ...]
    """[x, y, angle] of each label, then of each rejected code; None where the manifest gives none."""

    def open(self) -> Image.Image:
        with Image.open(self.path) as image:
            image.load()
            return image


def _load() -> dict[str, LabelImage]:
    manifest = json.loads((LABELS / "manifest.json").read_text())
    return {
        entry["file"]: LabelImage(
            LABELS / entry["file"],
            entry["kind"],
            tuple((label["serial"], label["mobile_secret"]) for label in entry["labels"]),
            tuple((rejection["payload"], rejection["reason_contains"]) for rejection in entry["rejections"]),
            tuple(code["at"] for code in entry["labels"] + entry["rejections"]),
        )
        for entry in manifest["files"]
    }


LABEL_IMAGES = _load()
SINGLE_LABEL_KINDS = ("clean", "gen2", "rotated", "blurred", "low-contrast", "perspective", "small-in-frame")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run a test once per image of a group: one-label images, non-Particle codes, one-label images with a position."""
    groups = {
        "single_label_image": [image for image in LABEL_IMAGES.values() if image.kind in SINGLE_LABEL_KINDS],
        "rejected_image": [image for image in LABEL_IMAGES.values() if image.kind == "not-particle"],
        "positioned_image": [
            image
            for image in LABEL_IMAGES.values()
            if image.kind in SINGLE_LABEL_KINDS and image.positions and image.positions[0] is not None
        ],
    }
    for name, images in groups.items():
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, images, ids=[image.path.stem for image in images])


@pytest.fixture
def fixture_images() -> dict[str, LabelImage]:
    """Every fixture image by file name."""
    return LABEL_IMAGES


@pytest.fixture
def labels_dir() -> Path:
    return LABELS
