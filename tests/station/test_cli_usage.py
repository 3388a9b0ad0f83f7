"""Wrong usage is exit 2 with the (sub-)command's usage and one sentence that names what was wrong: an unknown option
with the closest valid one, a ``--cloud-url`` that is no cloud address (every command that takes it, one check), a
``run --simulate`` given a platform."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.cli import main

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = str(ROOT / "fixtures" / "profiles" / "boron-line.toml")
NOT_A_URL = "127.0.0.1:8765"
REFUSED = (f"argument --cloud-url: {NOT_A_URL!r} is not a cloud address: give an http or https URL with a host, e.g. "
           "https://api.particle.io")


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[str, str]:
    """(the usage line, the error line) of a command refused as wrong usage."""
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    return lines[0], lines[-1]


@pytest.mark.parametrize("argv", [
    ["tray", "import", "tray.csv", "--profile", FIXTURE],
    ["tray", "import-sims", "sims.csv", "--profile", FIXTURE],
    ["run", "--profile", FIXTURE, "--headless"],
    ["profile", "check", FIXTURE],
    ["outbox", "retry", "--profile", FIXTURE],
    ["protection", "disable", "--simulate", "boron:protected", "--profile", FIXTURE],
])
def test_every_command_refuses_a_cloud_url_without_a_scheme_as_wrong_usage(
    capsys: pytest.CaptureFixture[str], argv: list[str],
) -> None:
    usage, error = usage_error(capsys, *argv, "--cloud-url", NOT_A_URL)
    assert usage.startswith("usage: particle-station ")
    assert error.endswith(REFUSED)  # at once: no retries against a URL that cannot work


def test_a_misspelt_option_is_named_before_the_required_option_it_was_meant_to_give(
    capsys: pytest.CaptureFixture[str],
) -> None:
    usage, error = usage_error(capsys, "run", "--profiel", FIXTURE)
    assert usage.startswith("usage: particle-station run ")
    assert error == "particle-station run: error: unknown option --profiel (did you mean --profile?)"


def test_an_unknown_option_gets_the_sub_commands_usage_not_the_top_level_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    usage, error = usage_error(capsys, "run", "--profile", FIXTURE, "--siumlate", "2")
    assert usage.startswith("usage: particle-station run ")
    assert error == "particle-station run: error: unknown option --siumlate (did you mean --simulate?)"


def test_an_unknown_option_of_a_nested_command_and_one_like_no_option(capsys: pytest.CaptureFixture[str]) -> None:
    usage, error = usage_error(capsys, "tray", "import", "t.csv", "--profile", FIXTURE, "--batchsize=5")
    assert usage.startswith("usage: particle-station tray import ")
    assert error == "particle-station tray import: error: unknown option --batchsize (did you mean --batch-size?)"
    _, error = usage_error(capsys, "--zzzz", "run")
    assert error == "particle-station: error: unknown option --zzzz"


def test_abbreviated_options_and_negative_numbers_are_not_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    _, error = usage_error(capsys, "run", "--prof", FIXTURE, "--simulate", "-3")
    assert "unknown option" not in error and "--simulate" in error


def test_run_simulate_given_a_platform_says_it_takes_a_number_of_units(capsys: pytest.CaptureFixture[str]) -> None:
    _, error = usage_error(capsys, "run", "--profile", FIXTURE, "--simulate", "argon")
    assert "run --simulate takes a number of units, not 'argon'" in error
    assert "the units' platform comes from the profile" in error
