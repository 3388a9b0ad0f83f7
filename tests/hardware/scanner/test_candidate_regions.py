"""The edge-density patch search that points libdmtx at places worth its time."""

from __future__ import annotations

from typing import Any

import pytest
from PIL import Image, ImageDraw

from hardware.scanner.regions import find_candidates


def _contains(box: tuple[int, int, int, int], x: float, y: float) -> bool:
    return box[0] <= x < box[2] and box[1] <= y < box[3]


def test_the_densest_patch_of_a_frame_holds_its_label(fixture_images: dict[str, Any]) -> None:
    image = fixture_images["small_in_frame_p2.png"]
    x, y, _ = image.positions[0]

    candidates = find_candidates(image.open())

    assert _contains(candidates[0].box, x, y)


def test_every_label_of_a_tray_lies_in_one_of_its_patches(fixture_images: dict[str, Any]) -> None:
    tray = fixture_images["tray_five_labels_and_sim.png"]

    boxes = [candidate.box for candidate in find_candidates(tray.open())]

    assert all(any(_contains(box, x, y) for box in boxes) for x, y, _ in tray.positions)


def test_long_straight_edges_make_patches_only_where_they_corner_or_cross() -> None:
    frame = Image.new("L", (640, 360), 150)
    draw = ImageDraw.Draw(frame)
    draw.rectangle((40, 40, 600, 320), outline=20, width=4)
    draw.line((0, 180, 640, 180), fill=250, width=3)
    corners = [(40, 40), (600, 40), (600, 320), (40, 320), (40, 180), (600, 180)]

    boxes = [candidate.box for candidate in find_candidates(frame)]

    assert boxes
    assert all(any(_contains(box, x, y) for x, y in corners) for box in boxes)
    assert not any(_contains(box, 320, y) for box in boxes for y in (40, 180, 320))


def test_a_plain_frame_has_no_patch() -> None:
    assert find_candidates(Image.new("L", (1280, 720), 128)) == []


def test_patches_come_densest_first(fixture_images: dict[str, Any]) -> None:
    scores = [candidate.score for candidate in find_candidates(fixture_images["tray_five_labels_and_sim.png"].open())]

    assert scores == sorted(scores, reverse=True)


def test_a_colour_image_is_refused() -> None:
    with pytest.raises(ValueError, match="grayscale"):
        find_candidates(Image.new("RGB", (64, 64)))
