"""The no-display demo's run folders: a new one per run, the last few kept, nothing else in the folder touched."""

from __future__ import annotations

from pathlib import Path

from station.demo.run_folder import KEPT_DEMO_RUNS, new_demo_run_folder


def test_each_run_gets_a_new_folder_and_only_the_last_few_are_kept(tmp_path: Path) -> None:
    base = tmp_path / "demo"
    made = []
    for n in range(KEPT_DEMO_RUNS + 3):
        folder = new_demo_run_folder(base, now=1_800_000_000 + 60 * n)
        (folder / "lot.xlsx").write_text("workbook")
        made.append(folder)
    assert sorted(p.name for p in base.iterdir()) == sorted(p.name for p in made[-KEPT_DEMO_RUNS:])
    assert (made[-1] / "lot.xlsx").exists()


def test_two_runs_in_the_same_second_get_two_folders(tmp_path: Path) -> None:
    first = new_demo_run_folder(tmp_path, now=1_800_000_000)
    second = new_demo_run_folder(tmp_path, now=1_800_000_000)
    assert first != second and first.is_dir() and second.is_dir()
    third = new_demo_run_folder(tmp_path, now=1_800_000_000)
    assert third.name == first.name + "-3"


def test_what_is_not_a_run_folder_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "20260101-000000.txt").write_text("not a folder")
    for n in range(KEPT_DEMO_RUNS + 2):
        new_demo_run_folder(tmp_path, now=1_800_000_000 + n)
    assert (tmp_path / "notes").is_dir() and (tmp_path / "20260101-000000.txt").exists()
