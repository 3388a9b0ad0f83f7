"""``particle-station demo --line N``: simulated stations feed a throwaway PostgreSQL and the dashboard shows them."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from hardware.simulated import Timing
from hardware.usb.timing import HostTiming
from station.cli import build_parser
from station.commands.demo import line_station
from station.line.dashboard.line_demo import run_line_demo
from station.line.throwaway_pg import postgres_installed

pytestmark = pytest.mark.skipif(not postgres_installed(),
                                reason="PostgreSQL is not installed: apt-get install postgresql")


def test_two_stations_feed_the_line_and_the_dashboard_shows_both(tmp_path: Path) -> None:
    urls: list[str] = []
    stop = threading.Event()
    seen: dict[str, Any] = {}

    def watch() -> None:
        deadline = time.monotonic() + 240
        while not stop.is_set() and time.monotonic() < deadline:
            if urls:
                with urllib.request.urlopen(urls[0] + "api/figures", timeout=30) as response:
                    data = json.load(response)
                tested = {s["station"]: s["tested"] for s in data.get("stations", [])}
                if len(tested) == 2 and all(count >= 2 for count in tested.values()):
                    seen.update(data)
                    break
            time.sleep(0.5)
        stop.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    code = run_line_demo(2, tmp_path, open_station=line_station, port=0, until=stop,
                         announce=lambda text: urls.extend(w for w in text.split() if w.startswith("http://")),
                         devices=2, slots=2, timing=Timing.zero(), host_timing=HostTiming.fast(),
                         connect_delay=None, steps='pre_add = true\nsim_activation = "off"\n')
    watcher.join(timeout=30)
    assert code == 0 and urls[0].startswith("http://127.0.0.1:")
    assert [s["station"] for s in seen["stations"]] == ["bench-1", "bench-2"]
    (lot,) = seen["lots"]
    assert lot["stations"] == ["bench-1", "bench-2"] and lot["lot"].startswith("LINE-DEMO-")
    assert seen["api"]["used"] > 0  # the stations' pre-add requests, counted on the line


@pytest.mark.parametrize("given", ["0", "9", "three"])
def test_line_option_takes_a_station_count(given: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(["demo", "--line", given])
    assert caught.value.code == 2
    assert "--line" in capsys.readouterr().err
