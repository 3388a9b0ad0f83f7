"""What a user types or pipes into the CLI ends in one sentence on stderr and a non-zero exit, never a traceback
(issue 16, item 8 and the torture run's inputs of item 13)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from station.cli import main

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "profiles" / "boron-line.toml"


def profile_copy(tmp_path: Path, log_folder: Path | str, **replace: str) -> Path:
    """The example profile with its firmware named absolutely, its records in ``log_folder`` and ``replace``d
    lines (``{"rename = ...": "rename = ..."}`` given as old=new keyword pairs are awkward, so a dict of prefixes)."""
    lines = []
    for line in FIXTURE.read_text().splitlines():
        if line.startswith("log_folder"):
            line = f'log_folder = "{log_folder}"'
        elif line.startswith("file = "):
            line = f'file = "{ROOT / "fixtures" / "firmware" / "boron-user.bin"}"'
        for key, value in replace.items():
            if line.startswith(f"{key} = "):
                line = f"{key} = {value}"
        lines.append(line)
    path = tmp_path / "station.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def one_sentence(err: str) -> None:
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert err.strip(), "a refusal says why"


def cli(*args: str, stdin: bytes = b"", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "station.cli", *args], input=stdin, capture_output=True,
                          timeout=120, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


@pytest.mark.parametrize("folder", ["a-file", "a-file/records", "/proc/station-records"])
def test_profile_check_and_run_refuse_a_log_folder_they_cannot_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], folder: str,
) -> None:
    (tmp_path / "a-file").write_text("")
    profile = profile_copy(tmp_path, folder if folder.startswith("/") else tmp_path / folder)
    assert main(["profile", "check", str(profile)]) == 1
    captured = capsys.readouterr()
    assert "OK" not in captured.out.splitlines()
    one_sentence(captured.err)
    assert "log folder" in captured.err
    assert main(["run", "--profile", str(profile), "--headless", "--simulate", "1"]) == 1
    err = capsys.readouterr().err
    one_sentence(err)
    assert "log folder" in err


def test_hash_pin_with_input_closed_says_no_pin_was_typed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    monkeypatch.setattr("getpass.getpass", lambda prompt="": (_ for _ in ()).throw(EOFError))
    assert main(["profile", "hash-pin"]) == 1
    err = capsys.readouterr().err
    one_sentence(err)
    assert "no PIN" in err


@pytest.mark.parametrize("stdin", [b"1234\n", b"1234"])
def test_hash_pin_piped_in_is_read_once(stdin: bytes) -> None:
    done = cli("profile", "hash-pin", stdin=stdin)  # echo 1234 | particle-station profile hash-pin
    assert done.returncode == 0, done.stderr.decode()
    from station.config.profile import verify_pin

    assert verify_pin("1234", done.stdout.decode().strip())


def test_hash_pin_in_a_process_without_a_terminal_and_stdin_closed() -> None:
    done = cli("profile", "hash-pin")
    assert done.returncode == 1
    one_sentence(done.stderr.decode())
    assert "no PIN was typed" in done.stderr.decode()


@pytest.mark.parametrize("count", ["-3", "0", "99999999999", "two"])
def test_demo_refuses_a_number_of_devices_it_cannot_simulate(capsys: pytest.CaptureFixture[str], count: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["demo", f"--devices={count}", "--timing", "zero"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    one_sentence(err)
    assert "--devices" in err


@pytest.mark.parametrize("count", ["-3", "0", "100000"])
def test_run_refuses_a_number_of_simulated_units_out_of_range(capsys: pytest.CaptureFixture[str], count: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["run", "--profile", str(FIXTURE), "--headless", f"--simulate={count}"])
    assert exited.value.code == 2
    assert "--simulate" in capsys.readouterr().err


def a_journal(tmp_path: Path) -> Path:
    """A journal with one lot (and no unit): enough to export."""
    from station.records.journal import Journal

    path = tmp_path / "journal.sqlite3"
    with Journal(path) as journal:
        journal.open_lot("L-1", station="s", product_id=1, profile="p.toml", operator="ann")
    return path


@pytest.mark.parametrize("out", ["/proc/out.xlsx", "a-file/out.xlsx", "/sys/kernel/out.xlsx"])
def test_export_to_a_folder_it_cannot_write_is_one_sentence(tmp_path: Path, out: str) -> None:
    (tmp_path / "a-file").write_text("")
    target = out if out.startswith("/") else str(tmp_path / out)
    done = cli("export", "--lot", "L-1", "--journal", str(a_journal(tmp_path)), "--out", target)
    assert done.returncode == 1
    err = done.stderr.decode()
    one_sentence(err)
    assert "--out" in err


@pytest.mark.parametrize("encoding", ["utf-8:strict", ""])
def test_a_scan_that_is_not_utf8_is_refused_and_the_line_goes_on(tmp_path: Path, encoding: str) -> None:
    profile = profile_copy(tmp_path, tmp_path / "records")
    done = cli("run", "--profile", str(profile), "--headless", "--simulate", "1", "--device-timing", "zero",
               stdin=b"P046\xff\xfeABC\nalso not a label\n", env={"PYTHONIOENCODING": encoding})
    err = done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err
    assert "characters that are not text" in err
    assert "also not a label" in err, "the scan after the bad bytes was read"
    assert "this run:" in err



def test_decode_json_that_finds_no_label_says_so_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "not-an-image.png").write_text("text")
    assert main(["decode", str(tmp_path / "not-an-image.png"), "--json"]) == 1
    captured = capsys.readouterr()
    assert '"all_labelled": false' in captured.out
    assert "1 of 1 image(s) gave no label" in captured.err
