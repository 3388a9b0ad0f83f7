"""Decoding data-matrix labels from images: every fixture kind, rejections, positions, inputs and the fast path."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy
import pytest
from PIL import Image
from pylibdmtx import pylibdmtx

from hardware.errors import HardwareError
from hardware.identifiers import LabelScan
from hardware.scanner.datamatrix import (
    NO_LABEL_FOUND,
    DecodeStage,
    FoundLabel,
    LabelDecoder,
    LabelImageError,
    RejectedCode,
    decode_labels,
    load_gray,
)

# Decode budgets small enough that a miss fails fast; the fixtures decode in a few milliseconds each.
BUDGET = 1.0


def _assert_near(code: FoundLabel | RejectedCode, at: list[float] | None) -> None:
    assert at is not None
    x, y, angle = at
    assert math.hypot(code.position.x - x, code.position.y - y) < 3
    assert abs((code.position.angle - angle + 180) % 360 - 180) < 3


def test_every_single_label_kind_decodes_to_its_serial_and_secret(single_label_image: Any) -> None:
    result = decode_labels(single_label_image.path, time_budget=BUDGET)

    assert [(code.label.serial.value, code.label.mobile_secret and code.label.mobile_secret.value)
            for code in result.labels] == list(single_label_image.labels)
    assert result.rejections == ()


def test_a_label_is_found_where_it_is_printed_and_at_its_rotation(positioned_image: Any) -> None:
    result = decode_labels(positioned_image.path, time_budget=BUDGET)

    _assert_near(result.codes[0], positioned_image.positions[0])


def test_gen2_label_carries_a_serial_without_mobile_secret(fixture_images: dict[str, Any]) -> None:
    (found,) = decode_labels(fixture_images["gen2_e310_serial_only.png"].path, time_budget=BUDGET).labels

    assert found.label.serial.sku_prefix == "E31T"
    assert found.label.mobile_secret is None


def test_a_code_that_is_not_a_particle_label_is_rejected_with_the_reason(rejected_image: Any) -> None:
    result = decode_labels(rejected_image.path, time_budget=BUDGET)

    (rejected,) = result.codes
    assert isinstance(rejected, RejectedCode)
    assert rejected.reason.startswith("not a Particle label") or "is not a Particle label" in rejected.reason
    assert rejected_image.rejections[0][1] in rejected.reason
    assert result.labels == ()


def test_a_rejection_reason_never_shows_the_mobile_secret(fixture_images: dict[str, Any]) -> None:
    image = fixture_images["short_secret_p2.png"]
    secret = image.rejections[0][0].split(" ")[1]

    (rejected,) = decode_labels(image.path, time_budget=BUDGET).rejections

    assert secret[:6] not in rejected.reason
    assert secret[:6] not in repr(rejected)


def test_every_label_in_a_tray_photo_is_returned_with_the_sim_label_rejected(
    fixture_images: dict[str, Any],
) -> None:
    tray = fixture_images["tray_five_labels_and_sim.png"]

    result = decode_labels(tray.path, time_budget=BUDGET)

    assert sorted(code.label.serial.value for code in result.labels) == sorted(s for s, _ in tray.labels)
    (sim,) = result.rejections
    assert "ICCID" in sim.reason
    for code in result.codes:
        assert any(math.hypot(code.position.x - at[0], code.position.y - at[1]) < 3 for at in tray.positions)


def test_an_image_without_a_code_says_no_label_found(fixture_images: dict[str, Any]) -> None:
    result = decode_labels(fixture_images["blank_tray.png"].path, time_budget=0.2)

    assert result.nothing_found
    assert result.stage is DecodeStage.NONE
    assert result.message.startswith(NO_LABEL_FOUND)


def test_the_time_budget_bounds_a_fruitless_search_and_says_it_gave_up(fixture_images: dict[str, Any]) -> None:
    # The whole-frame libdmtx search of this busy picture takes over ten seconds without a budget.
    result = decode_labels(fixture_images["blank_tray.png"].path, time_budget=0.15)

    assert result.elapsed < 0.6
    assert result.cut_short
    assert "gave up after" in result.message


def test_a_search_that_finished_within_its_budget_is_not_cut_short(fixture_images: dict[str, Any]) -> None:
    result = decode_labels(fixture_images["tray_five_labels_and_sim.png"].path, time_budget=30.0)

    assert not result.cut_short


def test_a_pillow_image_a_numpy_array_and_a_path_give_the_same_label(
    fixture_images: dict[str, Any],
) -> None:
    image = fixture_images["rotated_b402.png"]
    picture = image.open().convert("RGB")

    from_path = decode_labels(image.path, time_budget=BUDGET).labels
    from_pillow = decode_labels(picture, time_budget=BUDGET).labels
    from_array = decode_labels(numpy.asarray(picture), time_budget=BUDGET).labels

    assert from_path == from_pillow == from_array
    assert len(from_path) == 1


def test_a_path_given_as_text_is_read(fixture_images: dict[str, Any]) -> None:
    image = fixture_images["clean_p2.png"]

    (found,) = decode_labels(str(image.path), time_budget=BUDGET).labels

    assert found.label.serial.value == image.labels[0][0]


def test_transparent_background_counts_as_white(fixture_images: dict[str, Any]) -> None:
    image = fixture_images["clean_p2.png"]
    gray = image.open()
    rgba = Image.new("RGBA", gray.size, (0, 0, 0, 0))
    rgba.paste(Image.merge("RGBA", [gray, gray, gray, gray.point(lambda v: 255 - v)]), (0, 0))

    (found,) = decode_labels(rgba, time_budget=BUDGET).labels

    assert found.label.serial.value == image.labels[0][0]


def test_a_missing_file_raises_a_hardware_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.png"

    with pytest.raises(LabelImageError, match="nowhere.png does not exist") as caught:
        decode_labels(missing)

    assert isinstance(caught.value, HardwareError)


def test_a_file_that_is_not_an_image_raises_a_clear_error(tmp_path: Path) -> None:
    text = tmp_path / "label.png"
    text.write_text("not really a PNG")

    with pytest.raises(LabelImageError, match="not an image Pillow can read"):
        decode_labels(text)


def test_an_unsupported_input_type_raises_a_clear_error() -> None:
    with pytest.raises(LabelImageError, match="pass a Pillow image, a numpy array or a file path"):
        load_gray(42)  # type: ignore[arg-type]


def test_the_decoder_searches_the_last_hit_region_first(fixture_images: dict[str, Any]) -> None:
    frame = fixture_images["small_in_frame_p2.png"].open()
    decoder = LabelDecoder(max_labels=1, time_budget=BUDGET)

    first = decoder.decode(frame)
    second = decoder.decode(frame)

    assert first.stage is DecodeStage.CANDIDATES
    assert second.stage is DecodeStage.LAST_REGION
    assert [code.label for code in first.labels] == [code.label for code in second.labels]
    left, top, right, bottom = decoder.last_regions[0]
    assert left < first.codes[0].position.x < right and top < first.codes[0].position.y < bottom


def test_a_label_that_moved_away_from_the_last_region_is_still_found(
    fixture_images: dict[str, Any],
) -> None:
    decoder = LabelDecoder(max_labels=1, time_budget=BUDGET)
    decoder.decode(fixture_images["small_in_frame_p2.png"].open())
    moved = Image.new("L", (1280, 720), 170)
    moved.paste(fixture_images["clean_p2.png"].open(), (60, 60))

    result = decoder.decode(moved)

    assert [code.label.serial.value for code in result.labels] == [fixture_images["clean_p2.png"].labels[0][0]]
    assert result.stage is DecodeStage.CANDIDATES


def test_forget_drops_the_remembered_region(fixture_images: dict[str, Any]) -> None:
    decoder = LabelDecoder(time_budget=BUDGET)
    decoder.decode(fixture_images["clean_p2.png"].path)

    decoder.forget()

    assert decoder.last_regions == ()


def test_a_live_decoder_stops_at_its_label_count(fixture_images: dict[str, Any]) -> None:
    decoder = LabelDecoder(max_labels=2, time_budget=BUDGET)

    result = decoder.decode(fixture_images["tray_five_labels_and_sim.png"].path)

    assert len(result.codes) == 2


def _symbol(payload: bytes) -> Image.Image:
    encoded = pylibdmtx.encode(payload)
    return Image.frombytes("RGB", (encoded.width, encoded.height), encoded.pixels).convert("L")


def test_a_label_filling_the_whole_picture_is_read() -> None:
    symbol = _symbol(b"P046AB423A1B2C3 K7Q2M9X4T1B8Z3R")
    close_up = symbol.resize((symbol.width * 9, symbol.height * 9), Image.Resampling.NEAREST)

    result = decode_labels(close_up, time_budget=BUDGET)

    assert [str(code.label) for code in result.labels] == ["P046AB423A1B2C3 ***"]


def test_the_full_frame_fallback_reads_a_faint_label_the_patch_search_passes_over() -> None:
    # Only the high-contrast speckle counts as an edge-dense patch; the faint label is found by the fallback.
    speckle = Image.frombytes("L", (10, 10), bytes((i * 7919 % 13 > 6) * 255 for i in range(100)))
    frame = Image.new("L", (300, 200), 200)
    frame.paste(speckle.resize((20, 20), Image.Resampling.NEAREST), (20, 20))
    frame.paste(_symbol(b"P046AB423A1B2C3 K7Q2M9X4T1B8Z3R").point(lambda v: 170 + v * 30 // 255), (150, 50))

    result = decode_labels(frame, time_budget=2.0)

    assert [str(code.label) for code in result.labels] == ["P046AB423A1B2C3 ***"]
    assert result.stage is DecodeStage.FULL_FRAME


def test_found_label_repr_never_contains_the_mobile_secret(fixture_images: dict[str, Any]) -> None:
    image = fixture_images["clean_p2.png"]
    secret = image.labels[0][1]
    assert secret is not None

    result = decode_labels(image.path, time_budget=BUDGET)

    assert secret not in repr(result)
    assert secret not in result.message
    assert isinstance(result.labels[0].label, LabelScan)


def test_max_labels_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_labels"):
        LabelDecoder(max_labels=0)
