"""``particle-station run --headless`` with operator prompts among the tests: fixed answers for simulated units
(``--answer``), and prompts answered on the terminal from the same stdin the labels come from."""

from __future__ import annotations

import hashlib
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from hardware.platforms import by_name
from hardware.simulated import SimulatedDevice
from station.cli import main

from .test_cli_inputs import ROOT, one_sentence, profile_copy

TEST_FIRMWARE = ROOT / "fixtures" / "firmware" / "boron-test.bin"
LED_TEST = f"""
[tests]
firmware = {{ file = "{TEST_FIRMWARE}", sha256 = "{hashlib.sha256(TEST_FIRMWARE.read_bytes()).hexdigest()}" }}

[[tests.test]]
name = "ready"
request = {{ op = "is_ready" }}
timeout_s = 5

[[tests.test]]
name = "led"
prompt = {{ question = "Is the LED green?", kind = "yes_no", timeout_s = 60 }}
"""
SIMULATE = ["--headless", "--device-timing", "zero", "--lot", "LOT-P"]


def profile_with_tests(tmp_path: Path) -> Path:
    profile = profile_copy(tmp_path, tmp_path / "data")
    profile.write_text(profile.read_text() + LED_TEST)
    return profile


def label_of(n: int) -> str:
    return str(SimulatedDevice(by_name("boron"), seed=f"station-{n}").label)  # run --simulate's n-th unit


@pytest.mark.parametrize(("answers", "state"), [([], "PASS"), (["--answer", "no"], "FAIL"),
                                                (["--answer", "none"], "FAIL")])
def test_simulated_units_prompts_get_the_answer_given(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], answers: list[str], state: str) -> None:
    code = main(["run", "--profile", str(profile_with_tests(tmp_path)), *SIMULATE, "--simulate", "1", "--auto-scan",
                 *answers])
    out = capsys.readouterr().out
    assert out.startswith(state), out
    assert code == (0 if state == "PASS" else 1)


def test_answer_needs_simulated_units(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--profile", str(profile_with_tests(tmp_path)), "--headless", "--answer", "yes"]) == 1
    err = capsys.readouterr().err
    one_sentence(err)
    assert "--answer" in err and "--simulate" in err


def test_an_answer_that_is_no_answer_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["run", "--profile", str(profile_with_tests(tmp_path)), *SIMULATE, "--simulate", "1",
              "--answer", "perhaps"])
    assert exited.value.code != 0
    err = capsys.readouterr().err
    assert "'perhaps': give yes, no, none, ask or a number" in err and "Traceback" not in err


class Station:
    """``particle-station run`` in a real subprocess, its stdin a pipe the test types into."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "station.cli", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        self.err_lines: queue.Queue[str] = queue.Queue()
        self.err: list[str] = []
        self._err_reader = threading.Thread(target=self._read_err, daemon=True)
        self._err_reader.start()

    def _read_err(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.err_lines.put(line)

    def type(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def wait_for(self, text: str) -> None:
        """Reads stderr until a line holds ``text`` (a prompt on the terminal)."""
        while True:
            try:
                line = self.err_lines.get(timeout=120)
            except queue.Empty:
                raise AssertionError(f"{text!r} never came; stderr so far: {''.join(self.err)}") from None
            self.err.append(line)
            if text in line:
                return

    def finish(self) -> tuple[int, str]:
        assert self.process.stdin is not None
        self.process.stdin.close()  # the input ends: the run finishes its units and stops
        assert self.process.stdout is not None
        out = self.process.stdout.read()  # stderr is drained by its own thread meanwhile
        code = self.process.wait(timeout=120)
        self._err_reader.join(timeout=10)
        while not self.err_lines.empty():
            self.err.append(self.err_lines.get())
        return code, out

    def transcript(self, out: str) -> str:
        """What the run printed, for a failed assertion: its stdout, then its stderr (the prompts)."""
        return f"stdout:\n{out}\nstderr:\n{''.join(self.err)}"


def test_a_prompt_takes_its_answer_from_the_stdin_the_labels_come_from(tmp_path: Path) -> None:
    station = Station("run", "--profile", str(profile_with_tests(tmp_path)), *SIMULATE, "--simulate", "2",
                      "--answer", "ask")
    try:
        station.wait_for("line ready")
        first, second = label_of(0), label_of(1)
        station.type(first)
        station.wait_for("Slot 1: Is the LED green? [y/n]")
        station.type("n")  # the prompt is open: this line answers it, it is not taken for a label
        station.type(second)
        station.wait_for("Is the LED green? [y/n]")
        station.type("maybe")
        station.wait_for("Answer y or n.")
        station.type("yes")
        code, out = station.finish()
    finally:
        if station.process.poll() is None:
            station.process.kill()
    results = {line.split()[1]: line.split()[0] for line in out.splitlines() if line.split()[:1] in (["PASS"],
                                                                                                       ["FAIL"])}
    assert results == {first.split()[0]: "FAIL", second.split()[0]: "PASS"}, station.transcript(out)
    assert "the operator answered No to 'Is the LED green?'" in out
    assert code == 1
