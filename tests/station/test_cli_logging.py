"""What the CLI prints on the terminal by default is sentences for a user: no raw library log lines (time, level,
logger name), no retry chatter; --verbose shows those."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RAW_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ [\w.]+: ", re.MULTILINE)


def closed_port_url() -> str:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_tray_import_against_an_unreachable_cloud_prints_sentences_not_log_lines(tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(
        f'[station]\nname = "s"\nlog_folder = "{tmp_path / "records"}"\n[product]\nid = 4242\nplatform = "boron"\n'
        f'[firmware]\nfile = "fw.bin"\nsha256 = "{"0" * 64}"\n'
        f'[cloud]\nbase_url = "{closed_port_url()}"\ncredentials = "env:LOGTEST"\n'
    )
    tray = tmp_path / "tray.txt"
    tray.write_text("e00fce68a1b2c3d4e5f60001\n")
    done = subprocess.run([sys.executable, "-m", "station.cli", "tray", "import", str(tray), "--profile", str(profile)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "LOGTEST_ACCESS_TOKEN": "a" * 40})
    assert done.returncode == 1
    assert not RAW_LOG_LINE.search(done.stderr), done.stderr
    assert "retry 1 of" not in done.stderr  # the retries are detail; the last sentence says what happened
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("particle-station: the cloud became unreachable")
