"""Where the no-display demo keeps a run's profile, journal and workbook: a new dated folder per run under the
user's cache folder, of which only the latest few are kept (the demo prints its workbook's path, so a folder that
outlives the run is useful; one that piles up is not)."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

KEPT_DEMO_RUNS = 5
"""Demo run folders kept, the new one included; older ones are removed when a demo starts."""
_RUN_NAME = re.compile(r"\d{8}-\d{6}(-\d+)?")


def demo_runs_folder() -> Path:
    """``<user cache>/particle-station/demo`` (e.g. ~/.cache/particle-station/demo on Linux)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("particle-station")) / "demo"


def new_demo_run_folder(base: Path, *, keep: int = KEPT_DEMO_RUNS, now: float | None = None) -> Path:
    """A new empty folder under ``base`` named for the time (``20261207-064512``), after removing all but the
    ``keep - 1`` latest earlier runs. Only folders named like runs are touched: anything else in ``base`` stays."""
    base.mkdir(parents=True, exist_ok=True)
    runs = sorted((p for p in base.iterdir() if p.is_dir() and _RUN_NAME.fullmatch(p.name)), key=_run_order)
    for old in runs[: max(len(runs) - (keep - 1), 0)]:
        shutil.rmtree(old, ignore_errors=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    folder, number = base / stamp, 1
    while True:
        try:
            folder.mkdir()
            return folder
        except FileExistsError:  # two demos in the same second
            number += 1
            folder = base / f"{stamp}-{number}"


def _run_order(path: Path) -> tuple[str, int]:
    """Oldest first: by the time in the name, then by the number a second run in the same second got."""
    return path.name[:15], int(path.name[16:] or 1)
