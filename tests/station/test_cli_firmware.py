"""``particle-station firmware inspect``: JSON and table output, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from station.cli import main

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "firmware"
REQUIRED_KEYS = {
    "platform_id",
    "platform",
    "module_function",
    "module_index",
    "module_version",
    "start_address",
    "end_address",
    "flags",
    "dependencies",
    "product_id",
    "product_version",
    "suffix_size",
    "sha256",
    "crc_ok",
}


def inspect_json(capsys: pytest.CaptureFixture[str], name: str, *extra: str) -> tuple[int, dict, str]:
    code = main(["firmware", "inspect", str(FIXTURES / name), "--json", *extra])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def test_json_of_a_valid_user_part(capsys):
    code, facts, err = inspect_json(capsys, "boron-user.bin")
    assert code == 0 and err == ""
    assert facts.keys() >= REQUIRED_KEYS
    assert facts["platform_id"] == 13 and facts["platform"] == "boron"
    assert (facts["module_function"], facts["module_index"], facts["module_version"]) == ("user", 2, 6)
    assert (facts["start_address"], facts["end_address"]) == (0xB4000, 0xB4000 + 4092)
    assert facts["dependencies"] == [{"function": "system", "index": 1, "version": 6200, "device_os": "6.2.0"}]
    assert (facts["product_id"], facts["product_version"], facts["suffix_size"]) == (12345, 7, 40)
    assert facts["crc_ok"] is True and facts["sha256_ok"] is True
    raw = (FIXTURES / "boron-user.bin").read_bytes()
    assert facts["sha256"] == raw[-38:-6].hex()


def test_json_lists_flag_names(capsys):
    _, facts, _ = inspect_json(capsys, "boron-softdevice.bin")
    assert facts["flags"] == ["drop_module_info"]
    assert facts["module_function"] == "radio_stack"
    assert facts["dependencies"] == []


def test_json_of_a_system_part_gives_its_device_os(capsys):
    _, facts, _ = inspect_json(capsys, "boron-system-part1.bin")
    assert (facts["module_function"], facts["device_os_version"], facts["prefix_offset"]) == ("system", "6.2.0", 0x200)


def test_json_of_an_rtl872x_user_part(capsys):
    _, facts, _ = inspect_json(capsys, "p2-user.bin")
    assert facts["suffix_size"] == 62
    assert facts["start_address"] + facts["file_size"] == 0x08600000
    assert [e["type"] for e in facts["suffix_extensions"]] == ["dynamic_location", "product_data"]


def test_json_platform_is_null_for_an_unknown_platform_id(capsys, tmp_path: Path):
    from hardware.firmware import ModuleFunction
    from hardware.firmware_builder import build_module

    unknown = tmp_path / "unknown-platform.bin"
    unknown.write_bytes(build_module(250, ModuleFunction.USER_PART, 1, 1, 0x1000, prefix_offset=0))
    assert main(["firmware", "inspect", str(unknown), "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert (facts["platform_id"], facts["platform"]) == (250, None)


def test_json_of_a_module_without_product_data_has_nulls(capsys):
    _, facts, _ = inspect_json(capsys, "photon-user.bin")
    assert facts["product_id"] is None and facts["product_version"] is None


def test_bad_crc_exits_non_zero_with_one_line_reason(capsys):
    code, facts, err = inspect_json(capsys, "boron-user-bad-crc.bin")
    assert code == 1
    assert facts["crc_ok"] is False
    assert err.count("\n") == 1 and "CRC-32 check failed" in err


def test_bad_sha_exits_non_zero(capsys):
    code, facts, err = inspect_json(capsys, "boron-user-bad-sha.bin")
    assert code == 1 and facts["crc_ok"] is True and facts["sha256_ok"] is False
    assert "SHA-256 check failed" in err


def test_truncated_file_exits_non_zero_and_says_truncated(capsys):
    code, facts, err = inspect_json(capsys, "boron-user-truncated.bin")
    assert code == 1 and facts["sha256"] is None
    assert "truncated" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("name", "words"),
    [("empty.bin", "is empty"), ("random.bin", "not a Particle module binary"), ("truncated-header.bin", "only 20")],
)
def test_unparseable_files_give_one_error_line_and_exit_1(capsys, name: str, words: str):
    code = main(["firmware", "inspect", str(FIXTURES / name)])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.startswith("particle-station: error:") and words in err and err.count("\n") == 1


def test_missing_file_names_the_path(capsys, tmp_path: Path):
    code = main(["firmware", "inspect", str(tmp_path / "gone.bin")])
    assert code == 1 and "gone.bin does not exist" in capsys.readouterr().err


def test_human_output_is_an_aligned_table(capsys):
    assert main(["firmware", "inspect", str(FIXTURES / "boron-user.bin")]) == 0
    lines = capsys.readouterr().out.splitlines()
    labels = {line[:20].strip(): line[20:] for line in lines}
    assert labels["Module"] == "user part, index 2, version 6"
    assert labels["Platform"] == "Boron (boron, platform 13)"
    assert labels["Needs"] == "system part 1, version 6200 (Device OS 6.2.0)"
    assert labels["Product"] == "id 12345, version 7"
    assert labels["Result"].startswith("OK")
    assert all(len(line) <= 20 or line[19] == " " for line in lines)


def test_human_output_lists_problems(capsys):
    assert main(["firmware", "inspect", str(FIXTURES / "boron-user-bad-crc.bin")]) == 1
    out = capsys.readouterr().out
    assert "CRC-32              " in out and "MISMATCH" in out
    assert "Result              NOT OK: 1 problem" in out


def test_platform_option_checks_the_file_for_the_device(capsys):
    code, facts, err = inspect_json(capsys, "argon-user.bin", "--platform", "boron")
    assert code == 1
    assert [p["code"] for p in facts["problems"]] == ["wrong_platform"]
    assert "Argon" in err and "Boron" in err


def test_device_checks_pass_for_the_right_device(capsys):
    args = ["--platform", "boron", "--device-os", "6.2.0", "--product-id", "12345", "--product-version", "7"]
    code, facts, _ = inspect_json(capsys, "boron-user.bin", *args, "--require-user-part")
    assert code == 0 and facts["valid"] is True


def test_device_checks_without_platform_are_refused(capsys):
    code = main(["firmware", "inspect", str(FIXTURES / "boron-user.bin"), "--device-os", "6.2.0"])
    assert code == 1 and "need --platform" in capsys.readouterr().err


def test_unknown_platform_name_is_one_line(capsys):
    code = main(["firmware", "inspect", str(FIXTURES / "boron-user.bin"), "--platform", "toaster"])
    assert code == 1 and "unknown platform 'toaster'" in capsys.readouterr().err


def test_firmware_without_action_prints_help(capsys):
    assert main(["firmware"]) == 2
    assert "inspect" in capsys.readouterr().out


def _installed_command() -> Path:
    return Path(sys.executable).parent / "particle-station"


@pytest.mark.skipif(not _installed_command().exists(), reason="particle-station is not installed in this venv")
def test_installed_command_prints_json_and_exit_codes():
    good = subprocess.run(
        [str(_installed_command()), "firmware", "inspect", str(FIXTURES / "p2-user.bin"), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert good.returncode == 0, good.stderr
    facts = json.loads(good.stdout)
    assert (facts["platform"], facts["module_function"], facts["crc_ok"]) == ("p2", "user", True)
    bad = subprocess.run(
        [str(_installed_command()), "firmware", "inspect", str(FIXTURES / "boron-user-bad-crc.bin"), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["crc_ok"] is False
    assert bad.stderr.count("\n") == 1 and "CRC-32" in bad.stderr
