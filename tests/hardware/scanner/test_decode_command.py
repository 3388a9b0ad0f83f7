"""``particle-station decode IMAGE... [--json]``, run through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from station.cli import main

FAST = ["--time-budget", "0.3"]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["decode", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_label_image_prints_its_serial_and_that_a_secret_is_present(
    capsys: pytest.CaptureFixture[str], fixture_images: dict[str, Any]
) -> None:
    image = fixture_images["clean_p2.png"]
    serial, secret = image.labels[0]

    code, out, _ = _run(capsys, str(image.path), *FAST)

    assert code == 0
    assert serial in out and "mobile secret present" in out
    assert secret not in out


def test_a_serial_only_label_says_it_has_no_mobile_secret(
    capsys: pytest.CaptureFixture[str], fixture_images: dict[str, Any]
) -> None:
    code, out, _ = _run(capsys, str(fixture_images["gen2_e310_serial_only.png"].path), *FAST)

    assert code == 0
    assert "no mobile secret" in out


def test_json_gives_serial_secret_presence_and_position_but_never_the_secret(
    capsys: pytest.CaptureFixture[str], fixture_images: dict[str, Any]
) -> None:
    image = fixture_images["rotated_b402.png"]
    serial, secret = image.labels[0]
    x, y, angle = image.positions[0]

    code, out, _ = _run(capsys, str(image.path), "--json", *FAST)

    assert code == 0
    assert secret not in out
    (entry,) = json.loads(out)["images"]
    (label,) = entry["labels"]
    assert label["serial"] == serial and label["has_mobile_secret"] is True
    assert abs(label["position"]["x"] - x) < 3 and abs(label["position"]["y"] - y) < 3
    assert label["position"]["angle"] == round(angle)


def test_every_label_of_a_tray_photo_is_listed(
    capsys: pytest.CaptureFixture[str], fixture_images: dict[str, Any]
) -> None:
    tray = fixture_images["tray_five_labels_and_sim.png"]

    code, out, _ = _run(capsys, str(tray.path), "--json", *FAST)

    (entry,) = json.loads(out)["images"]
    assert code == 0
    assert sorted(label["serial"] for label in entry["labels"]) == sorted(s for s, _ in tray.labels)
    assert ["ICCID" in rejection["reason"] for rejection in entry["rejections"]] == [True]


def test_a_non_particle_code_prints_the_reason_and_exits_1(
    capsys: pytest.CaptureFixture[str], fixture_images: dict[str, Any]
) -> None:
    code, out, _ = _run(capsys, str(fixture_images["iccid_sim_label.png"].path), *FAST)

    assert code == 1
    assert "not a Particle label" in out and "ICCID" in out


def test_an_image_without_a_code_says_no_label_found_and_exits_1(
    capsys: pytest.CaptureFixture[str], fixture_images: dict[str, Any]
) -> None:
    code, out, _ = _run(capsys, str(fixture_images["blank_tray.png"].path), "--time-budget", "0.1")

    assert code == 1
    assert "no label found" in out


def test_exit_is_1_when_any_one_image_lacks_a_label(
    capsys: pytest.CaptureFixture[str], fixture_images: dict[str, Any]
) -> None:
    code, out, _ = _run(
        capsys, str(fixture_images["clean_p2.png"].path), str(fixture_images["url_code.png"].path), *FAST
    )

    assert code == 1
    assert fixture_images["clean_p2.png"].labels[0][0] in out


def test_a_missing_file_is_one_clear_error_line_and_the_others_are_still_read(
    capsys: pytest.CaptureFixture[str], fixture_images: dict[str, Any], tmp_path: Path
) -> None:
    missing = tmp_path / "gone.png"

    code, out, err = _run(capsys, str(missing), str(fixture_images["clean_p2.png"].path), *FAST)

    assert code == 1
    assert err.strip() == f"{missing}: error: label image {missing} does not exist; check the path"
    assert "Traceback" not in err
    assert fixture_images["clean_p2.png"].labels[0][0] in out


def test_an_unreadable_file_is_reported_in_json_with_its_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")

    code, out, _ = _run(capsys, str(broken), "--json", *FAST)

    (entry,) = json.loads(out)["images"]
    assert code == 1
    assert "broken.png" in entry["error"] and entry["labels"] == []
    assert json.loads(out)["all_labelled"] is False


def test_a_time_budget_that_is_not_positive_is_refused(
    capsys: pytest.CaptureFixture[str], fixture_images: dict[str, Any]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["decode", str(fixture_images["clean_p2.png"].path), "--time-budget", "0"])

    assert exited.value.code == 2
    assert "more than 0 seconds" in capsys.readouterr().err
